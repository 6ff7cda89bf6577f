"""The wait-for graph on made-up waiters: the semaphore a semop sleeps on, edges, cycles, stalls."""

from __future__ import annotations

from shmtop.ipc.model import Kind
from shmtop.ipc.waiters import QueueState, SemOp, SemState, Waiter
from shmtop.ipc.waitgraph import (
    MSG_EXCEPT,
    Evidence,
    Release,
    blocking_semaphores,
    cycles,
    releases,
    stalls,
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
    return {SET: SemState(SET, len(values), values, changers, None, 50.0)}


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


def test_a_stall_needs_both_the_wait_and_the_unchanged_object_to_last() -> None:
    waiter = sem_waiter(10, (0, -1, 0), waits_for=(0,))  # seen since 100

    assert stalls([waiter], {(Kind.SEM, SET): 50.0}, 105.0, 10.0) == ()
    (stall,) = stalls([waiter], {(Kind.SEM, SET): 50.0}, 130.0, 10.0)
    assert (stall.pid, stall.blocked_since, stall.unchanged_since, stall.stalled_for) == (
        10, 100.0, 50.0, 30.0,
    )  # fmt: skip
    assert stalls([waiter], {(Kind.SEM, SET): 125.0}, 130.0, 10.0) == ()  # changed lately
