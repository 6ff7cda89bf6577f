"""Waiter reports boiled down for the views: alert lines, objects to mark, counts per queue."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from shmtop.core.model import Kind
from shmtop.core.posix.model import PosixKind
from shmtop.core.waits.records import AnonKind, MqKind, WaitKind
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.wait_verdict import Outcome
from shmtop.text.report import counted
from shmtop.text.wait_pages import (
    banner_lines,
    because_text,
    label,
    object_text,
    verdict_object,
)

NOUN: dict[WaitKind, str] = {
    Kind.SEM: "set", Kind.MSG: "queue", Kind.SHM: "segment",
    PosixKind.SHM: "POSIX object", PosixKind.SEM: "named semaphore", MqKind.MQ: "POSIX queue",
    AnonKind.ANON: "shared anonymous memory",
}  # fmt: skip
VIEWED = (Kind.SEM, Kind.MSG)  # the kinds whose view lists their waiters


def summary_alerts(report: WaitReport) -> list[str]:
    """One line a deadlock or stuck wait, each saying where to look (process names sanitised).

    A long wait that someone running can release is no alarm and has no line."""
    lines = []
    deadlocked: set[int] = set()
    for cycle in report.cycles:
        basis = "rests on hints" if cycle.hint else "exact"
        objects = list(dict.fromkeys((step.kind, step.object_id) for step in cycle.steps))
        where = ", ".join(dict.fromkeys(
            object_text(report, step.kind, step.object_id, step.offset) for step in cycle.steps
        ))  # fmt: skip
        if len(cycle.members) == 1:
            who = f"{label(report, cycle.members[0])} waits for itself"
        else:
            members = ", ".join(label(report, pid) for pid in cycle.members)
            who = f"{len(cycle.members)} processes wait on each other: {members}"
        viewed = next(((k, i) for k, i in objects if k in VIEWED), None)  # a view lists waiters
        enter = "" if viewed is None else f" — Enter on {NOUN[viewed[0]]} {viewed[1]} for details"
        lines.append(f"DEADLOCK: {who} on {where} ({basis}){enter}")
        deadlocked.update(cycle.members)
    for stuck in report.stuck:
        if stuck.pid in deadlocked:
            continue  # said above, and more
        where = verdict_object(report, stuck)
        enter = f" — Enter on {NOUN[stuck.kind]} {stuck.object_id} for details"
        lines.append(
            f"STUCK: {label(report, stuck.pid)} on {where}: nobody can release it "
            f"({because_text(report, stuck)}){enter if stuck.kind in VIEWED else ''}"
        )
    return lines


def object_alerts(report: WaitReport, kind: Kind, ident: int) -> list[str]:
    """The deadlocks and stuck waits one object is part of, in full (the CLI's words)."""
    cycles = tuple(
        cycle for cycle in report.cycles
        if any(step.kind is kind and step.object_id == ident for step in cycle.steps)
    )  # fmt: skip
    verdicts = tuple(
        v for v in report.verdicts
        if v.outcome is not Outcome.STUCK or (v.kind is kind and v.object_id == ident)
    )  # fmt: skip
    mine = dataclasses.replace(report, cycles=cycles, verdicts=verdicts)
    return [line for line in banner_lines(mine) if line]


def alerted(report: WaitReport, kind: Kind) -> set[int]:
    """Ids of the objects of one kind that a deadlock or a stuck wait involves."""
    found = {step.object_id for c in report.cycles for step in c.steps if step.kind is kind}
    return found | {v.object_id for v in report.stuck if v.kind is kind}


def queue_counts(report: WaitReport) -> dict[int, tuple[int, int]]:
    """Blocked (senders, receivers) of each queue somebody waits on."""
    counts: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    for waiter in report.waiters:
        if waiter.kind is Kind.MSG:
            counts[waiter.object_id][0 if waiter.direction == "send" else 1] += 1
    return {msqid: (send, receive) for msqid, (send, receive) in counts.items()}


def scan_summary(report: WaitReport) -> str:
    """'WAITERS 3' and what the scan could not see, for a status line ('WAITERS ?' when it
    found none but could not see everything)."""
    if report.unsupported:
        return f"WAITERS ? ({report.unsupported})"
    count = str(len(report.waiters)) if report.waiters or report.complete else "?"
    text = f"WAITERS {count}"
    if report.unreadable_total:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(report.unreadable.items()))
        text += f" ({counted(report.unreadable_total, 'process')} not inspected: {reasons})"
    if report.hidden:
        text += f" ({report.hidden})"
    return text
