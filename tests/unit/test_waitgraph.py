"""The wait-for graph and verdicts on made-up waiters: edges, cycles, stuck, waiting, unknown."""

from __future__ import annotations

from collections.abc import Mapping

from shmtop.core.model import Kind
from shmtop.core.waits.records import MSG_EXCEPT, QueueState, SemOp, SemState, Waiter
from shmtop.core.waits.wait_procs import hidepid_note
from shmtop.core.waits.wait_verdict import Liveness, Outcome, ProcessStatus, Verdict, judge
from shmtop.core.waits.waitgraph import (
    Evidence,
    Release,
    blocking_semaphores,
    cycles,
    releases,
    type_matches,
)

SET, QUEUE = 40, 70


def sem_waiter(pid: int, *ops: tuple[int, int, int], waits_for: tuple[int, ...]) -> Waiter:
    return Waiter(pid, pid, f"p{pid}", Kind.SEM, SET, "semtimedop", 100.0, True,
                  operations=tuple(SemOp(*op) for op in ops), waits_for=waits_for)  # fmt: skip


def msg_waiter(pid: int, direction: str, mtype: int, flags: int = 0) -> Waiter:
    return Waiter(pid, pid, f"p{pid}", Kind.MSG, QUEUE, "msgrcv", 100.0, True,
                  direction="send" if direction == "send" else "receive", msg_type=mtype,
                  msg_flags=flags)  # fmt: skip


def sem_state(values: tuple[int, ...], changers: tuple[int, ...]) -> dict[int, SemState]:
    return {SET: SemState(SET, len(values), values, changers, None, 50.0, 49.0)}


RUNNING, BLOCKED, GONE, UNKNOWN = (Liveness.RUNNING, Liveness.BLOCKED, Liveness.GONE,
                                   Liveness.UNKNOWN)  # fmt: skip


def verdicts(
    waiters: list[Waiter], sets: Mapping[int, SemState], queues: Mapping[int, QueueState],
    states: Mapping[int, Liveness | ProcessStatus], now: float = 130.0,
) -> dict[int, Verdict]:  # fmt: skip
    """Each waiter's verdict by pid; states: each process's liveness (started long ago)."""
    statuses = {
        pid: s if isinstance(s, ProcessStatus) else ProcessStatus(pid, s, "exited", 10.0)
        for pid, s in states.items()
    }
    judged = judge(waiters, releases(waiters, sets, queues), sets, queues, statuses, now, 10.0)
    return {v.pid: v for v in judged.verdicts}


def test_a_semop_sleeps_on_its_first_operation_that_cannot_proceed() -> None:
    ops = [SemOp(0, -1, 0), SemOp(1, -2, 0), SemOp(2, 0, 0)]

    assert blocking_semaphores(ops, (1, 1, 0)) == (1,)
    assert blocking_semaphores(ops, (0, 5, 0)) == (0,)
    assert blocking_semaphores(ops, (1, 2, 3)) == (2,)
    assert blocking_semaphores([SemOp(0, -1, 0), SemOp(0, -1, 0)], (1,)) == (0,)  # in order
    assert blocking_semaphores(ops, None) == (0, 1, 2)  # values unknown: every candidate


def test_message_types_match_as_msgrcv_takes_them() -> None:
    assert type_matches(0, 0, 12)
    assert type_matches(7, 0, 7) and not type_matches(7, 0, 8)
    assert type_matches(-5, 0, 5) and type_matches(-5, 0, 1) and not type_matches(-5, 0, 6)
    assert type_matches(7, MSG_EXCEPT, 8) and not type_matches(7, MSG_EXCEPT, 7)


def test_two_waiters_holding_each_others_semaphore_make_one_hinted_cycle() -> None:
    a = sem_waiter(10, (1, -1, 0x1000), waits_for=(1,))
    b = sem_waiter(20, (0, -1, 0x1000), waits_for=(0,))
    edges = releases([a, b], sem_state((0, 0), (10, 20)), {})

    found = cycles(edges)

    assert len(found) == 1
    assert found[0].members == (10, 20)
    assert found[0].steps == (
        Release(10, Kind.SEM, SET, 1, 20, Evidence.LAST_CHANGER),
        Release(20, Kind.SEM, SET, 0, 10, Evidence.LAST_CHANGER),
    )
    assert found[0].hint


def test_a_pending_increment_is_an_exact_edge_and_wins_over_the_hint() -> None:
    waiting = sem_waiter(10, (0, -1, 0), waits_for=(0,))
    releasing = sem_waiter(20, (1, -1, 0), (0, 1, 0), waits_for=(1,))
    edges = releases([waiting, releasing], sem_state((0, 0), (20, 10)), {})

    assert Release(10, Kind.SEM, SET, 0, 20, Evidence.PENDING_OP) in edges
    assert Release(10, Kind.SEM, SET, 0, 20, Evidence.LAST_CHANGER) in edges
    (cycle,) = cycles(edges)
    assert cycle.steps[0].evidence is Evidence.PENDING_OP  # exact chosen over the hint
    assert cycle.hint  # but 20 -> 10 still rests on a last changer


def test_a_waiter_on_a_semaphore_it_changed_last_is_a_cycle_of_one() -> None:
    alone = sem_waiter(10, (0, -1, 0), waits_for=(0,))

    (cycle,) = cycles(releases([alone], sem_state((0,), (10,)), {}))

    assert cycle.members == (10,)
    assert cycle.steps == (Release(10, Kind.SEM, SET, 0, 10, Evidence.LAST_CHANGER),)


def test_a_releaser_that_is_not_waiting_closes_no_cycle_and_long_chains_are_fine() -> None:
    chain = [Release(n, Kind.SEM, SET, 0, n + 1, Evidence.LAST_CHANGER) for n in range(5000)]
    ring = [Release(n, Kind.SEM, SET, 0, (n + 1) % 3, Evidence.LAST_CHANGER) for n in range(3)]

    assert cycles(chain) == ()  # 5000 is not waiting
    (cycle,) = cycles([*chain, Release(5000, Kind.SEM, SET, 0, 0, Evidence.LAST_CHANGER)])
    assert len(cycle.steps) == 5001
    (three,) = cycles(ring)
    assert [step.waiter for step in three.steps] == [0, 1, 2]


def test_queue_edges_blocked_sender_exact_last_sender_and_receiver_hints() -> None:
    receiver = msg_waiter(10, "receive", 5)
    other = msg_waiter(11, "receive", 5, MSG_EXCEPT)
    sender = msg_waiter(20, "send", 5)
    queues = {QUEUE: QueueState(QUEUE, 3, 300, 30, 40, 50.0)}

    edges = set(releases([receiver, other, sender], {}, queues))

    assert Release(10, Kind.MSG, QUEUE, None, 20, Evidence.BLOCKED_SENDER) in edges
    assert Release(11, Kind.MSG, QUEUE, None, 20, Evidence.BLOCKED_SENDER) not in edges
    assert Release(10, Kind.MSG, QUEUE, None, 30, Evidence.LAST_SENDER) in edges
    assert Release(20, Kind.MSG, QUEUE, None, 40, Evidence.LAST_RECEIVER) in edges
    assert not Release(10, Kind.MSG, QUEUE, None, 20, Evidence.BLOCKED_SENDER).hint


def test_an_accept_mutex_whose_holder_runs_is_waiting_however_long_it_lasts() -> None:
    waiting = [sem_waiter(pid, (0, -1, 0x1000), waits_for=(0,)) for pid in (11, 12, 13)]
    sets = sem_state((0,), (10,))  # 10 took it last, and sits in epoll_wait

    judged = verdicts(waiting, sets, {}, {10: RUNNING, 11: BLOCKED, 12: BLOCKED, 13: BLOCKED},
                      now=100_000.0)  # fmt: skip

    assert {v.outcome for v in judged.values()} == {Outcome.WAITING}
    assert judged[11].because == ((10, "runs"),)


def test_waiters_of_a_dead_holder_are_stuck_once_the_set_stays_unchanged() -> None:
    waiting = [sem_waiter(pid, (0, -1, 0x1000), waits_for=(0,)) for pid in (11, 12)]
    sets = sem_state((0,), (10,))  # unchanged since 50
    states = {10: GONE, 11: BLOCKED, 12: BLOCKED}

    judged = verdicts(waiting, sets, {}, states)
    early = verdicts(waiting, sets, {}, states, now=55.0)

    assert judged[11].outcome is Outcome.STUCK
    assert judged[11].because == ((10, "is gone (exited)"),)
    assert early[11].outcome is Outcome.UNKNOWN  # could be a wake-up on its way
    assert "stuck if it stays unchanged for 10s" in early[11].because[-1][1]


def test_a_chain_ending_in_a_dead_process_or_a_cycle_is_stuck_and_a_live_exit_frees_it() -> None:
    a = sem_waiter(10, (0, -1, 0), waits_for=(0,))  # 10 waits for 20 (last changer of 0)
    b = sem_waiter(20, (1, -1, 0), waits_for=(1,))  # 20 waits for 30 (last changer of 1)
    sets = sem_state((0, 0, 1), (20, 30, 0))

    dead_end = verdicts([a, b], sets, {}, {10: BLOCKED, 20: BLOCKED, 30: GONE})
    alive_end = verdicts([a, b], sets, {}, {10: BLOCKED, 20: BLOCKED, 30: RUNNING})
    unknown_end = verdicts(
        [a, b],
        sets,
        {},
        {10: BLOCKED, 20: BLOCKED, 30: ProcessStatus(30, UNKNOWN, "permission denied")},
    )

    assert dead_end[10].outcome is dead_end[20].outcome is Outcome.STUCK
    assert dead_end[10].because == ((20, "is stuck too"), (30, "is gone (exited)"))  # 30: a user
    assert alive_end[10].outcome is alive_end[20].outcome is Outcome.WAITING
    assert alive_end[10].because == ((20, "is blocked, but can be released"), (30, "runs"))
    assert unknown_end[20].outcome is unknown_end[10].outcome is Outcome.UNKNOWN
    assert unknown_end[20].because == ((30, "could not be inspected (permission denied)"),)

    c = sem_waiter(30, (2, -1, 0), waits_for=(2,))  # 30 waits for 20: 20 <-> 30 a cycle
    ring = verdicts([a, b, c], sem_state((0, 0, 0), (20, 30, 20)), {},
                    {10: BLOCKED, 20: BLOCKED, 30: BLOCKED})  # fmt: skip
    assert ring[20].outcome is ring[30].outcome is Outcome.DEADLOCK
    assert ring[10].outcome is Outcome.STUCK
    assert ring[10].because == ((20, "is in a deadlock"), (30, "is in a deadlock"))


def test_a_cycle_with_a_running_user_of_the_set_is_no_deadlock() -> None:
    a = sem_waiter(10, (0, -1, 0), waits_for=(0,))
    b = sem_waiter(20, (1, -1, 0), waits_for=(1,))
    sets = sem_state((0, 0, 4), (20, 10, 40))  # 40 changed semaphore 2 and still runs

    edges = releases([a, b], sets, {})
    judged = verdicts([a, b], sets, {}, {10: BLOCKED, 20: BLOCKED, 40: RUNNING})

    assert Release(10, Kind.SEM, SET, 2, 40, Evidence.SET_USER) in edges
    assert len(cycles(edges)) == 1  # the graph has the cycle...
    assert judged[10].outcome is judged[20].outcome is Outcome.WAITING  # ...but 40 may post


def test_a_thread_of_a_process_that_still_runs_elsewhere_can_release() -> None:
    a = sem_waiter(10, (0, -1, 0), waits_for=(0,))
    b = sem_waiter(20, (0, 1, 0), (1, -1, 0), waits_for=(1,))  # would post 0; waits on 1
    sets = sem_state((0, 0), (20, 10))

    judged = verdicts([a, b], sets, {}, {10: BLOCKED, 20: RUNNING})  # 20 has other threads

    assert judged[10].outcome is Outcome.WAITING


def test_unknown_releasers_give_unknown_never_stuck() -> None:
    never_changed = sem_waiter(10, (0, -1, 0), waits_for=(0,))
    unreadable = sem_waiter(11, (0, -1, 0), waits_for=(0,))
    sets = {SET: SemState(SET, 1, (0,), (0,), None, 50.0)}
    hidden = {41: SemState(41, 1, None, None, "permission denied", 50.0)}
    hidden_waiter = Waiter(11, 11, "p11", Kind.SEM, 41, "semop", 100.0, True,
                           operations=(SemOp(0, -1, 0),), waits_for=(0,))  # fmt: skip
    reused = ProcessStatus(30, RUNNING, "", started=60.0)  # started after the set's last change

    alone = verdicts([never_changed], sets, {}, {10: BLOCKED})
    blind = verdicts([hidden_waiter], hidden, {}, {11: BLOCKED})
    again = verdicts([unreadable], sem_state((0,), (30,)), {}, {11: BLOCKED, 30: reused})

    assert alone[10].outcome is Outcome.UNKNOWN
    assert "no known last changer" in alone[10].because[0][1]
    assert blind[11].outcome is Outcome.UNKNOWN
    assert blind[11].because == ((0, "the set's last changers could not be read "
                                     "(permission denied)"),)  # fmt: skip
    assert again[11].outcome is Outcome.STUCK  # the PID names a later process: the changer is gone
    assert "the PID now names a process started after" in again[11].because[0][1]


def test_a_receiver_whose_senders_are_gone_is_stuck_and_a_live_queue_user_frees_it() -> None:
    receiver = msg_waiter(10, "receive", 5)
    queues = {QUEUE: QueueState(QUEUE, 0, 0, 30, 40, 50.0, 49.0)}

    gone = verdicts([receiver], {}, queues, {10: BLOCKED, 30: GONE, 40: GONE})
    served = verdicts([receiver], {}, queues, {10: BLOCKED, 30: GONE, 40: RUNNING})
    unsent = verdicts([receiver], {}, {QUEUE: QueueState(QUEUE, 0, 0, 0, 0, 50.0)}, {10: BLOCKED})

    assert gone[10].outcome is Outcome.STUCK
    assert served[10].outcome is Outcome.WAITING  # the last receiver may send (request/reply)
    assert served[10].because == ((40, "runs"),)
    assert unsent[10].outcome is Outcome.UNKNOWN


def test_hidepid_is_read_from_mountinfo() -> None:
    line = "22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw,{}\n"

    assert hidepid_note(line.format("hidepid=invisible"), 65534, {65534}) == (
        "other users' processes may be hidden (/proc is mounted with hidepid=invisible)"
    )
    assert hidepid_note(line.format("hidepid=invisible"), 0, {0}) is None  # root sees all
    assert hidepid_note(line.format("hidepid=2,gid=27"), 1000, {27}) is None  # the exempt group
    assert hidepid_note(line.format("hidepid=0"), 1000, {1000}) is None
    assert hidepid_note(line.format("nsdelegate").replace("/proc", "/sys"), 1000, ()) is None
