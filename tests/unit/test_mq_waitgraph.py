"""POSIX queue waits in the wait-for graph and the verdicts, on made-up waiters: a queue's
holders for the other direction are its waiters' releasers (hints), a chain and a cycle."""

from __future__ import annotations

from shmtop.core.waits.records import MqKind, MqWait, Waiter
from shmtop.core.waits.wait_verdict import Liveness, Outcome, ProcessStatus, judge
from shmtop.core.waits.waitgraph import Evidence, releases

Q1, Q2 = 501, 502


def queue_waiter(pid: int, inode: int, direction: str, senders: tuple[int, ...],
                 receivers: tuple[int, ...]) -> Waiter:  # fmt: skip
    queue = MqWait(3, 19, f"/q{inode}", True, 0, 4, 64, 90.0, senders=senders,
                   receivers=receivers)  # fmt: skip
    call = "mq_timedsend" if direction == "send" else "mq_timedreceive"
    return Waiter(pid, pid, f"p{pid}", MqKind.MQ, inode, call, 100.0, True,
                  direction="send" if direction == "send" else "receive", msg_size=64,
                  queue=queue)  # fmt: skip


def judged(waiters: list[Waiter], states: dict[int, Liveness]) -> dict[int, Outcome]:
    statuses = {pid: ProcessStatus(pid, s, "", 10.0) for pid, s in states.items()}
    found = judge(waiters, releases(waiters, {}, {}), {}, {}, statuses, 130.0, 10.0)
    return {v.pid: v.outcome for v in found.verdicts}


def test_a_receiver_is_released_by_the_queues_senders_a_sender_by_its_receivers() -> None:
    receiver = queue_waiter(10, Q1, "receive", senders=(11, 12), receivers=(10, 13))
    sender = queue_waiter(20, Q2, "send", senders=(20,), receivers=(21,))
    edges = releases([receiver, sender], {}, {})

    assert [(e.waiter, e.releaser, e.evidence, e.hint) for e in edges] == [
        (10, 11, Evidence.HOLDS_FOR_SENDING, True),
        (10, 12, Evidence.HOLDS_FOR_SENDING, True),
        (20, 21, Evidence.HOLDS_FOR_RECEIVING, True),
    ]
    assert receiver.target == "pmq /q501" and receiver.kind == "pmq"
    outcomes = judged([receiver, sender], {10: Liveness.BLOCKED, 11: Liveness.GONE,
                                           12: Liveness.RUNNING, 20: Liveness.BLOCKED,
                                           21: Liveness.GONE})  # fmt: skip
    assert outcomes == {10: Outcome.WAITING, 20: Outcome.STUCK}  # its only receiver is gone


def test_two_processes_each_receiving_from_a_queue_only_the_other_sends_to_are_a_deadlock() -> None:
    first = queue_waiter(30, Q1, "receive", senders=(31,), receivers=(30,))
    second = queue_waiter(31, Q2, "receive", senders=(30,), receivers=(31,))
    assert judged([first, second], {30: Liveness.BLOCKED, 31: Liveness.BLOCKED}) == {
        30: Outcome.DEADLOCK, 31: Outcome.DEADLOCK}  # fmt: skip


def test_a_queue_nobody_holds_for_the_other_direction_leaves_the_wait_unknown() -> None:
    lonely = queue_waiter(40, Q1, "send", senders=(40,), receivers=())
    statuses = {40: ProcessStatus(40, Liveness.BLOCKED, "", 10.0)}
    (verdict,) = judge([lonely], releases([lonely], {}, {}), {}, {}, statuses, 130.0,
                       10.0).verdicts  # fmt: skip
    assert verdict.outcome is Outcome.UNKNOWN
    assert verdict.because == ((0, "no process holds /q501 open for receiving (one may open "
                                   "it later)"),)  # fmt: skip
