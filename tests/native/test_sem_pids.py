"""A set's last pids are read again only when they may have changed (native.SemValueReader),
and never shown stale: an exit undo that leaves the value as it was (clamped at 0) still
names its process; a semop in the same second as a read is seen at the next one."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

from helpers import MakeSem, wait_until

from shmtop.core.binding import native
from shmtop.core.snapshot.collect import Collector

# A child that does one semop with SEM_UNDO, says so, and exits when its stdin closes (the
# kernel then undoes its adjustment, as the last act of its life: exit_sem).
UNDO_CHILD = """
import sys
from shmtop.core.binding import native
native.semop(int(sys.argv[1]), [(0, int(sys.argv[2]), native.SEM_UNDO)])
print("done", flush=True)
sys.stdin.read()
"""


def undo_child(semid: int, op: int) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", UNDO_CHILD, str(semid), str(op)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    assert child.stdout.readline() == "done\n"
    return child


def end(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.close()
    child.wait(timeout=30)


def times_of(semid: int) -> int:
    row = next(r for r in native.sem_table() if r.id == semid)
    return max(row.otime, row.ctime)


def wait_until_old(semid: int) -> None:
    """Until the set's last change is two seconds older than the clock: from then on a read
    of its pids is one the next read may keep (the second of the read, less one)."""
    wait_until(lambda: time.time() >= times_of(semid) + 2.2, "the set's times to age")


def pid_of(collector: Collector, semid: int) -> tuple[int, int]:
    found = next(s for s in collector.snapshot().semaphore_sets if s.id == semid)
    assert found.semaphores is not None
    return found.semaphores[0].value, found.semaphores[0].pid


def test_an_exit_undo_that_keeps_the_value_still_names_its_process(make_sem: MakeSem) -> None:
    semid = make_sem(1)
    child = undo_child(semid, 1)  # value 1, the child's adjustment -1
    try:
        native.semop(semid, [(0, -1, 0)])  # value 0, last pid ours
        wait_until_old(semid)
        collector = Collector(attachments=False)
        try:
            assert pid_of(collector, semid) == (0, os.getpid())
            assert pid_of(collector, semid) == (0, os.getpid())  # kept: nothing changed
            end(child)  # undo: 0 - 1 clamped to 0, the same value; sempid the child's
            assert pid_of(collector, semid) == (0, child.pid)
        finally:
            collector.close()
    finally:
        if child.poll() is None:
            end(child)


def test_kept_pids_are_the_ones_read_until_the_set_changes(make_sem: MakeSem) -> None:
    semid = make_sem(2)
    native.semop(semid, [(0, 1, 0), (1, 2, 0)])
    wait_until_old(semid)
    reader = native.SemValueReader()
    me = os.getpid()
    assert reader.read([(semid, 2)]) == ([1, 0, 0, me, 2, 0, 0, me], [0])
    out = reader._buffers[2]  # type: ignore[index]  # the pids it keeps, marked
    out[3] = out[7] = -7
    assert reader.read([(semid, 2)]) == ([1, 0, 0, -7, 2, 0, 0, -7], [0])  # not read again
    child = undo_child(semid, 1)  # a semop: otime moves, every pid of the set is read again
    try:
        assert reader.read([(semid, 2)]) == ([2, 0, 0, child.pid, 2, 0, 0, me], [0])
    finally:
        end(child)
    assert reader.read([(semid, 2)]) == ([1, 0, 0, child.pid, 2, 0, 0, me], [0])  # the undo


def test_a_semop_in_the_second_of_a_read_is_seen_at_the_next(make_sem: MakeSem) -> None:
    """The hole of a rule on otime alone: otime has whole seconds, so a semop right after a
    read may leave it as it was; a set changed less than two seconds before is read again."""
    semid = make_sem(1)
    native.semop(semid, [(0, 1, 0)])
    reader = native.SemValueReader()
    assert reader.read([(semid, 1)]) == ([1, 0, 0, os.getpid()], [0])
    child = undo_child(semid, 1)  # most likely in the same second as the read
    try:
        assert reader.read([(semid, 1)]) == ([2, 0, 0, child.pid], [0])
    finally:
        end(child)
    assert reader.read([(semid, 1)]) == ([1, 0, 0, child.pid], [0])  # its undo


def test_other_sets_or_another_order_start_anew(make_sem: MakeSem) -> None:
    first, second = make_sem(1), make_sem(3)
    reader = native.SemValueReader()
    me = os.getpid()
    native.semop(first, [(0, 1, 0)])
    native.semop(second, [(2, 1, 0)])
    assert reader.read([(first, 1), (second, 3)]) == (
        [1, 0, 0, me, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, me],
        [0, 0],
    )
    assert reader.read([(second, 3), (first, 1)]) == (
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, me, 1, 0, 0, me],
        [0, 0],
    )
    native.sem_rmid(first)
    values, errs = reader.read([(second, 3), (first, 1)])
    assert values[:12] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, me]
    assert errs[0] == 0 and errs[1] in (errno.EINVAL, errno.EIDRM)  # gone
