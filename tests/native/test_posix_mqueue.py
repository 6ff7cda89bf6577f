"""POSIX message queues on real queues and real child processes (mq_* through the binding).

The session runs in a private IPC namespace (conftest), so the queues are the session's
own; each test still unlinks every queue it made. No mqueue fs is mounted in the
session's private mount namespace unless a test mounts one (on a temporary directory):
the default scan then reads through a detached mount (or the helper's private one).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import wait_until
from pmq_kids import Kid, Queues, identity, start

from shmtop.core.binding import native
from shmtop.core.posix import mqueue, mqueue_actions, mqueue_private
from shmtop.core.posix.actions import PosixOutcome
from shmtop.core.posix.mqueue import MqQueue, MqSnapshot, take_snapshot

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's fds: root")

PREFIX = f"/shmtop-pmq-{os.getpid()}-"
TESTS = Path(__file__).resolve().parent.parent


@pytest.fixture
def queues() -> Iterator[Queues]:
    made = Queues(PREFIX)
    yield made
    made.cleanup()
    left = [q.name for q in take_snapshot([]).queues if q.name.startswith(PREFIX)]
    assert not left, f"queues left behind: {left}"


def only(snapshot: MqSnapshot, name: str) -> MqQueue:
    found = snapshot.named(name)
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def test_counts_and_bytes_after_a_childs_sends_and_its_fd_as_a_holder(
    queues: Queues, mq_kids: list[Kid]
) -> None:
    name = queues.make(max_messages=5, max_size=48)
    kid = start(mq_kids, name, "w", "send:hello", "send:1234567", "send:x")
    queue = only(take_snapshot([kid.pid]), name)
    state = queue.entry.state
    assert (state.messages, state.max_messages, state.max_size) == (3, 5, 48)
    assert state.qsize == len("hello") + len("1234567") + len("x")
    assert state.notify_pid == 0 and state.problem is None
    assert queue.key == identity(name) and queue.linked
    assert [(h.pid, h.fd, h.readable, h.writable) for h in queue.holders] == [
        (kid.pid, kid.fd, False, True)
    ]
    assert queue.entry.mode == 0o640 and queue.entry.uid == os.geteuid()


def test_a_blocked_receiver_is_a_waiter_of_its_queue_and_of_no_other(
    queues: Queues, mq_kids: list[Kid]
) -> None:
    empty, other = queues.make(), queues.make()
    start(mq_kids, other, "r")  # a holder of the other queue, blocked nowhere
    kid = start(mq_kids, empty, "r", "receive")

    def receiving() -> bool:
        return bool(only(take_snapshot(), empty).receivers)

    wait_until(receiving, "the child blocks in mq_receive")
    snapshot = take_snapshot()
    queue = only(snapshot, empty)
    assert [(w.pid, w.tid, w.fd, w.sending) for w in queue.waiters] == [
        (kid.pid, kid.pid, kid.fd, False)
    ]
    assert not only(snapshot, other).waiters
    assert snapshot.processes[kid.pid].pid == kid.pid


def test_a_blocked_sender_on_a_full_queue_is_found_and_goes_once_a_message_is_taken(
    queues: Queues, mq_kids: list[Kid]
) -> None:
    full = queues.make(max_messages=1, max_size=16)
    kid = start(mq_kids, full, "w", "send:first", "send-block:second")
    wait_until(lambda: bool(only(take_snapshot(), full).senders), "the child blocks in mq_send")
    queue = only(take_snapshot(), full)
    assert [(w.pid, w.fd, w.sending) for w in queue.waiters] == [(kid.pid, kid.fd, True)]
    assert queue.entry.state.messages == 1 == queue.entry.state.max_messages
    mqd = native.mq_open(full, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert native.mq_receive(mqd, 16)[1] == b"first"
    finally:
        native.mq_close(mqd)
    kid.process.wait(timeout=60)  # its send went through: it exits
    queue = only(take_snapshot(), full)
    assert not queue.waiters and queue.entry.state.messages == 1 and queue.entry.state.qsize == 6


def test_an_unlinked_queue_still_held_open_is_found_through_the_holders_fd(
    queues: Queues, mq_kids: list[Kid]
) -> None:
    name = queues.make()
    kid = start(mq_kids, name, "rw", "send:kept")
    key = identity(name)
    native.mq_unlink(name)
    found = [q for q in take_snapshot().queues if q.key == key]
    assert len(found) == 1
    queue = found[0]
    assert not queue.linked and queue.name == name
    assert queue.entry.state.messages == 1 and queue.entry.state.qsize == 4
    assert [h.pid for h in queue.holders] == [kid.pid]
    removal = mqueue_actions.remove(queue)
    assert removal.outcome is PosixOutcome.REFUSED and f"{kid.pid} (fd {kid.fd})" in removal.detail


def _mountinfo() -> bytes:
    with open("/proc/self/mountinfo", "rb") as info:
        return info.read()


@pytest.fixture
def no_dev_mqueue() -> Iterator[None]:
    """/dev/mqueue unmounted in the session's private mount namespace (if it was mounted)."""
    if mqueue.mqueue_mount():
        native.umount(mqueue.MQUEUE_DIR, native.MNT_DETACH)
    yield


@pytest.mark.parametrize("detached", [True, False], ids=["detached-mount", "helper"])
def test_without_a_mount_queues_are_read_and_our_mount_table_stays(
    queues: Queues, no_dev_mqueue: None, mq_kids: list[Kid], detached: bool
) -> None:
    name = queues.make()
    kid = start(mq_kids, name, "rw", "send:seen")
    before = _mountinfo()
    snapshot = take_snapshot([kid.pid], detached=detached)
    assert _mountinfo() == before
    assert snapshot.source == (mqueue.DETACHED if detached else mqueue_private.SOURCE)
    assert snapshot.problem is None
    queue = only(snapshot, name)
    assert queue.key == identity(name) and queue.entry.state.messages == 1
    assert [h.pid for h in queue.holders] == [kid.pid]  # the same device as the fds


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[str]:
    point = tmp_path / "mqueue"
    point.mkdir()
    yield str(point)
    with contextlib.suppress(OSError):
        native.umount(str(point), native.MNT_DETACH)


def test_a_mounted_mqueue_fs_is_read_directly_and_gives_the_same_queue(
    queues: Queues, mount_point: str
) -> None:
    name = queues.make()
    native.mount("shmtop-test", mount_point, "mqueue")
    snapshot = take_snapshot([], directory=mount_point)
    assert snapshot.source == mount_point and snapshot.problem is None
    assert only(snapshot, name).key == identity(name)


def test_a_mount_of_another_ipc_namespaces_queues_is_noticed_and_ours_are_read(
    queues: Queues, mount_point: str, mq_kids: list[Kid]
) -> None:
    ours = queues.make()
    # A child in an IPC namespace of its own (our mount namespace) mounts its mqueue fs.
    code = textwrap.dedent(f"""
        import os, sys
        from shmtop.core.binding import native
        native.unshare(native.CLONE_NEWIPC)
        native.mount("shmtop-test", {mount_point!r}, "mqueue")
        native.mq_open("/theirs", os.O_CREAT | os.O_RDWR)
        print("ready", flush=True)
        sys.stdin.read()
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        assert os.listdir(mount_point) == ["theirs"]
        snapshot = take_snapshot([], directory=mount_point)
        assert snapshot.problem is not None and "another IPC namespace" in snapshot.problem
        assert [q.name for q in snapshot.queues if q.name.startswith(PREFIX)] == [ours]
        assert not snapshot.named("/theirs")
    finally:
        child.kill()
        child.wait()


def test_removal_refuses_a_name_that_now_holds_another_queue(queues: Queues) -> None:
    name = queues.make()
    old = only(take_snapshot([]), name)
    native.mq_unlink(name)
    native.mq_close(native.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    removal = mqueue_actions.remove(old)
    assert removal.outcome is PosixOutcome.CHANGED
    assert identity(name) != old.key  # the new queue is still there


def test_removal_unlinks_the_queue_and_says_who_still_holds_it(
    queues: Queues, mq_kids: list[Kid]
) -> None:
    idle, held = queues.make(), queues.make()
    kid = start(mq_kids, held, "r")
    snapshot = take_snapshot()
    assert mqueue_actions.remove(only(snapshot, idle)).outcome is PosixOutcome.REMOVED
    removal = mqueue_actions.remove(only(snapshot, held))
    assert removal.outcome is PosixOutcome.UNLINKED_IN_USE and str(kid.pid) in removal.detail
    after = take_snapshot()
    assert not after.named(idle)
    assert [q.linked for q in after.named(held)] == [False]  # kept alive by the holder
    assert mqueue_actions.remove(only(snapshot, idle)).outcome is PosixOutcome.NOT_FOUND


def test_a_hostile_name_is_kept_as_bytes_and_removed_by_them(queues: Queues) -> None:
    name = queues.make(suffix="\x1b]2;pwned\x07\udcff")  # ESC, BEL, a byte not UTF-8
    queue = only(take_snapshot([]), name)
    assert queue.entry.raw_name.endswith(b"\x1b]2;pwned\x07\xff")
    assert mqueue_actions.remove(queue).outcome is PosixOutcome.REMOVED


def test_a_registered_notification_shows_its_pid_and_signal_and_survives_our_reads(
    queues: Queues, mq_kids: list[Kid]
) -> None:
    name, plain = queues.make(), queues.make()
    kid = start(mq_kids, name, "r", f"notify:{signal.SIGUSR1}")
    for _ in range(2):  # our open, read and close leave the registration alone
        snapshot = take_snapshot([kid.pid])
        state = only(snapshot, name).entry.state
        assert (state.notify_pid, state.notify, state.signo) == (kid.pid, 0, signal.SIGUSR1)
        assert snapshot.processes[kid.pid].pid == kid.pid
    assert only(snapshot, plain).entry.state.notify_pid == 0  # NOTIFY 0 too: use the pid
    with pytest.raises(OSError) as taken:  # the kernel still has the child registered
        mqd = native.mq_open(name, os.O_RDONLY)
        try:
            native.mq_notify(mqd, signal.SIGUSR2)
        finally:
            native.mq_close(mqd)
    assert taken.value.errno == errno.EBUSY


def test_a_scan_changes_no_count_and_no_mtime_but_moves_atime(
    queues: Queues, mount_point: str
) -> None:
    name = queues.make()
    mqd = native.mq_open(name, os.O_WRONLY)
    try:
        native.mq_send(mqd, b"one")
    finally:
        native.mq_close(mqd)
    native.mount("shmtop-test", mount_point, "mqueue")
    os.utime(f"{mount_point}{name}", (1000, 2000))  # times no scan could set
    first = only(take_snapshot([], directory=mount_point), name).entry
    assert (first.atime, first.mtime) == (1000, 2000)  # stat before our read
    second = only(take_snapshot([], directory=mount_point), name).entry
    assert (second.state.messages, second.state.qsize) == (1, 3)
    assert second.mtime == 2000  # the last send or receive: untouched by our reads
    assert second.atime > 2000  # the kernel sets atime (and ctime) on every read of the file


def test_a_machine_without_a_system_call_table_says_waiters_are_unknown(
    queues: Queues, mq_kids: list[Kid]
) -> None:
    name = queues.make()
    kid = start(mq_kids, name, "r", "receive")
    wait_until(lambda: bool(only(take_snapshot([kid.pid]), name).receivers), "the child blocks")
    blind = take_snapshot([kid.pid], machine="vax")
    assert blind.problem == "no system call table for vax: blocked senders and receivers unknown"
    assert not only(blind, name).waiters and not blind.complete
