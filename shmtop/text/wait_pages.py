"""The waiter pages: the waits table, deadlock and stuck banners, notes, queued messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shmtop.core.binding import native
from shmtop.core.model import Kind, MessageQueue
from shmtop.core.waits.wait_verdict import HEADLINE, Liveness, Outcome, Verdict
from shmtop.core.waits.waitgraph import Evidence
from shmtop.text import report
from shmtop.text.errors import object_error
from shmtop.text.hexdump import hex_lines
from shmtop.text.process_names import CELL_WIDTH, LINE_WIDTH, process_label, process_name
from shmtop.text.sanitize import safe_text
from shmtop.text.units import clock, since

if TYPE_CHECKING:
    from shmtop.core.waits.records import NamedSemaphore, Waiter, WaitKind
    from shmtop.core.waits.wait_report import WaitReport

SHOWN_MAPPERS = 3  # mapper hints named in COULD BE RELEASED BY; the rest are counted
SHOWN_FACTS = 6  # facts of a verdict said in a line; the rest are counted (JSON has all)
SINCE_NOTE = (
    "SINCE: the first scan that saw the wait (it may have begun earlier); "
    "STATE: waiting (someone running can release it), stuck, deadlock or unknown"
)


def label(found: WaitReport, pid: int, width: int | None = CELL_WIDTH) -> str:
    """'1234 (postgres: checkpointer)', '1234 (gone)' for a process no longer running,
    '-' for 0 (sanitised, the name cut to width)."""
    return process_label(pid, found.processes.get(pid), found.titles.get(pid), width)


def released_by(found: WaitReport, waiter: Waiter) -> str:
    """Who could release a waiter, each with its evidence; hints say so."""
    edges = found.releases_of(waiter)
    # Mappers that run first: they are the ones that can post.
    mappers = sorted((r for r in edges if r.evidence is Evidence.MAPPER),
                     key=lambda r: not _runs(found, r.releaser))  # fmt: skip
    shown = [r for r in edges if r.evidence is not Evidence.MAPPER] + mappers[:SHOWN_MAPPERS]
    parts = [f"{label(found, r.releaser)} {r.evidence}{' (hint)' if r.hint else ''}"
             for r in shown]  # fmt: skip
    if len(mappers) > SHOWN_MAPPERS:  # a semaphore all backends map: say how many, not who
        more = len(mappers) - SHOWN_MAPPERS
        parts.append(f"{report.counted(more, 'more process', 'more processes')} mapping it")
    state = found.semaphore_sets.get(waiter.object_id) if waiter.kind is Kind.SEM else None
    if state is not None and state.unreadable:
        parts.append(f"? (set unreadable: {state.unreadable})")
    return "; ".join(parts) or "?"


def _runs(found: WaitReport, pid: int) -> bool:
    status = found.statuses.get(pid)
    return status is not None and status.liveness is Liveness.RUNNING


def who(found: WaitReport, pid: int) -> str:
    """'1234 (name)', or '1234' when its name is not known (it is gone, or unreadable)."""
    return process_label(pid, found.processes.get(pid), found.titles.get(pid), missing="")


def because_text(found: WaitReport, verdict: Verdict) -> str:
    """The facts of a verdict: '4300 (holder) runs', '4300 is gone (exited); 4301 ...'
    (the first SHOWN_FACTS of them, and how many more)."""
    # safe_text: a fact may name a POSIX object (untrusted)
    facts = [f"{who(found, pid)} {safe_text(what)}" if pid else safe_text(what)
             for pid, what in verdict.because[:SHOWN_FACTS]]  # fmt: skip
    if len(verdict.because) > SHOWN_FACTS:
        facts.append(f"and {len(verdict.because) - SHOWN_FACTS} more")
    return "; ".join(facts)


def verdict_text(found: WaitReport, verdict: Verdict) -> str:
    """'nobody can release it: 4300 is gone (exited)'."""
    return f"{HEADLINE[verdict.outcome]}: {because_text(found, verdict)}"


def since_text(found: WaitReport, waiter: Waiter) -> str:
    """'14:02:11 (42s)': when the wait was first seen, and how long it has lasted;
    ', assumed' inside when the thread may have run since (see Waiter.since_verified)."""
    return since(waiter.since, found.taken_at, assumed=not waiter.since_verified)


def waiter_table(found: WaitReport, waiters: Sequence[Waiter], *, target: bool = True) -> list[str]:
    headers = ["PID", "TID", "COMMAND", "WAITS ON", "OPERATION", "SINCE", "STATE",
               "COULD BE RELEASED BY"]  # fmt: skip
    rows = [
        [
            str(w.pid),
            str(w.tid),
            process_name(w.command, w.title, CELL_WIDTH),
            safe_text(w.target),
            safe_text(w.operation()),
            since_text(found, w),
            str(found.verdict_of(w).outcome),
            released_by(found, w),
        ]
        for w in waiters
    ]
    if not target:
        headers.pop(3)
        for row in rows:
            row.pop(3)
    return report.render_table(headers, rows)


def banner_lines(found: WaitReport) -> list[str]:
    """Deadlocks and stuck waits, before the table."""
    lines = []
    for cycle in found.cycles:
        basis = "rests on hints" if cycle.hint else "exact"
        lines.append(f"DEADLOCK: {len(cycle.members)} process(es) wait on each other ({basis})")
        for step in cycle.steps:
            where = object_text(found, step.kind, step.object_id, step.offset)
            where += f" semaphore {step.sem_num}" if step.sem_num is not None else ""
            hint = " (a hint, not proof)" if step.hint else ""
            lines.append(
                f"  {label(found, step.waiter, LINE_WIDTH)} waits on {where}, which "
                f"{label(found, step.releaser, LINE_WIDTH)} could release: {step.evidence}{hint}"
            )
    for stuck in found.stuck:
        where = verdict_object(found, stuck)
        lines.append(
            f"STUCK: {label(found, stuck.pid, LINE_WIDTH)} thread {stuck.tid} on {where}: "
            f"{verdict_text(found, stuck)} (blocked at least since "
            f"{clock(int(stuck.blocked_since))}, {where} "
            f"unchanged since {clock(int(stuck.unchanged_since))})"
        )
    return [*lines, ""] if lines else []


def object_text(found: WaitReport, kind: WaitKind, ident: int, offset: int | None) -> str:
    """'sem 3', or for a futex wait its waiter's target: 'shm 5 +0x40', 'psem /NAME'
    (sanitised: a POSIX name is untrusted)."""
    for waiter in found.on(kind, ident):
        if waiter.queue is not None or (
            offset is not None and waiter.futex is not None and waiter.futex.offset == offset
        ):
            return safe_text(waiter.target)
    return f"{kind} {ident}"


def verdict_object(found: WaitReport, verdict: Verdict) -> str:
    """What a verdict's thread waits on, as object_text says it."""
    for waiter in found.on(verdict.kind, verdict.object_id):
        if waiter.tid == verdict.tid and (waiter.futex is not None or waiter.queue is not None):
            return safe_text(waiter.target)
    return f"{verdict.kind} {verdict.object_id}"


def blocked_words_text(waiters: Sequence[Waiter]) -> str:
    """'blocked on +0x40 (2 threads), +0x80 (1 thread)': the futex words of an object that
    threads sleep on, for the content view; '' when none."""
    counts: dict[int, int] = {}
    for waiter in waiters:
        if waiter.futex is not None:
            counts[waiter.futex.offset] = counts.get(waiter.futex.offset, 0) + 1
    if not counts:
        return ""
    words = ", ".join(f"+{offset:#x} ({report.counted(n, 'thread')})"
                      for offset, n in sorted(counts.items()))  # fmt: skip
    return f"blocked on {words}"


def named_semaphore_lines(found: WaitReport) -> list[str]:
    """Each named semaphore waited on or with waiters counted: value, nwaiters, live ones."""
    return [semaphore_line(s) for s in found.named_semaphores]


def semaphore_line(semaphore: NamedSemaphore) -> str:
    name = safe_text(semaphore.name)
    if semaphore.value is None:
        return f"psem {name}: {semaphore.problem}; {semaphore.live_waiters} live waiters"
    text = (f"psem {name}: value {semaphore.value}, nwaiters {semaphore.nwaiters}, "
            f"{semaphore.live_waiters} live waiters")  # fmt: skip
    if semaphore.stale:
        text += " - nwaiters is stale (a waiter killed while blocked never decrements it)"
    return text


def unknown_lines(found: WaitReport, on: tuple[Kind, int] | None = None) -> list[str]:
    """Waits whose verdict is unknown (those on one object, if given), each with its reason."""
    return [
        f"unknown: {label(found, v.pid)} thread {v.tid} on {verdict_object(found, v)}: "
        f"{verdict_text(found, v)}"
        for v in found.verdicts
        if v.outcome is Outcome.UNKNOWN and on in (None, (v.kind, v.object_id))
    ]


def waiter_lines(found: WaitReport) -> list[str]:
    if found.unsupported:
        return [f"waiters cannot be scanned here: {found.unsupported}"]
    lines = banner_lines(found)
    if found.waiters:
        order = sorted(found.waiters, key=lambda w: (w.kind, w.object_id, w.pid, w.tid))
        lines += waiter_table(found, order)
        lines += ["", SINCE_NOTE]
    if found.named_semaphores:
        lines += ["", "Named semaphores (glibc's sem_t: value u32 at 0, nwaiters u32 at 4)"]
        lines += [f"  {line}" for line in named_semaphore_lines(found)]
        lines.append("")
    lines.append(found.summary())
    return [*lines, *unknown_lines(found), *unreadable_note(found), *notes(found)]


def unreadable_note(found: WaitReport) -> list[str]:
    """What the scan could not see (processes not inspected, hidepid): their waits are unknown."""
    blind = found.blind_spot()
    if not blind:
        return []
    return [f"note: {blind}{report.root_advice()}; their waits are not listed"]


def notes(found: WaitReport) -> list[str]:
    """Threads left out and sets that could not be read."""
    lines = []
    for why, count in sorted(found.ignored.items()):
        lines.append(f"note: {count} blocked threads left out ({why})")
    for state in found.semaphore_sets.values():
        if state.unreadable:
            lines.append(
                f"note: sem {state.id} is unreadable ({state.unreadable}): its values "
                "and last changers are unknown"
            )
    return lines


def peek_error(error: OSError, queue: MessageQueue) -> str:
    """Why a queue seen a moment ago could not be read (removed since: no such object)."""
    return object_error(error.errno, "msg", queue.id, str(error.strerror or error))


def message_lines(peek: native.MsgPeek | OSError, queue: MessageQueue, shown: int) -> list[str]:
    """The queued messages, each as a header line and a hexdump of its first bytes."""
    if isinstance(peek, OSError):
        return [f"Messages: not read ({peek_error(peek, queue)})"]
    if peek.unsupported:
        return [f"Messages: not read: {peek.unsupported}"]
    if not peek.messages and not peek.problem:
        return ["Messages: none queued"]
    lines = [f"Messages ({len(peek.messages)} read with MSG_COPY, left on the queue)"]
    for message in peek.messages:
        cut = message.data[:shown]
        size = f"{message.size} bytes" + (
            f", first {len(cut)} shown" if len(cut) < message.size else ""
        )
        lines.append(f"#{message.index}  type {message.mtype}  {size}")
        lines += [f"  {line}" for line in hex_lines([cut])] if cut else []
    if peek.more:
        lines.append("(more messages queued than were read)")
    if peek.problem:
        lines.append(f"stopped: {peek.problem}")
    if peek.changed:
        lines.append("note: the queue changed while it was read; messages may be missing")
    return lines
