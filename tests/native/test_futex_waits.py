"""Futex waits in shared memory: named semaphores' live waiters, process-shared mutexes.

Every child is tests/futex_child.c, compiled here, a real process blocked in futex(2) on a
real object: a POSIX named semaphore (sem_open), or a pthread mutex made with
PTHREAD_PROCESS_SHARED inside a System V segment. Readiness is a line the child prints,
waits are bounded and poll a condition; every child is killed and every object removed.
"""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path
from typing import Any

import helpers
import pytest
from futex_kids import MUTEX_AT, Child, post, start
from helpers import MakeSem, MakeShm
from maps_reader import MapsReader

from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.core.posix.model import PosixKind
from shmtop.core.waits.futexes import looks_like_glibc_sem, mutex_owner, shared_wait_op
from shmtop.core.waits.records import Waiter
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.wait_verdict import Liveness, Outcome
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.core.waits.waitgraph import Evidence
from shmtop.text.wait_pages import banner_lines
from shmtop.tui.wait_summary import summary_alerts


def futex_waiters(report: WaitReport, pid: int) -> list[Waiter]:
    return [w for w in report.waiters if w.pid == pid and w.futex is not None]


def scan_until(scanner: WaiterScanner, pid: int, count: int = 1) -> tuple[WaitReport, Waiter]:
    """Scan until pid shows as `count` futex waiters (bounded); the report and its first."""
    found: list[WaitReport] = []

    def seen() -> bool:
        found[:] = [scanner.scan()]
        return len(futex_waiters(found[0], pid)) == count

    helpers.wait_until(seen, f"{pid} shows in a futex wait")
    return found[0], futex_waiters(found[0], pid)[0]


# ---- the futex word's rules, without processes ----


def test_a_private_futex_and_a_wake_are_no_wait_and_the_sleeping_ops_are() -> None:
    assert shared_wait_op(0) == "FUTEX_WAIT"
    assert shared_wait_op(9 | 256) == "FUTEX_WAIT_BITSET"  # with FUTEX_CLOCK_REALTIME
    assert shared_wait_op(6) == "FUTEX_LOCK_PI"
    assert shared_wait_op(0 | 128) is None  # FUTEX_WAIT_PRIVATE
    assert shared_wait_op(1) is None  # FUTEX_WAKE


def test_the_owner_comes_from_the_word_only_where_its_layout_says_so() -> None:
    me = os.getpid()
    assert mutex_owner("FUTEX_LOCK_PI", (me | 0x80000000, 0, 0), None, False) == (
        me, "futex word")  # fmt: skip
    assert mutex_owner("FUTEX_WAIT", (me | 0x80000000, 0, 0), me | 0x80000000, False) == (
        me, "futex word")  # robust: the TID with FUTEX_WAITERS  # fmt: skip
    assert mutex_owner("FUTEX_WAIT", (2, 1, me), 2, True) == (me, "glibc __owner")
    assert mutex_owner("FUTEX_WAIT", (2, 1, me), 2, False) == (None, None)  # not glibc
    assert mutex_owner("FUTEX_WAIT_BITSET", (0, 1, 128), 0, True) == (None, None)  # a sem_t
    assert looks_like_glibc_sem("FUTEX_WAIT_BITSET", (0, 1, 128), 0)
    assert not looks_like_glibc_sem("FUTEX_WAIT_BITSET", (0, 0, 128), 0)  # nobody counted
    assert not looks_like_glibc_sem("FUTEX_WAIT", (0, 1, 128), 0)


# ---- real children ----


def test_a_named_semaphore_waiter_is_live_and_the_value_after_a_post_is_read(
    child_program: Path, kids: list[Child], sem_name: str, maps_reader: MapsReader
) -> None:
    child = start(kids, child_program, "semwait", sem_name)
    assert child.line()[0] == "ready"
    report, waiter = scan_until(WaiterScanner(), child.pid)

    assert waiter.kind is PosixKind.SEM and waiter.syscall == "futex"
    assert waiter.futex is not None and waiter.futex.offset == 0
    assert waiter.futex.object_name == sem_name and waiter.futex.what == "semaphore"
    assert waiter.semaphore is not None
    assert (waiter.semaphore.value, waiter.semaphore.nwaiters) == (0, 1)
    assert waiter.semaphore.live_waiters == 1 and not waiter.semaphore.stale
    assert waiter.target == f"psem {sem_name}"
    assert any(s.name == sem_name for s in report.named_semaphores)

    post(sem_name)
    assert child.line() == ["posted", "0"]
    child.process.wait()
    assert not futex_waiters(WaiterScanner().scan(), child.pid)


def test_a_killed_waiter_leaves_nwaiters_stale(
    child_program: Path, kids: list[Child], sem_name: str, maps_reader: MapsReader
) -> None:
    first = start(kids, child_program, "semwait", sem_name)
    assert first.line()[0] == "ready"
    second = start(kids, child_program, "semwait", sem_name)
    assert second.line()[0] == "ready"
    scanner = WaiterScanner()
    scan_until(scanner, first.pid)
    report, waiter = scan_until(scanner, second.pid)
    assert waiter.semaphore is not None and waiter.semaphore.nwaiters == 2
    # No owner in a semaphore's word: the other mapper may post it (a hint, not proof).
    edges = {(e.releaser, e.evidence, e.hint) for e in report.releases_of(waiter)}
    assert edges == {(first.pid, Evidence.MAPPER, True)}

    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    report, waiter = scan_until(scanner, second.pid)
    assert waiter.semaphore is not None
    assert (waiter.semaphore.nwaiters, waiter.semaphore.live_waiters) == (2, 1)
    assert waiter.semaphore.stale and "stale" in waiter.operation()
    assert not report.releases_of(waiter)  # its one other mapper is gone: read again

    second.process.send_signal(signal.SIGKILL)
    second.process.wait()
    found = WaiterScanner().scan()
    (state,) = [s for s in found.named_semaphores if s.name == sem_name]
    assert (state.nwaiters, state.live_waiters, state.stale) == (2, 0, True)


def test_mappers_are_read_once_while_nothing_changes(
    child_program: Path, kids: list[Child], sem_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = start(kids, child_program, "semwait", sem_name)
    assert first.line()[0] == "ready"
    second = start(kids, child_program, "semwait", sem_name)
    assert second.line()[0] == "ready"
    scanner = WaiterScanner()
    scan_until(scanner, first.pid)
    scan_until(scanner, second.pid)
    calls: list[int] = []
    real = native.scan_file_maps

    def counted(*args: Any, **kwargs: Any) -> native.FileMapsScan:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(native, "scan_file_maps", counted)
    report = scanner.scan()
    (waiter,) = futex_waiters(report, second.pid)
    assert {e.releaser for e in report.releases_of(waiter)} == {first.pid}
    locating = len(calls)  # the waiters' own maps, to find where each word lies
    scanner.scan()
    assert len(calls) == 2 * locating  # no scan of every process's maps: the list is reused


def test_a_semaphore_waited_on_by_a_program_without_glibc_has_an_unknown_layout(
    static_child_program: Path, kids: list[Child], sem_name: str, maps_reader: MapsReader
) -> None:
    child = start(kids, static_child_program, "semwait", sem_name)
    assert child.line()[0] == "ready"
    _, waiter = scan_until(WaiterScanner(), child.pid)

    assert waiter.semaphore is not None
    assert (waiter.semaphore.value, waiter.semaphore.nwaiters) == (None, None)
    assert waiter.semaphore.problem == f"layout unknown: process {child.pid} does not use glibc"
    assert not waiter.semaphore.stale and "layout unknown" in waiter.operation()


@pytest.mark.parametrize(("mutex", "said_by", "op"), [
    ("normal", "glibc __owner", "FUTEX_WAIT"),  # __owner at +8: the word is only 2
    ("pi", "futex word", "FUTEX_LOCK_PI"),  # the word is the owner's TID
    ("robust", "futex word", "FUTEX_WAIT"),  # the TID with FUTEX_WAITERS
])  # fmt: skip
def test_a_thread_blocked_on_a_shared_mutex_has_its_holder_as_exact_releaser(
    child_program: Path, kids: list[Child], make_shm: MakeShm, maps_reader: MapsReader,
    mutex: str, said_by: str, op: str,
) -> None:  # fmt: skip
    shmid = make_shm(4096)
    holder = start(kids, child_program, "mutex-hold", str(shmid), str(MUTEX_AT), mutex)
    word, tid = holder.line()
    assert word == "locked"
    waiter_child = start(kids, child_program, "mutex-wait", str(shmid), str(MUTEX_AT))
    assert waiter_child.line()[0] == "ready"
    report, waiter = scan_until(WaiterScanner(), waiter_child.pid)

    assert (waiter.kind, waiter.object_id) == (Kind.SHM, shmid)
    assert waiter.futex is not None
    assert waiter.futex.offset == MUTEX_AT and waiter.futex.what == "mutex"
    assert waiter.futex.owner_tid == int(tid) and waiter.futex.owner_pid == holder.pid
    assert (waiter.futex.owner_from, waiter.futex.op) == (said_by, op)
    assert waiter.target == f"shm {shmid} +{MUTEX_AT:#x}"
    (edge,) = report.releases_of(waiter)
    assert (edge.releaser, edge.evidence, edge.hint) == (holder.pid, Evidence.MUTEX_OWNER, False)
    assert report.verdict_of(waiter).outcome is Outcome.WAITING  # the holder runs (sleeps)

    if mutex != "normal":
        return  # a robust or PI one the kernel hands over when its owner dies (EOWNERDEAD)
    # The holder exits without unlocking: a normal mutex is not robust, so the waiter
    # sleeps on for good, and its only releaser is gone.
    holder.tell()
    holder.process.wait()
    scanner = WaiterScanner(stuck_after=0.0)
    report, waiter = scan_until(scanner, waiter_child.pid)
    assert report.statuses[holder.pid].liveness is Liveness.GONE
    assert report.verdict_of(waiter).outcome is Outcome.STUCK


def test_a_mutex_and_a_semaphore_waiting_on_each_other_are_a_deadlock(
    child_program: Path, kids: list[Child], make_shm: MakeShm, make_sem: MakeSem,
    maps_reader: MapsReader,
) -> None:  # fmt: skip
    shmid, semid = make_shm(4096), make_sem(1)
    locker = start(kids, child_program, "semop-then-lock", str(shmid), str(MUTEX_AT), str(semid))
    assert locker.line()[0] == "ready"  # the semaphore's last changer
    holder = start(kids, child_program, "hold-then-semop", str(shmid), str(MUTEX_AT), str(semid))
    assert holder.line()[0] == "locked"
    locker.tell()  # now it blocks on the mutex the holder holds while it waits on the set
    scanner = WaiterScanner()
    scan_until(scanner, locker.pid)

    def deadlocked() -> bool:
        report = scanner.scan()
        return any({holder.pid, locker.pid} <= set(c.members) for c in report.cycles)

    helpers.wait_until(deadlocked, "the deadlock is found")
    report = scanner.scan()
    (cycle,) = [c for c in report.cycles if locker.pid in c.members]
    assert set(cycle.members) == {holder.pid, locker.pid}
    kinds = {(step.kind, step.evidence) for step in cycle.steps}
    assert (Kind.SHM, Evidence.MUTEX_OWNER) in kinds
    assert (Kind.SEM, Evidence.LAST_CHANGER) in kinds
    mine = [v for v in report.verdicts if v.pid in (holder.pid, locker.pid)]
    assert {v.outcome for v in mine} == {Outcome.DEADLOCK}
    banner = "\n".join(banner_lines(report))
    assert f"waits on shm {shmid} +{MUTEX_AT:#x}, which {holder.pid} " in banner
    assert "holds the mutex" in banner
    (alert,) = [a for a in summary_alerts(report) if str(locker.pid) in a]
    assert alert.startswith("DEADLOCK:") and f"Enter on set {semid} for details" in alert


def test_an_unnamed_shared_semaphore_in_a_segment_is_a_semaphore_waiter_at_its_offset(
    child_program: Path, kids: list[Child], make_shm: MakeShm, maps_reader: MapsReader
) -> None:
    shmid = make_shm(4096)
    child = start(kids, child_program, "unnamed-semwait", str(shmid), str(MUTEX_AT))
    assert child.line()[0] == "ready"
    report, waiter = scan_until(WaiterScanner(), child.pid)

    assert (waiter.kind, waiter.object_id, waiter.target) == (
        Kind.SHM, shmid, f"shm {shmid} +{MUTEX_AT:#x}")  # fmt: skip
    assert waiter.futex is not None
    assert (waiter.futex.what, waiter.futex.op, waiter.futex.sem_waiters) == (
        "semaphore", "FUTEX_WAIT_BITSET", 1)  # fmt: skip
    assert waiter.futex.owner_tid is None and waiter.futex.mappers == (child.pid,)
    assert waiter.operation() == "sem_wait (value 0, nwaiters 1: glibc's sem_t)"
    assert not report.releases_of(waiter)  # nobody else maps the segment
    assert report.verdict_of(waiter).outcome is Outcome.UNKNOWN


def test_a_private_futex_in_a_segment_is_not_reported(
    child_program: Path, kids: list[Child], make_shm: MakeShm
) -> None:  # (no maps are read for it: the private flag is enough)
    shmid = make_shm(4096)
    child = start(kids, child_program, "private-wait", str(shmid), str(MUTEX_AT))
    assert child.line()[0] == "ready"

    def in_futex() -> bool:
        with open(f"/proc/{child.pid}/syscall") as file:
            return file.read().split()[0] in ("202", "98")

    helpers.wait_until(in_futex, "the child sleeps in futex")
    report = WaiterScanner().scan()
    assert not [w for w in report.waiters if w.pid == child.pid]


def _wake_in_segment(shmid: int, offset: int) -> int:
    """FUTEX_WAKE on a word of a segment, through our own attach of it: threads woken."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    libc.syscall.restype = ctypes.c_long
    at = libc.shmat(shmid, None, 0)
    assert at not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
    try:
        woken: int = libc.syscall(
            202 if os.uname().machine == "x86_64" else 98,
            ctypes.c_void_p(at + offset),
            1,
            1,
            None,
            None,
            0,
        )  # FUTEX_WAKE
    finally:
        libc.shmdt(ctypes.c_void_p(at))
    return woken


def test_a_futex_waitv_waiter_is_found_on_its_shared_word_only_and_goes_once_woken(
    child_program: Path, kids: list[Child], make_shm: MakeShm, maps_reader: MapsReader
) -> None:
    shmid = make_shm(4096)
    shared, private = MUTEX_AT, MUTEX_AT + 64
    child = start(kids, child_program, "waitv", str(shmid), str(shared), str(private))
    assert child.line()[0] == "ready"
    scanner = WaiterScanner()
    _, waiter = scan_until(scanner, child.pid)  # one: the private word is no IPC wait

    assert (waiter.syscall, waiter.kind, waiter.object_id, waiter.target) == (
        "futex_waitv", Kind.SHM, shmid, f"shm {shmid} +{shared:#x}")  # fmt: skip
    assert waiter.futex is not None
    assert (waiter.futex.op, waiter.futex.expected, waiter.futex.word) == ("futex_waitv", 0, 0)
    assert waiter.futex.mappers == (child.pid,)
    assert waiter.operation() == "futex_waitv (word 0x0, sleeps while 0x0)"

    assert _wake_in_segment(shmid, shared) == 1
    assert child.line() == ["woken", "0"]
    helpers.wait_until(lambda: not futex_waiters(scanner.scan(), child.pid),
                       "the woken child is no waiter")  # fmt: skip


def anonymous_mapping(pid: int) -> tuple[int, int]:
    """(start, inode) of a process's shared anonymous mapping, from /proc/PID/maps."""
    with open(f"/proc/{pid}/maps") as file:
        (line,) = [entry for entry in file if entry.rstrip().endswith("/dev/zero (deleted)")]
    fields = line.split()
    assert fields[1].endswith("s"), line  # shared
    return int(fields[0].split("-")[0], 16), int(fields[4])


def test_a_semaphore_in_shared_anonymous_memory_is_a_waiter_on_it_with_its_mappers(
    child_program: Path, kids: list[Child], maps_reader: MapsReader
) -> None:
    parent = start(kids, child_program, "anon-semwait", str(MUTEX_AT))
    word, pid = parent.line()
    assert word == "ready"
    waiter_pid = int(pid)
    scanner = WaiterScanner()
    report, waiter = scan_until(scanner, waiter_pid)

    start_at, inode = anonymous_mapping(waiter_pid)
    assert (waiter.kind, waiter.object_id, waiter.target) == (
        "anon", inode, f"anon /dev/zero (inode {inode}) +{MUTEX_AT:#x}")  # fmt: skip
    assert waiter.futex is not None and waiter.futex.address == start_at + MUTEX_AT
    assert (waiter.futex.what, waiter.futex.sem_waiters) == ("semaphore", 1)
    assert waiter.futex.mappers == tuple(sorted((parent.pid, waiter_pid)))
    assert [(r.releaser, r.evidence) for r in report.releases_of(waiter)] == [
        (parent.pid, Evidence.MAPPER)]  # fmt: skip
    assert report.verdict_of(waiter).outcome is Outcome.WAITING  # the parent runs

    parent.tell()
    assert parent.line() == ["posted", "0"]
    helpers.wait_until(lambda: not futex_waiters(scanner.scan(), waiter_pid),
                       "the posted child is no waiter")  # fmt: skip
