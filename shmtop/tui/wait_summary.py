"""Waiter reports boiled down for the views: alert lines, objects to mark, counts per queue."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from shmtop.debug_cli import banner_lines, label
from shmtop.ipc.model import Kind
from shmtop.ipc.waiters import WaitReport
from shmtop.report import counted

NOUN = {Kind.SEM: "set", Kind.MSG: "queue", Kind.SHM: "segment"}


def summary_alerts(report: WaitReport) -> list[str]:
    """One line a deadlock or stall, each saying where to look (process names sanitised)."""
    lines = []
    deadlocked: set[int] = set()
    for cycle in report.cycles:
        basis = "rests on hints" if cycle.hint else "exact"
        objects = list(dict.fromkeys((step.kind, step.object_id) for step in cycle.steps))
        where = ", ".join(f"{kind} {ident}" for kind, ident in objects)
        if len(cycle.members) == 1:
            who = f"{label(report, cycle.members[0])} waits for itself"
        else:
            members = ", ".join(label(report, pid) for pid in cycle.members)
            who = f"{len(cycle.members)} processes wait on each other: {members}"
        kind, ident = objects[0]
        lines.append(
            f"DEADLOCK: {who} on {where} ({basis}) — Enter on {NOUN[kind]} {ident} for details"
        )
        deadlocked.update(cycle.members)
    for stall in report.stalls:
        if stall.pid in deadlocked:
            continue  # said above, and more
        lines.append(
            f"STALL: {label(report, stall.pid)} has waited {stall.stalled_for:.0f}s on "
            f"{stall.kind} {stall.object_id} while it did not change — Enter on "
            f"{NOUN[stall.kind]} {stall.object_id} for details"
        )
    return lines


def object_alerts(report: WaitReport, kind: Kind, ident: int) -> list[str]:
    """The deadlocks and stalls one object is part of, in full (the CLI's words)."""
    cycles = tuple(
        cycle for cycle in report.cycles
        if any(step.kind is kind and step.object_id == ident for step in cycle.steps)
    )  # fmt: skip
    stalls = tuple(s for s in report.stalls if s.kind is kind and s.object_id == ident)
    mine = dataclasses.replace(report, cycles=cycles, stalls=stalls)
    return [line for line in banner_lines(mine) if line]


def alerted(report: WaitReport, kind: Kind) -> set[int]:
    """Ids of the objects of one kind that a deadlock or a stall involves."""
    found = {step.object_id for c in report.cycles for step in c.steps if step.kind is kind}
    return found | {stall.object_id for stall in report.stalls if stall.kind is kind}


def queue_counts(report: WaitReport) -> dict[int, tuple[int, int]]:
    """Blocked (senders, receivers) of each queue somebody waits on."""
    counts: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    for waiter in report.waiters:
        if waiter.kind is Kind.MSG:
            counts[waiter.object_id][0 if waiter.direction == "send" else 1] += 1
    return {msqid: (send, receive) for msqid, (send, receive) in counts.items()}


def scan_summary(report: WaitReport) -> str:
    """'WAITERS 3' and what the scan could not see, for a status line."""
    if report.unsupported:
        return f"WAITERS ? ({report.unsupported})"
    text = f"WAITERS {len(report.waiters)}"
    if report.unreadable_total:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(report.unreadable.items()))
        text += f" ({counted(report.unreadable_total, 'process')} not inspected: {reasons})"
    return text
