"""Waiters on real objects: children blocked in semop and msgrcv/msgsnd, deadlocks, stuck waits."""

# Every child is a real process (tests/blocker.py) killed by PID and reaped at
# the end of its test; every object is made by the conftest fixtures and
# removed. Other test runs may share the machine: every check looks at our
# children and objects only. Readiness is polled with a bound, never slept on.

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import helpers
import pytest
from blocker import NOBODY, ROOT, Blocker, Blockers, accept_mutex, blockers, deadlock
from helpers import MakeMsg, MakeSem

from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.core.snapshot import procfs
from shmtop.core.waits.records import SemOp, Waiter
from shmtop.core.waits.wait_verdict import Liveness, Outcome, Verdict
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.core.waits.waitgraph import Evidence, Release

SEM_UNDO = native.SEM_UNDO
IPC_NOWAIT = native.IPC_NOWAIT


@pytest.fixture
def kids() -> Iterator[Blockers]:
    with blockers() as started:
        yield started


def waiter_of(scanner: WaiterScanner, child: Blocker) -> Waiter:
    """Scan until the child shows as a waiter (bounded), and return it."""
    found: list[Waiter] = []

    def seen() -> bool:
        found[:] = [w for w in scanner.scan().waiters if w.pid == child.pid]
        return bool(found)

    helpers.wait_until(seen, f"{child.name} shows as a waiter")
    assert len(found) == 1, found
    return found[0]


def not_waiting(scanner: WaiterScanner, pid: int) -> bool:
    return all(w.pid != pid for w in scanner.scan().waiters)


# ---- /proc/PID/task/TID/syscall ----


def test_syscall_lines_parse_and_only_a_thread_inside_a_call_has_one() -> None:
    line = "220 0x8001 0x7ffd5b0a1c20 0x1 0x0 0x7f01 0x2 0x7ffd5b0a1bf8 0x7f0e2c91a2dd\n"
    call = procfs.parse_task_syscall(line)

    assert call is not None
    assert (call.number, call.args) == (220, (0x8001, 0x7FFD5B0A1C20, 1, 0, 0x7F01, 2))
    assert (call.stack_pointer, call.program_counter) == (0x7FFD5B0A1BF8, 0x7F0E2C91A2DD)
    assert procfs.parse_task_syscall("running\n") is None
    assert procfs.parse_task_syscall("-1 0x7ffd5b0a1bf8 0x7f0e2c91a2dd\n") is None
    with pytest.raises(ValueError, match="fields"):
        procfs.parse_task_syscall("70 0x1 0x2\n")


def test_ipc_syscall_numbers_per_architecture() -> None:
    assert procfs.ipc_syscalls("x86_64") == {65: "semop", 220: "semtimedop", 69: "msgsnd",
                                             70: "msgrcv"}  # fmt: skip
    generic = {192: "semtimedop", 193: "semop", 189: "msgsnd", 188: "msgrcv"}
    assert procfs.ipc_syscalls("aarch64") == procfs.ipc_syscalls("riscv64") == generic
    assert procfs.ipc_syscalls("armv7l") is None
    assert WaiterScanner(machine="armv7l").scan().unsupported == "no system call table for armv7l"


# ---- semaphores ----

RAW_SEMOP = pytest.param(
    "raw_semop", "semop",
    marks=pytest.mark.skipif(platform.machine() != "x86_64", reason="syscall 65 is x86_64's"),
)  # fmt: skip


@pytest.mark.parametrize(("call", "syscall"), [("semop", "semtimedop"), RAW_SEMOP])
def test_child_blocked_in_semop_on_semaphore_2_shows_sem_num_op_and_flags(
    make_sem: MakeSem, kids: Blockers, call: str, syscall: str
) -> None:
    semid = make_sem(3)
    child = kids.start("shmtop-semop")
    child.send(call=call, semid=semid, ops=[[2, -1, SEM_UNDO]])
    scanner = WaiterScanner()

    waiter = waiter_of(scanner, child)

    assert (waiter.kind, waiter.object_id, waiter.tid, waiter.syscall) == (
        Kind.SEM, semid, child.pid, syscall,
    )  # fmt: skip
    assert waiter.command == "shmtop-semop"
    assert waiter.operations == (SemOp(2, -1, SEM_UNDO),)
    assert waiter.operations[0].flag_names == ("SEM_UNDO",)
    assert waiter.waits_for == (2,)
    assert waiter.operation() == "sem 2 -1 SEM_UNDO"
    assert waiter.since_verified  # schedstat is readable: the thread did not run since
    assert native.sem_counts(semid, 2)[0] == 1  # the kernel counts the same waiter
    assert scanner.scan().counts()[Kind.SEM, semid] == 1

    native.semop(semid, [(2, 1, 0)])
    assert child.answer() == {"ok": True}
    helpers.wait_until(lambda: not_waiting(scanner, child.pid), "the released child goes")


def test_several_operations_wait_on_the_one_that_cannot_proceed_with_the_timeout(
    make_sem: MakeSem, kids: Blockers
) -> None:
    semid = make_sem(2)
    native.sem_setall(semid, [5, 1])
    child = kids.start("shmtop-multi")
    ops = [[0, -1, SEM_UNDO], [1, -2, 0], [0, 1, IPC_NOWAIT]]
    child.send(call="semtimedop", semid=semid, ops=ops, seconds=600)

    waiter = waiter_of(WaiterScanner(), child)

    assert waiter.operations == tuple(SemOp(*op) for op in ops)
    assert waiter.waits_for == (1,)  # sem 0 could be taken, sem 1 cannot
    assert waiter.timeout == 600.0
    assert waiter.operation() == "sem 0 -1 SEM_UNDO; sem 1 -2; sem 0 +1 IPC_NOWAIT (timeout 600s)"
    assert [native.sem_counts(semid, n)[0] for n in (0, 1)] == [0, 1]


def test_two_children_deadlocked_with_sem_undo_are_reported_as_a_cycle(
    make_sem: MakeSem, kids: Blockers
) -> None:
    semid, first, second = deadlock(make_sem, kids)
    scanner = WaiterScanner()
    waiter_of(scanner, first)
    waiter_of(scanner, second)

    report = scanner.scan()

    ours = [c for c in report.cycles if {first.pid, second.pid} & set(c.members)]
    assert len(ours) == 1, report.cycles
    cycle = ours[0]
    assert cycle.members == tuple(sorted((first.pid, second.pid)))
    assert set(cycle.steps) == {
        Release(first.pid, Kind.SEM, semid, 1, second.pid, Evidence.LAST_CHANGER),
        Release(second.pid, Kind.SEM, semid, 0, first.pid, Evidence.LAST_CHANGER),
    }
    assert cycle.hint  # the last changer is a hint, and is labelled one
    assert report.semaphore_sets[semid].last_changers == (first.pid, second.pid)
    text = subprocess.run(
        [sys.executable, "-m", "shmtop", "waiters"],
        check=False, capture_output=True, text=True, timeout=helpers.PATIENCE, cwd=ROOT,
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "DEADLOCK: 2 process(es) wait on each other (rests on hints)" in text.stdout
    assert (
        f"  {first.pid} (shmtop-first) waits on sem {semid} semaphore 1, which "
        f"{second.pid} (shmtop-second) could release: last changer (a hint, not proof)"
    ) in text.stdout.splitlines()

    # Killing one ends the deadlock: its SEM_UNDO gives sem 0 back to the other.
    first.stop()
    assert second.answer() == {"ok": True}
    helpers.wait_until(
        lambda: not any(second.pid in c.members for c in scanner.scan().cycles),
        "the cycle is gone",
    )


def test_a_long_wait_is_no_alarm_and_a_change_by_a_running_process_names_a_releaser(
    make_sem: MakeSem, kids: Blockers
) -> None:
    semid = make_sem(2)  # never changed: no process is known to use it
    child = kids.start("shmtop-long")
    child.send(call="semop", semid=semid, ops=[[0, -1, 0]])
    now = [float(int(time.time()))]  # a fake clock from a real time: the kernel's times are real
    scanner = WaiterScanner(stuck_after=10.0, clock=lambda: now[0])
    first = waiter_of(scanner, child)

    def verdict() -> Verdict:
        report = scanner.scan()
        return next(v for v in report.verdicts if v.pid == child.pid)

    now[0] = first.since + 3600  # an hour later: still no alarm, only "unknown"
    late = verdict()
    assert late.outcome is Outcome.UNKNOWN
    assert "semaphore 0 has no known last changer" in late.because[0][1]
    assert waiter_of(scanner, child).since == first.since  # still the same wait

    native.semop(semid, [(1, 1, 0)])  # this process uses the set: it may post semaphore 0
    changed = verdict()
    assert changed.outcome is Outcome.WAITING
    assert changed.because == ((os.getpid(), "runs"),)
    assert Release(child.pid, Kind.SEM, semid, 1, os.getpid(), Evidence.SET_USER) in (
        scanner.scan().releases
    )  # fmt: skip


# ---- an accept mutex (Apache prefork's `Mutex sysvsem`) ----


def shmtop_waiters(*args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "shmtop", "waiters", *args],
        check=False, capture_output=True, text=True, timeout=helpers.PATIENCE, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run


def test_an_idle_accept_mutex_whose_holder_sits_in_poll_raises_no_alarm(
    make_sem: MakeSem, kids: Blockers
) -> None:
    _, holder, waiting = accept_mutex(make_sem, kids, undo=True)
    scanner = WaiterScanner(stuck_after=0.5)
    for child in waiting:
        waiter_of(scanner, child)
    pids = {child.pid for child in waiting}

    def lasted() -> bool:  # longer than the threshold, kernel time slack included
        report = scanner.scan()
        ours = [w for w in report.waiters if w.pid in pids]
        return len(ours) == 3 and all(report.taken_at - w.since > 2.0 for w in ours)

    helpers.wait_until(lasted, "the waits outlast the threshold")
    report = scanner.scan()

    assert report.statuses[holder.pid].liveness is Liveness.RUNNING  # in poll: not an IPC wait
    ours = [v for v in report.verdicts if v.pid in pids]
    assert [v.outcome for v in ours] == [Outcome.WAITING] * 3
    assert all(v.because == ((holder.pid, "runs"),) for v in ours)
    assert not report.stuck and not report.cycles

    data = json.loads(shmtop_waiters("--json", "--observe", "1.5", "--stuck-after", "0.5").stdout)
    assert data["stuck"] == [] and data["cycles"] == []
    assert data["stuck_after_seconds"] == 0.5
    waiters = {w["pid"]: w for w in data["waiters"]}
    assert {waiters[pid]["state"] for pid in pids} == {"waiting"}
    assert waiters[waiting[0].pid]["because"] == [{"pid": holder.pid, "what": "runs"}]
    assert data["verdict"].startswith("3 threads blocked: 3 waiting")
    text = shmtop_waiters("--observe", "1.5", "--stuck-after", "0.5").stdout
    assert "STUCK" not in text and "DEADLOCK" not in text
    rows = [line for line in text.splitlines() if line.startswith(tuple(map(str, pids)))]
    assert len(rows) == 3
    for row in rows:  # listed as a wait with its duration, and who holds the mutex
        assert re.search(r"sem 0 -1 SEM_UNDO +\d\d:\d\d:\d\d \(\d+s\) +waiting +", row), row
        assert f"{holder.pid} (shmtop-holder) last changer (hint)" in row


def test_the_waiters_of_a_holder_that_died_without_sem_undo_are_stuck(
    make_sem: MakeSem, kids: Blockers
) -> None:
    semid, holder, waiting = accept_mutex(make_sem, kids, undo=False)
    scanner = WaiterScanner(stuck_after=0.5)
    for child in waiting:
        waiter_of(scanner, child)
    holder.stop()  # killed and reaped: without SEM_UNDO the semaphore stays taken
    pids = {child.pid for child in waiting}

    def stuck() -> bool:
        return {v.pid for v in scanner.scan().stuck} >= pids

    helpers.wait_until(stuck, "the waits are called stuck")
    report = scanner.scan()

    assert report.statuses[holder.pid].liveness is Liveness.GONE
    for verdict in report.stuck:
        if verdict.pid in pids:
            assert verdict.because == ((holder.pid, "is gone (exited)"),)
    assert not report.cycles

    data = json.loads(shmtop_waiters("--json", "--stuck-after", "0.5").stdout)
    assert {s["pid"] for s in data["stuck"]} == pids
    assert {w["state"] for w in data["waiters"] if w["pid"] in pids} == {"stuck"}
    assert data["stuck"][0]["because"] == [{"pid": holder.pid, "what": "is gone (exited)"}]
    assert "3 stuck" in data["verdict"]
    text = shmtop_waiters("--stuck-after", "0.5").stdout.splitlines()
    for child in waiting:
        assert any(
            line.startswith(f"STUCK: {child.pid} ({child.name}) thread {child.pid} on sem "
                            f"{semid}: nobody can release it: {holder.pid} is gone (exited)")
            for line in text
        ), text  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        ("--observe", "inf"), ("--observe", "nan"), ("--observe", "-1"), ("--observe", "3601"),
        ("--stuck-after", "0"), ("--stuck-after", "nan"), ("--stuck-after", "inf"),
        ("--stuck-after", "-5"), ("--stuck-after", "1e9"), ("--stall-after", "nan"),
    ],
)  # fmt: skip
def test_observe_and_stuck_after_must_be_finite_positive_and_bounded(args: tuple[str, ...]) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "shmtop", "waiters", *args],
        check=False, capture_output=True, text=True, timeout=helpers.PATIENCE, cwd=ROOT,
    )  # fmt: skip

    assert run.returncode == 2
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    name = "--observe" if args[0] == "--observe" else "--stuck-after"
    assert line.startswith(f"shmtop: {name} takes seconds from ")
    assert line.endswith("to 3600, not " + format(float(args[1]), "g"))


# ---- message queues ----


def test_child_blocked_in_msgrcv_for_type_7_is_a_receiver_waiting_for_type_7(
    make_msg: MakeMsg, kids: Blockers
) -> None:
    msqid = make_msg()
    child = kids.start("shmtop-rcv")
    child.send(call="msgrcv", msqid=msqid, type=7, size=128)
    scanner = WaiterScanner()

    waiter = waiter_of(scanner, child)

    assert (waiter.kind, waiter.object_id, waiter.syscall) == (Kind.MSG, msqid, "msgrcv")
    assert (waiter.direction, waiter.msg_type, waiter.msg_size) == ("receive", 7, 128)
    assert waiter.operation() == "receive type 7"

    native.msgsnd(msqid, 3, b"other")  # not the type it wants: it stays blocked
    again = waiter_of(scanner, child)
    assert again.since == waiter.since
    assert Release(child.pid, Kind.MSG, msqid, None, os.getpid(), Evidence.LAST_SENDER) in (
        scanner.scan().releases_of(again)
    )  # fmt: skip
    native.msgsnd(msqid, 7, b"seven")
    assert child.answer() == {"ok": True, "type": 7, "data": b"seven".hex()}


def test_a_blocked_sender_shows_its_type_and_could_release_a_receiver_of_that_type(
    make_msg: MakeMsg, kids: Blockers
) -> None:
    msqid = make_msg()
    while True:  # fill the queue with type 1 until the kernel says it is full
        try:
            native.msgsnd(msqid, 1, b"f" * 1024, IPC_NOWAIT)
        except BlockingIOError:
            break
    sender, receiver = kids.start("shmtop-snd"), kids.start("shmtop-rcv5")
    sender.send(call="msgsnd", msqid=msqid, type=5, data=(b"s" * 100).hex())
    receiver.send(call="msgrcv", msqid=msqid, type=5, size=64)
    scanner = WaiterScanner()

    sending, receiving = waiter_of(scanner, sender), waiter_of(scanner, receiver)

    assert (sending.direction, sending.msg_type, sending.msg_size) == ("send", 5, 100)
    assert sending.operation() == "send type 5, 100 bytes"
    assert receiving.msg_type == 5
    edge = Release(receiver.pid, Kind.MSG, msqid, None, sender.pid, Evidence.BLOCKED_SENDER)
    assert edge in scanner.scan().releases_of(receiving)
    assert not edge.hint


def test_the_c_scan_reads_the_same_line_as_the_python_parser(
    make_msg: MakeMsg, kids: Blockers
) -> None:
    msqid = make_msg()
    child = kids.start("shmtop-cross")
    child.send(call="msgrcv", msqid=msqid, type=-9, size=32)
    waiter_of(WaiterScanner(), child)

    with open(f"/proc/{child.pid}/task/{child.pid}/syscall", encoding="ascii") as file:
        parsed = procfs.parse_task_syscall(file.read())
    rows = native.scan_syscalls([child.pid], [parsed.number if parsed else -1]).rows

    assert parsed is not None
    assert len(rows) == 1
    row = rows[0]
    assert (row.pid, row.tid, row.nr) == (child.pid, child.pid, parsed.number)
    args = (row.arg0, row.arg1, row.arg2, row.arg3, row.arg4, row.arg5)
    assert tuple(a & (1 << 64) - 1 for a in args) == parsed.args
    assert parsed.args[3] == (1 << 64) - 9  # msgtyp -9 as the register holds it


# ---- without privilege ----


def test_as_nobody_an_unreadable_set_says_so_and_the_rest_still_works(
    make_sem: MakeSem, kids: Blockers
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: runs children and shmtop as user nobody")
    hidden = make_sem(1, mode=0o602)  # nobody may alter it, not read it
    shown = make_sem(2, mode=0o606)
    native.sem_setall(shown, [0, 0])  # this (root) process becomes the last changer of both
    on_hidden = kids.start("shmtop-nb1", as_nobody=True)
    on_shown = kids.start("shmtop-nb2", as_nobody=True)
    rooted = kids.start("shmtop-root")
    on_hidden.send(call="semop", semid=hidden, ops=[[0, -1, 0]])
    on_shown.send(call="semop", semid=shown, ops=[[1, -1, SEM_UNDO]])
    rooted.send(call="semop", semid=shown, ops=[[0, -1, 0]])
    scanner = WaiterScanner()
    for child in (on_hidden, on_shown, rooted):
        waiter_of(scanner, child)

    run = subprocess.run(
        [*NOBODY, sys.executable, "-m", "shmtop", "waiters", "--json"],
        check=False, capture_output=True, timeout=helpers.PATIENCE, cwd=ROOT,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "PYTHONUTF8": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)

    waiters = {w["pid"]: w for w in data["waiters"]}
    assert rooted.pid not in waiters  # root's thread is not readable by nobody: not guessed
    assert data["unreadable"]["permission denied"] >= 1
    assert data["unreadable_total"] >= 1
    assert waiters[on_hidden.pid]["operation"] == "sem 0 -1"
    assert waiters[on_hidden.pid]["released_by"] == []
    assert waiters[on_shown.pid]["operation"] == "sem 1 -1 SEM_UNDO"
    # Releasers nobody cannot inspect make the verdict unknown, with the reason: never stuck.
    assert waiters[on_shown.pid]["state"] == "unknown"
    assert {"pid": os.getpid(), "what": "could not be inspected (permission denied)"} in (
        waiters[on_shown.pid]["because"]
    )  # fmt: skip
    assert waiters[on_hidden.pid]["state"] == "unknown"
    assert waiters[on_hidden.pid]["because"] == [
        {"pid": None, "what": "the set's last changers could not be read (permission denied)"}
    ]
    assert data["stuck"] == [] and data["complete"] is False
    sets = {s["id"]: s for s in data["semaphore_sets"]}
    assert sets[hidden]["unreadable"] == "permission denied"
    assert sets[hidden]["values"] is None
    assert sets[shown]["unreadable"] is None
    assert sets[shown]["values"] == [0, 0]

    text = subprocess.run(
        [*NOBODY, sys.executable, "-m", "shmtop", "waiters"],
        check=False, capture_output=True, timeout=helpers.PATIENCE, cwd=ROOT, text=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "PYTHONUTF8": "1"},
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "? (set unreadable: permission denied)" in text.stdout
    assert f"note: sem {hidden} is unreadable (permission denied)" in text.stdout
    assert "could not be inspected" in text.stdout
    assert f"{on_shown.pid}  shmtop-nb2" in text.stdout


def test_as_nobody_a_blocked_root_process_makes_the_verdict_unknown_not_nobody_blocked(
    make_sem: MakeSem, kids: Blockers
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: runs shmtop as user nobody")
    semid = make_sem(1)
    rooted = kids.start("shmtop-rooted")
    rooted.send(call="semop", semid=semid, ops=[[0, -1, 0]])
    waiter_of(WaiterScanner(), rooted)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "PYTHONUTF8": "1"}

    def as_nobody(*args: str) -> str:
        run = subprocess.run(
            [*NOBODY, sys.executable, "-m", "shmtop", "waiters", *args],
            check=False, capture_output=True, timeout=helpers.PATIENCE, cwd=ROOT, env=env,
            text=True,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        return run.stdout

    data = json.loads(as_nobody("--json"))

    assert rooted.pid not in {w["pid"] for w in data["waiters"]}  # unreadable: not guessed
    assert data["complete"] is False
    total = data["unreadable_total"]
    assert total >= 1 and data["unreadable"]["permission denied"] >= 1
    assert data["verdict"].startswith(f"unknown: {total} process")
    assert "could not be inspected (" in data["verdict"]
    text = as_nobody()
    assert "nobody is blocked" not in text
    assert re.match(
        r"unknown: \d+ process(es)? could not be inspected \(\d+ permission denied",
        text.splitlines()[0],
    )  # the machine's processes come and go: counts vary
