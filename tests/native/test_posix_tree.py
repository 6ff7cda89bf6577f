"""The tree view's POSIX lines (text/usage_tree.py): real children mapping and holding real
/dev/shm objects, a named semaphore and a queue, each under the process that uses it."""

from __future__ import annotations

import contextlib
import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import helpers
import pytest
from futex_kids import Child
from futex_kids import start as start_futex_kid

from shmtop.core.binding import native
from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import take_snapshot
from shmtop.core.snapshot.collect import Collector
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.text.usage_tree import TreeRow, build_tree

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")
TESTS = Path(__file__).resolve().parent.parent
NAME = f"shmtop-tree-{os.getpid()}"
SEM = f"shmtop-tree-sem-{os.getpid()}"
QUEUE = f"/shmtop-tree-q-{os.getpid()}"


@pytest.fixture
def made() -> Iterator[None]:
    """/dev/shm/NAME (8 KiB), sem.SEM (a glibc sem_t of value 2) and queue QUEUE (1 message)."""
    with open(f"/dev/shm/{NAME}", "wb") as file:
        file.truncate(8192)
    with open(f"/dev/shm/sem.{SEM}", "wb") as file:
        file.write(struct.pack("<II", 2, 0).ljust(32, b"\0"))
    mqd = native.mq_open(QUEUE, os.O_CREAT | os.O_RDWR, 0o600)
    native.mq_send(mqd, b"hello")
    native.mq_close(mqd)
    try:
        yield
    finally:
        for path in (f"/dev/shm/{NAME}", f"/dev/shm/sem.{SEM}"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        with contextlib.suppress(FileNotFoundError):
            native.mq_unlink(QUEUE)


@contextlib.contextmanager
def child(command: list[str]) -> Iterator[int]:
    """A child that says a JSON line once ready; its pid; killed at the end."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # bounded: the child dies with an error
        assert line, f"child {command} failed: {process.wait()}"
        yield int(json.loads(line)["pid"])
    finally:
        process.kill()
        process.wait()


def pshm(path: str, *actions: str) -> list[str]:
    return [sys.executable, str(TESTS / "pshm_child.py"), path, *actions]


def under(tree_rows: TreeRow, pid: int) -> list[str]:
    (process,) = [row for row in tree_rows.children if row.pid == pid and row.role == "process"]
    return [row.label for row in process.children]


def test_posix_objects_show_under_the_processes_that_map_hold_or_wait_on_them(
    made: None,
) -> None:
    with (
        child(pshm(f"/dev/shm/{NAME}", "map-rw", "map-rw")) as writer,
        child(pshm(f"/dev/shm/{NAME}", "map-ro", "hold")) as reader,
        child(pshm(f"/dev/shm/sem.{SEM}", "map-rw")) as poster,
        child([sys.executable, str(TESTS / "pmq_child.py"), QUEUE, "r"]) as holder,
    ):
        collector = Collector()
        try:
            snapshot = collector.snapshot()
        finally:
            collector.close()
        # Only our children's maps and fds: a process outside the session (another job on
        # the machine) mapping files of its own tmpfs would add objects to root's count.
        posix = take_snapshot([writer, reader, poster, holder])
        tree = build_tree(snapshot, None, None, posix, mqueue.take_snapshot())
        bare = build_tree(snapshot)
    processes = tree.processes
    assert under(processes, writer) == [f"pshm /{NAME}: mapped rw x2  · 8.0K  allocated 0B"]
    (line,) = under(processes, reader)
    assert line.startswith(f"pshm /{NAME}: mapped ro; holds fd ")
    assert line.endswith("(r)  · 8.0K  allocated 0B")
    assert under(processes, poster) == [f"psem /{SEM}: mapped rw  · value 2, nwaiters 0"]
    (queue,) = under(processes, holder)
    assert queue.startswith(f"pmq {QUEUE}: holds fd ") and queue.endswith("(r)  · 1 message, 5B")
    # Under its owner, each object with who maps, holds it.
    info = os.stat(f"/dev/shm/{NAME}")
    owned = {row.key: row for row in tree.owners.walk()}
    pshm_row = owned[f"oroot/pshm{info.st_dev}:{info.st_ino}"]
    assert pshm_row.label == f"pshm /{NAME}  8.0K  allocated 0B"
    users = [child.label for child in pshm_row.children]
    assert users[0].startswith(f"mapped rw x2: {writer} (")
    assert users[1].startswith(f"mapped ro: {reader} (")
    assert users[2].startswith("holds fd ") and f"(r): {reader} (" in users[2]
    (queue_row,) = [row for row in owned.values() if row.label.startswith(f"pmq {QUEUE}  ")]
    assert [child.pid for child in queue_row.children] == [holder]
    root = owned["oroot"]
    assert "1 pshm" in root.label and "1 psem" in root.label and "1 pmq" in root.label
    # Without the POSIX scans the tree is what it was: none of these processes.
    assert {writer, reader, poster, holder}.isdisjoint(row.pid for row in bare.processes.children)
    keys = [row.key for row in processes.walk()]
    assert len(keys) == len(set(keys))


def test_threads_blocked_on_a_named_semaphore_or_a_queue_are_waiting_under_their_process(
    child_program: Path, kids: list[Child], sem_name: str
) -> None:
    waiter = start_futex_kid(kids, child_program, "semwait", sem_name)
    assert waiter.line()[0] == "ready"
    empty = f"{QUEUE}-empty"
    mqd = native.mq_open(empty, os.O_CREAT | os.O_RDWR, 0o600)
    native.mq_close(mqd)
    try:
        with child([sys.executable, str(TESTS / "pmq_child.py"), empty, "r", "receive"]) as got:
            scanner = WaiterScanner()

            def blocked() -> WaitReport | None:
                report = scanner.scan()
                pids = {w.pid for w in report.waiters}
                return report if {waiter.pid, got} <= pids else None

            helpers.wait_until(lambda: blocked() is not None, "both threads block")
            report = blocked()
            assert report is not None
            collector = Collector()
            try:
                snapshot = collector.snapshot()
            finally:
                collector.close()
            tree = build_tree(snapshot, report, None, take_snapshot(), mqueue.take_snapshot())
            (sem_line,) = under(tree.processes, waiter.pid)
            (queue_line,) = under(tree.processes, got)
            rows = {row.pid: row for row in tree.processes.children}
    finally:
        native.mq_unlink(empty)
    assert sem_line.startswith(f"psem {sem_name}: mapped rw; WAITING: sem_wait")
    assert queue_line.startswith(f"pmq {empty}: holds fd ")
    assert "; WAITING: mq_timedreceive (queue empty)  · 0 messages" in queue_line
    roles = {child.role for pid in (waiter.pid, got) for child in rows[pid].children}
    assert roles == {"waiter"}
