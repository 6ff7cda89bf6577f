"""`shmtop waiters` on POSIX message queues: real children blocked in mq_receive on an empty
queue and in mq_send on a full one (tests/pmq_child.py), found by the waiter scan with the
queue's name, its counts and who holds it open for the other direction; gone once released.

The session's IPC namespace is private (conftest): the queues are the session's own, and
every one is unlinked at the end; every child is killed by its PID.
"""

from __future__ import annotations

import os

import pytest
from helpers import wait_until
from pmq_kids import Kid, Queues, identity, receive, send, start

from shmtop.core.binding import native
from shmtop.core.waits.records import MqKind, Waiter
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.wait_verdict import Outcome
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.core.waits.waitgraph import Evidence
from shmtop.text.wait_pages import waiter_lines

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's fds: root")


def queue_waiters(report: WaitReport, pid: int) -> list[Waiter]:
    return [w for w in report.waiters if w.pid == pid and w.kind is MqKind.MQ]


def scan_until(scanner: WaiterScanner, pid: int) -> tuple[WaitReport, Waiter]:
    """Scan until pid shows blocked on a queue (bounded); the report and its waiter."""
    found: list[WaitReport] = []

    def seen() -> bool:
        found[:] = [scanner.scan()]
        return len(queue_waiters(found[0], pid)) == 1

    wait_until(seen, f"{pid} shows blocked on a queue")
    return found[0], queue_waiters(found[0], pid)[0]


def gone_from_scans(scanner: WaiterScanner, pid: int) -> None:
    wait_until(lambda: not queue_waiters(scanner.scan(), pid), f"{pid} is no queue waiter")


def test_a_receiver_on_an_empty_queue_is_a_waiter_with_its_name_and_senders_and_goes_when_sent_to(
    mq_queues: Queues, mq_kids: list[Kid]
) -> None:
    name = mq_queues.make(max_messages=3, max_size=40)
    other = mq_queues.make()
    writer = start(mq_kids, name, "w")  # holds it open for sending, blocked nowhere
    start(mq_kids, other, "w")  # a sender of another queue: no releaser of this one
    reader = start(mq_kids, name, "r")  # holds it for receiving only: no releaser either
    kid = start(mq_kids, name, "r", "receive")
    scanner = WaiterScanner()
    report, waiter = scan_until(scanner, kid.pid)

    assert (waiter.object_id, waiter.syscall, waiter.direction) == (
        identity(name)[1], "mq_timedreceive", "receive")  # fmt: skip
    assert waiter.queue is not None and waiter.target == f"pmq {name}"
    assert (waiter.queue.device, waiter.queue.fd) == (identity(name)[0], kid.fd)
    assert (waiter.queue.messages, waiter.queue.max_messages, waiter.queue.max_size) == (0, 3, 40)
    assert waiter.msg_size == 40  # pmq_child receives with a buffer of mq_msgsize
    assert waiter.queue.senders == (writer.pid,)
    assert waiter.queue.receivers == tuple(sorted((reader.pid, kid.pid)))
    edges = report.releases_of(waiter)
    assert [(e.releaser, e.evidence, e.hint) for e in edges] == [
        (writer.pid, Evidence.HOLDS_FOR_SENDING, True)]  # fmt: skip
    assert report.verdict_of(waiter).outcome is Outcome.WAITING  # the writer runs
    assert waiter.operation() == "receive (buffer 40 bytes; queue empty: 0 of 3 messages)"
    text = "\n".join(waiter_lines(report))
    assert f"pmq {name}" in text and "holds it open for sending (hint)" in text

    send(name, b"wake up")
    gone_from_scans(scanner, kid.pid)
    kid.process.wait()  # it took the message and ended
    assert kid.process.returncode == 0


def test_a_sender_on_a_full_queue_is_a_waiter_released_by_receivers_and_goes_when_received_from(
    mq_queues: Queues, mq_kids: list[Kid]
) -> None:
    name = mq_queues.make(max_messages=1, max_size=16)
    kid = start(mq_kids, name, "w", "send:first", "send-block:second")
    scanner = WaiterScanner()
    report, waiter = scan_until(scanner, kid.pid)

    assert (waiter.syscall, waiter.direction, waiter.msg_size) == ("mq_timedsend", "send", 6)
    assert waiter.queue is not None and waiter.queue.priority == 0
    assert waiter.operation() == "send 6 bytes, priority 0 (queue full: 1 of 1 messages)"
    # Nobody holds it open for receiving: who could release it is unknown, never "stuck".
    assert waiter.queue.receivers == () and report.releases_of(waiter) == ()
    verdict = report.verdict_of(waiter)
    assert verdict.outcome is Outcome.UNKNOWN
    assert (0, f"no process holds {name} open for receiving (one may open it later)") in (
        verdict.because)  # fmt: skip

    reader = start(mq_kids, name, "r")
    report, waiter = scan_until(scanner, kid.pid)
    assert [(e.releaser, e.evidence) for e in report.releases_of(waiter)] == [
        (reader.pid, Evidence.HOLDS_FOR_RECEIVING)]  # fmt: skip
    assert report.verdict_of(waiter).outcome is Outcome.WAITING

    assert receive(name) == b"first"
    gone_from_scans(scanner, kid.pid)
    kid.process.wait()
    assert kid.process.returncode == 0
    assert receive(name) == b"second"  # what it was blocked sending


def test_a_receiver_that_alone_holds_its_queue_for_sending_waits_for_itself(
    mq_queues: Queues, mq_kids: list[Kid]
) -> None:
    """One thread, blocked receiving on a queue only it could send to: a cycle of one (a
    hint: another process may still open the queue)."""
    name = mq_queues.make()
    kid = start(mq_kids, name, "rw", "receive")
    report, waiter = scan_until(WaiterScanner(), kid.pid)

    assert waiter.queue is not None and waiter.queue.senders == (kid.pid,)
    assert report.verdict_of(waiter).outcome is Outcome.DEADLOCK
    (cycle,) = report.cycles
    assert cycle.members == (kid.pid,) and cycle.hint


def test_an_unlinked_queue_waited_on_is_named_and_said_unlinked(
    mq_queues: Queues, mq_kids: list[Kid]
) -> None:
    name = mq_queues.make()
    kid = start(mq_kids, name, "r", "receive")
    scanner = WaiterScanner()
    scan_until(scanner, kid.pid)
    inode = identity(name)[1]
    native.mq_unlink(name)  # the child still holds it: the queue stays, nameless
    _, waiter = scan_until(scanner, kid.pid)
    assert waiter.queue is not None and not waiter.queue.linked
    assert waiter.object_id == inode and waiter.target == f"pmq {name} (unlinked)"
