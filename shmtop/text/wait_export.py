"""Waiter reports and queue peeks as JSON-ready dicts (the schema README.md documents)."""

from __future__ import annotations

from typing import Any

from shmtop.core.binding.native import MsgPeek
from shmtop.core.waits.records import MSG_FLAGS, QueueState, SemState, Waiter, flag_names
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.wait_verdict import ProcessStatus, Verdict
from shmtop.core.waits.waitgraph import Release, WaitCycle
from shmtop.text.export import iso_time


def release_dict(release: Release, report: WaitReport) -> dict[str, Any]:
    return {
        "waiter": release.waiter,
        "kind": str(release.kind),
        "id": release.object_id,
        "sem_num": release.sem_num,
        "releaser": release.releaser,
        "releaser_command": report.processes.get(release.releaser),
        "releaser_title": report.titles.get(release.releaser),
        "evidence": str(release.evidence),
        "hint": release.hint,
    }


def waiter_dict(waiter: Waiter, report: WaitReport) -> dict[str, Any]:
    operations = None
    if waiter.operations is not None:
        operations = [
            {"sem_num": op.num, "sem_op": op.op, "sem_flg": op.flags, "flags": list(op.flag_names)}
            for op in waiter.operations
        ]
    return {
        "pid": waiter.pid,
        "tid": waiter.tid,
        "command": waiter.command,
        "title": waiter.title,
        "kind": str(waiter.kind),
        "id": waiter.object_id,
        "syscall": waiter.syscall,
        "operation": waiter.operation(),
        "since": iso_time(waiter.since),
        "since_verified": waiter.since_verified,
        "operations": operations,
        "waits_for": list(waiter.waits_for),
        "timeout_seconds": waiter.timeout,
        "direction": waiter.direction,
        "msg_type": waiter.msg_type,
        "msg_flags": list(flag_names(waiter.msg_flags, MSG_FLAGS)),
        "msg_size": waiter.msg_size,
        "unreadable": waiter.unreadable,
        "released_by": [release_dict(r, report) for r in report.releases_of(waiter)],
        **verdict_fields(report.verdict_of(waiter)),
    }


def verdict_fields(verdict: Verdict) -> dict[str, Any]:
    """A wait's verdict: `state` and the facts it rests on."""
    return {
        "state": str(verdict.outcome),
        "because": [{"pid": pid or None, "what": what} for pid, what in verdict.because],
    }


def status_dict(status: ProcessStatus, report: WaitReport) -> dict[str, Any]:
    return {
        "pid": status.pid,
        "command": report.processes.get(status.pid),
        "state": str(status.liveness),
        "why": status.why or None,
    }


def sem_state_dict(state: SemState) -> dict[str, Any]:
    return {
        "id": state.id,
        "nsems": state.nsems,
        "values": None if state.values is None else list(state.values),
        "last_changers": None if state.last_changers is None else list(state.last_changers),
        "unreadable": state.unreadable,
        "unchanged_since": iso_time(state.unchanged_since),
    }


def queue_state_dict(state: QueueState) -> dict[str, Any]:
    return {
        "id": state.id,
        "qnum": state.qnum,
        "cbytes": state.cbytes,
        "lspid": state.lspid,
        "lrpid": state.lrpid,
        "unchanged_since": iso_time(state.unchanged_since),
    }


def cycle_dict(cycle: WaitCycle, report: WaitReport) -> dict[str, Any]:
    return {
        "members": list(cycle.members),
        "hint": cycle.hint,
        "steps": [release_dict(step, report) for step in cycle.steps],
    }


def stuck_dict(verdict: Verdict) -> dict[str, Any]:
    return {
        "pid": verdict.pid,
        "tid": verdict.tid,
        "kind": str(verdict.kind),
        "id": verdict.object_id,
        "blocked_since": iso_time(verdict.blocked_since),
        "unchanged_since": iso_time(verdict.unchanged_since),
        **verdict_fields(verdict),
    }


def report_dict(report: WaitReport) -> dict[str, Any]:
    """The whole report: `shmtop waiters --json`."""
    return {
        "taken_at": iso_time(report.taken_at),
        "unsupported": report.unsupported,
        "verdict": report.summary(),
        "complete": report.complete,
        "hidden": report.hidden,
        "stuck_after_seconds": report.stuck_after,
        "processes_scanned": report.processes_scanned,
        "threads_scanned": report.tasks_scanned,
        "unreadable": dict(report.unreadable),
        "unreadable_total": report.unreadable_total,
        "ignored": dict(report.ignored),
        "waiters": [waiter_dict(w, report) for w in report.waiters],
        "semaphore_sets": [sem_state_dict(s) for s in report.semaphore_sets.values()],
        "queues": [queue_state_dict(q) for q in report.queues.values()],
        "cycles": [cycle_dict(c, report) for c in report.cycles],
        "stuck": [stuck_dict(v) for v in report.stuck],
        "processes": [status_dict(s, report) for s in report.statuses.values()],
    }


def peek_dict(peek: MsgPeek, shown_bytes: int) -> dict[str, Any]:
    """Messages of a peek, each with at most shown_bytes of its text as hex."""
    return {
        "unsupported": peek.unsupported,
        "more": peek.more,
        "problem": peek.problem,
        "changed_while_read": peek.changed,
        "messages": [
            {
                "index": m.index,
                "type": m.mtype,
                "size": m.size,
                "data_hex": m.data[:shown_bytes].hex(),
                "truncated": m.size > min(len(m.data), shown_bytes),
            }
            for m in peek.messages
        ],
    }
