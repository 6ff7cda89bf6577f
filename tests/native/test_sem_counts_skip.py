"""A set's ncnt/zcnt are kept when no task that ran since the last read sleeps or slept in it
(core/snapshot/activity.py, binding/activity_helpers.c), and never shown stale: a waiter
that comes, one that dies, one woken by another's semop, SETVAL, a set removed and made
again under the same id. Every answer equals a plain GETNCNT/GETZCNT read of every
semaphore; the fallback (no task evidence) gives the same answers.

A steady read keeps counts only when the set's times are two seconds old (the rule that
keeps its pids) and the task evidence is complete: processes whose syscall files are closed
even to root (a sandbox's own init) are vouched for, as SHMTOP_ACTIVITY_VOUCHED lets an
operator do; they cannot wait on the sets of this session's private IPC namespace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from helpers import MakeSem, wait_until

from shmtop.core.binding import native
from shmtop.core.snapshot import activity, collect
from shmtop.core.snapshot.activity import Activity, TaskActivity
from shmtop.core.snapshot.collect import Collector

# A child that does one semop (blocking unless it can go at once) and says when it is done.
SEMOP_CHILD = """
import sys
from shmtop.core.binding import native
native.semop(int(sys.argv[1]), [(int(sys.argv[2]), int(sys.argv[3]), 0)])
print("done", flush=True)
sys.stdin.read()
"""


def closed_to_us() -> frozenset[int]:
    """Processes whose syscall files we cannot read (none where root reads all)."""
    closed = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/syscall", "rb") as file:
                file.read()
        except PermissionError:
            closed.add(int(name))
        except OSError:
            pass
    return frozenset(closed)


class Reader:
    """What the Collector does a snapshot: a task refresh, then the values."""

    def __init__(self, skip: bool = True) -> None:
        self.values = native.SemValueReader()
        self.tasks = TaskActivity(semops=True, vouched=closed_to_us()) if skip else None
        self.last: Activity | None = None

    def read(self, sets: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
        unsettled = None
        if self.tasks is not None:
            self.last = self.tasks.refresh()
            unsettled = self.last.semids if self.last.complete else None
        sleepers = self.last.sleepers if self.last is not None else None
        return self.values.read(sets, unsettled, sleepers)


def plain(sets: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Every value, count and pid read afresh, checked against one semctl at a time."""
    flat, errs = native.sem_values_flat(sets)
    at = 0
    for (semid, nsems), number in zip(sets, errs, strict=True):
        for semnum in range(nsems if not number else 0):
            ncnt, zcnt, _ = native.sem_counts(semid, semnum)
            assert flat[at + 4 * semnum + 1 : at + 4 * semnum + 3] == [ncnt, zcnt]
        at += 4 * nsems
    return flat, errs


def semop_child(semid: int, semnum: int, op: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SEMOP_CHILD, str(semid), str(semnum), str(op)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


# semop and semtimedop of the build's arch (what /proc/PID/syscall shows).
SEMOP_CALLS = {"x86_64": {"65", "220"}, "aarch64": {"193", "192"}}.get(os.uname().machine, set())


def asleep_in(pid: int, semid: int) -> bool:
    """Whether the task sleeps in semop or semtimedop on semid."""
    try:
        with open(f"/proc/{pid}/syscall", encoding="ascii") as file:
            fields = file.read().split()
    except OSError:
        return False
    return len(fields) > 2 and fields[0] in SEMOP_CALLS and fields[1] == hex(semid)


def wait_blocked(child: subprocess.Popen[str], semid: int) -> None:
    wait_until(lambda: asleep_in(child.pid, semid), "the child sleeps in semop")


def stop(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.kill()
    child.wait(timeout=30)
    for stream in (child.stdin, child.stdout):
        if stream is not None:
            stream.close()


def wait_until_old(semid: int) -> None:
    """Until the set's last change is two seconds older than the clock (the keep rule)."""

    def old() -> bool:
        row = next(r for r in native.sem_table() if r.id == semid)
        return time.time() >= max(row.otime, row.ctime) + 2.2

    wait_until(old, "the set's times to age")


def steady(reader: Reader, sets: list[tuple[int, int]]) -> None:
    """Read until a read kept the first set's counts: a mark survives it (5 moved from the
    first semaphore's zcnt to its ncnt, so that they add up to the sleepers still)."""

    def kept() -> bool:
        reader.read(sets)
        out = reader.values._buffers[2]  # type: ignore[index]  # the counts it keeps
        ncnt, zcnt = out[1], out[2]
        out[1], out[2] = ncnt + 5, zcnt - 5
        values, _ = reader.read(sets)
        out[1], out[2] = ncnt, zcnt
        assert reader.last is not None
        if values[1:3] == [ncnt + 5, zcnt - 5]:
            assert reader.last.complete
            return True
        assert values[1:3] == [ncnt, zcnt]
        return False

    wait_until(kept, "a read with complete task evidence keeps the counts")


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    made: list[subprocess.Popen[str]] = []
    yield made
    for child in made:
        stop(child)


@pytest.mark.parametrize("skip", [True, False], ids=["evidence", "fallback"])
def test_a_waiter_that_comes_is_counted_though_no_time_moved(
    make_sem: MakeSem, children: list[subprocess.Popen[str]], skip: bool
) -> None:
    semid = make_sem(2)
    native.sem_setval(semid, 1, 1)
    wait_until_old(semid)
    sets = [(semid, 2)]
    reader = Reader(skip)
    if skip:
        steady(reader, sets)
    assert reader.read(sets) == plain(sets)
    stamps = next(r for r in native.sem_table() if r.id == semid)
    children.append(semop_child(semid, 0, -1))  # semaphore 0 is 0: it waits (ncnt)
    wait_blocked(children[-1], semid)
    children.append(semop_child(semid, 1, 0))  # semaphore 1 is 1: it waits for 0 (zcnt)
    wait_blocked(children[-1], semid)
    again = next(r for r in native.sem_table() if r.id == semid)
    assert (again.otime, again.ctime) == (stamps.otime, stamps.ctime)  # nothing to see there
    values, errs = reader.read(sets)
    assert (values, errs) == plain(sets)
    assert values[1] == 1 and values[4 + 2] == 1  # ncnt of 0, zcnt of 1
    assert reader.read(sets) == plain(sets)  # and a steady read after keeps them right


@pytest.mark.parametrize("skip", [True, False], ids=["evidence", "fallback"])
def test_a_waiter_killed_leaves_the_count(
    make_sem: MakeSem, children: list[subprocess.Popen[str]], skip: bool
) -> None:
    semid = make_sem(1)
    children.append(semop_child(semid, 0, -1))
    wait_blocked(children[-1], semid)
    wait_until_old(semid)
    sets = [(semid, 1)]
    reader = Reader(skip)
    if skip:
        steady(reader, sets)
    values, _ = reader.read(sets)
    assert values[1] == 1
    children[-1].send_signal(signal.SIGKILL)
    children[-1].wait(timeout=30)
    values, errs = reader.read(sets)
    assert (values, errs) == plain(sets)
    assert values[1] == 0


@pytest.mark.parametrize("skip", [True, False], ids=["evidence", "fallback"])
def test_a_waiter_woken_by_another_and_setval(
    make_sem: MakeSem, children: list[subprocess.Popen[str]], skip: bool
) -> None:
    semid = make_sem(2)
    first = semop_child(semid, 0, -1)
    second = semop_child(semid, 1, -1)
    children.extend((first, second))
    wait_blocked(first, semid)
    wait_blocked(second, semid)
    wait_until_old(semid)
    sets = [(semid, 2)]
    reader = Reader(skip)
    if skip:
        steady(reader, sets)
    assert reader.read(sets) == plain(sets)
    native.semop(semid, [(0, 1, 0)])  # wakes the first: its op done by us (otime moves)
    assert first.stdout is not None and first.stdout.readline() == "done\n"
    values, errs = reader.read(sets)
    assert (values, errs) == plain(sets)
    assert values[1] == 0 and values[5] == 1
    native.sem_setval(semid, 1, 1)  # wakes the second (ctime moves)
    assert second.stdout is not None and second.stdout.readline() == "done\n"
    values, errs = reader.read(sets)
    assert (values, errs) == plain(sets)
    assert values[5] == 0


@pytest.mark.parametrize("skip", [True, False], ids=["evidence", "fallback"])
def test_a_set_removed_and_made_again_under_its_id(
    make_sem: MakeSem, children: list[subprocess.Popen[str]], skip: bool
) -> None:
    semid = make_sem(1)
    children.append(semop_child(semid, 0, -1))
    wait_blocked(children[-1], semid)
    wait_until_old(semid)
    sets = [(semid, 1)]
    reader = Reader(skip)
    if skip:
        steady(reader, sets)
    assert reader.read(sets)[0][1] == 1
    native.sem_rmid(semid)  # the waiter fails with EIDRM and ends
    children[-1].wait(timeout=30)
    with open("/proc/sys/kernel/sem_next_id", "w", encoding="ascii") as file:
        file.write(str(semid))  # our own IPC namespace's: the next set takes this id
    again = make_sem(1)
    assert again == semid
    values, errs = reader.read(sets)
    assert (values, errs) == plain(sets)
    assert values[1] == 0


def test_the_collector_keeps_and_falls_back_alike(
    make_sem: MakeSem,
    children: list[subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Collector's own reads, with the skip (vouching as the tests do) and without."""
    monkeypatch.setenv(activity.VOUCHED_VARIABLE, ",".join(map(str, closed_to_us())))
    # however many tasks of a loaded machine run, read their syscall files (no fallback)
    monkeypatch.setattr(collect, "sem_task_reads", lambda semaphores: 1 << 30)
    # and look at the tasks for this one semaphore (worth it only for many, as a rule)
    monkeypatch.setattr(collect, "SKIP_MIN_SEMAPHORES", 0)
    monkeypatch.setattr(collect, "SCHEDSTAT_READ_SEMCTLS", 0)
    semid = make_sem(1)
    wait_until_old(semid)

    def counts(collector: Collector) -> tuple[int, int]:
        found = next(s for s in collector.snapshot().semaphore_sets if s.id == semid)
        assert found.semaphores is not None
        return found.semaphores[0].ncnt, found.semaphores[0].zcnt

    with_skip = Collector(attachments=False)
    monkeypatch.setenv(activity.SKIP_VARIABLE, "0")
    without = Collector(attachments=False)

    def kept() -> bool:  # a snapshot keeps a mark (as in steady()): the skip is at work
        counts(with_skip)
        out = with_skip._sem_values._buffers[2]  # type: ignore[index]
        out[1], out[2] = 5, -5
        found = counts(with_skip) == (5, -5)
        out[1] = out[2] = 0
        with_skip._sem_read = None  # forget the marked snapshot
        return found

    try:
        assert without._sem_activity is None and with_skip._sem_activity is not None
        assert counts(with_skip) == counts(without) == (0, 0)
        wait_until(kept, "a snapshot with complete task evidence keeps the counts")
        children.append(semop_child(semid, 0, -1))
        wait_blocked(children[-1], semid)
        assert counts(with_skip) == counts(without) == (1, 0)
        children[-1].kill()
        children[-1].wait(timeout=30)
        assert counts(with_skip) == counts(without) == (0, 0)
    finally:
        with_skip.close()
        without.close()


def test_the_report_names_what_ran_appeared_and_vanished(
    children: list[subprocess.Popen[str]],
) -> None:
    tasks = TaskActivity()
    first = tasks.refresh()
    assert not first.complete and first.why == "first look"
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE, text=True)  # fmt: skip
    children.append(child)
    seen = tasks.refresh()
    assert child.pid in seen.appeared and child.pid in seen.changed
    child.kill()
    child.wait(timeout=30)
    gone = tasks.refresh()
    assert child.pid in gone.vanished and child.pid not in gone.appeared
    assert os.getpid() in gone.ran  # our own thread runs as it reads


def test_a_count_its_sleepers_do_not_account_for_is_read_again(
    make_sem: MakeSem, children: list[subprocess.Popen[str]]
) -> None:
    """The race the sleepers guard: a task queued on the set while we read it, come after
    one look at the tasks and gone before the next, is in the counts we read yet in no
    look. Its count (put in by hand here) adds up to more than the tasks seen asleep."""
    semid = make_sem(2)
    children.append(semop_child(semid, 1, -1))  # one sleeper seen, on semaphore 1
    wait_blocked(children[-1], semid)
    wait_until_old(semid)
    sets = [(semid, 2)]
    reader = Reader()
    steady(reader, sets)
    assert reader.last is not None and reader.last.sleepers.get(semid) == 1
    out = reader.values._buffers[2]  # type: ignore[index]

    def corrected() -> bool:
        out[1] += 1  # a visitor's ncnt left behind on semaphore 0
        values, errs = reader.read(sets)
        assert (values, errs) == plain(sets)
        assert values[1] == 0 and values[5] == 1
        assert reader.last is not None
        return reader.last.complete and semid not in reader.last.semids  # nothing ran there

    wait_until(corrected, "a read with complete evidence, the set unsettled by no task")


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_outside_the_initial_pid_namespace_there_is_no_evidence() -> None:
    """Tasks outside our pid namespace could wait on our sets unseen: never complete, and
    refresh_if_worth does not even look."""
    script = (
        "from shmtop.core.snapshot.activity import TaskActivity\n"
        "tasks = TaskActivity(semops=True)\n"
        "tasks.refresh()\n"
        "second = tasks.refresh()\n"
        "print(second.complete, second.why, tasks.refresh_if_worth())\n"
    )
    done = subprocess.run(
        ["unshare", "--pid", "--fork", sys.executable, "-c", script],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "False not in the initial pid namespace None"


# A child whose main thread waits for a line, then starts a thread that does one
# semtimedop (timeout argv[2] seconds, 0: none) and says when it returned.
THREAD_CHILD = """
import sys, threading
from shmtop.core.binding._native import ffi, lib
semid, seconds = int(sys.argv[1]), int(sys.argv[2])
def wait():
    sops = ffi.new("struct sembuf[]", 1)
    sops[0].sem_num, sops[0].sem_op, sops[0].sem_flg = 0, -1, 0
    timeout = ffi.new("struct timespec *")
    timeout.tv_sec = seconds
    lib.semtimedop(semid, sops, 1, timeout if seconds else ffi.NULL)
    print("returned", flush=True)
print("ready", flush=True)
sys.stdin.readline()
threading.Thread(target=wait, daemon=True).start()
sys.stdin.read()
"""


def thread_child(semid: int, seconds: int) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", THREAD_CHILD, str(semid), str(seconds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def a_thread_asleep_in(pid: int, semid: int) -> bool:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    return any(asleep_in_task(pid, int(tid), semid) for tid in tids if int(tid) != pid)


def asleep_in_task(pid: int, tid: int, semid: int) -> bool:
    try:
        with open(f"/proc/{pid}/task/{tid}/syscall", encoding="ascii") as file:
            fields = file.read().split()
    except OSError:
        return False
    return len(fields) > 2 and fields[0] in SEMOP_CALLS and fields[1] == hex(semid)


@pytest.mark.parametrize("seconds", [0, 3], ids=["stays", "times-out"])
def test_a_new_thread_of_a_known_process_that_waits_and_one_that_times_out(
    make_sem: MakeSem, children: list[subprocess.Popen[str]], seconds: int
) -> None:
    """The thread is new in a process already seen (its task/ is listed again because its
    main thread ran); a timeout ends a wait without moving any time of the set."""
    semid = make_sem(1)
    child = thread_child(semid, seconds)
    children.append(child)
    wait_until_old(semid)
    sets = [(semid, 1)]
    reader = Reader()
    steady(reader, sets)
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    wait_until(lambda: a_thread_asleep_in(child.pid, semid), "the new thread sleeps in semop")
    values, errs = reader.read(sets)
    assert (values, errs) == plain(sets)
    assert values[1] == 1
    if seconds:
        assert child.stdout is not None and child.stdout.readline() == "returned\n"
        values, errs = reader.read(sets)
        assert (values, errs) == plain(sets)
        assert values[1] == 0


def test_looks_back_off_while_the_evidence_stays_incomplete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tasks = TaskActivity(semops=True)
    tasks._outside = None  # as in the initial pid namespace, whatever this one is
    answers = iter([False] * 5 + [True, True])
    looks: list[bool] = []

    def refresh(max_reads: int = 1 << 30) -> Activity:
        complete = next(answers)
        looks.append(complete)
        empty: frozenset[int] = frozenset()
        return Activity(empty, empty, empty, complete, None if complete else "too many tasks ran")

    monkeypatch.setattr(tasks, "refresh", refresh)
    pattern = "".join("-" if tasks.refresh_if_worth() is None else "L" for _ in range(38))
    # looked (incomplete), skipped 1, 2, 4, 8, 16; then complete looks, none skipped
    assert pattern == "L-L--L----L--------L" + "-" * 16 + "LL"
    assert looks == [False] * 5 + [True, True]


def test_a_refresh_no_snapshot_took_is_merged_into_the_next(
    children: list[subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Collector.refresh_activity hands out a refresh; when the snapshot it was for never
    completes (it raised), the next refresh must still tell what that one told (each
    answers "since the one before"), and once a snapshot completes, no longer."""
    monkeypatch.setenv(activity.SKIP_VARIABLE, "1")
    collector = Collector()
    try:
        collector.snapshot()
        if collector.refresh_activity() is None:
            pytest.skip("this Collector keeps no task evidence")
        collector.snapshot()  # took that refresh
        code = "import sys; print('ready', flush=True); sys.stdin.read()"
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)  # fmt: skip
        children.append(child)
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        wait_until(lambda: asleep(child.pid), "the child sleeps in its read")
        told: Activity | None = None
        for _ in range(20):  # refreshes for snapshots that then failed, until one saw it
            told = collector.refresh_activity()
            if told is not None and child.pid in told.changed:
                break
        else:
            pytest.fail("no refresh told that the child appeared")
        again = collector.refresh_activity()  # it sleeps since: only a merge tells of it
        assert again is not None and child.pid in again.changed
        collector.snapshot()  # completes: what they told is taken
        after = collector.refresh_activity()
        assert after is not None and child.pid not in after.changed
    finally:
        collector.close()


def asleep(pid: int) -> bool:
    """Whether the process's (one) thread sleeps in a system call now."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return stat.read().rsplit(b")", 1)[1].split()[0] == b"S"
