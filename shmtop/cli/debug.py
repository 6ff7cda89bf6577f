"""The debugger's commands: `shmtop waiters` and `shmtop show msg ID --messages` (no Textual)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from shmtop.core.binding import native
from shmtop.core.errors import GONE, no_such_object, object_error
from shmtop.core.model import Kind, MessageQueue
from shmtop.core.snapshot.collect import Collector
from shmtop.core.waits.wait_verdict import DEFAULT_STUCK_AFTER, HEADLINE, Outcome, Verdict
from shmtop.core.waits.waiters import MAX_SECONDS, Waiter, WaiterScanner, WaitReport
from shmtop.text import report
from shmtop.text.export import queue_dict
from shmtop.text.hexdump import hex_lines
from shmtop.text.numbers import counted
from shmtop.text.process_names import CELL_WIDTH, LINE_WIDTH, process_label, process_name
from shmtop.text.sanitize import safe_text
from shmtop.text.wait_export import peek_dict, report_dict, waiter_dict

EXIT_ERROR = 1
EXIT_USAGE = 2
SHOWN_BYTES = 256
SINCE_NOTE = (
    "SINCE: the first scan that saw the wait (it may have begun earlier); "
    "STATE: waiting (someone running can release it), stuck, deadlock or unknown"
)


def add_commands(subparsers: Any) -> None:
    """Add `waiters` to the top-level subparsers (argparse's _SubParsersAction)."""
    waiters = subparsers.add_parser(
        "waiters", help="threads blocked on semaphores and queues, deadlocks and stuck waits"
    )
    waiters.add_argument("--json", action="store_true", help="typed JSON instead of a table")
    waiters.add_argument(
        "--observe",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"scan once a second for SECONDS (at most {MAX_SECONDS:g}), then report: "
        "how long waits last (a single scan sees each one begin now)",
    )
    waiters.add_argument(
        "--stuck-after",
        "--stall-after",  # the old name, from when a long wait was called a stall
        type=float,
        default=DEFAULT_STUCK_AFTER,
        dest="stuck_after",
        metavar="SECONDS",
        help="a wait nobody can release is called stuck once its object has not changed "
        f"for SECONDS (default {DEFAULT_STUCK_AFTER:g}, at most {MAX_SECONDS:g}): "
        "a wake-up on its way is not stuck",
    )


def add_show_options(show: argparse.ArgumentParser) -> None:
    """Add --messages (and its limits) to the `show` command's parser."""
    show.add_argument(
        "--messages",
        action="store_true",
        help="msg only: blocked senders and receivers, and the queued messages "
        "read without taking them off the queue (MSG_COPY)",
    )
    show.add_argument(
        "--max-messages",
        type=counted,
        default=100,
        metavar="N",
        help="with --messages: read at most N messages (default 100)",
    )
    show.add_argument(
        "--bytes",
        type=counted,
        default=SHOWN_BYTES,
        metavar="N",
        dest="shown_bytes",
        help=f"with --messages: show N bytes of each (default {SHOWN_BYTES})",
    )


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"shmtop: {message}", file=sys.stderr)
    return code


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")


# ---- waiters ----


def seconds_problem(name: str, value: float, *, zero: bool) -> str | None:
    """Why a number of seconds is refused (inf, nan, negative, too long), or None."""
    low = "0" if zero else "more than 0"
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero) or value > MAX_SECONDS:
        return f"{name} takes seconds from {low} to {MAX_SECONDS:g}, not {value:g}"
    return None


def run_waiters(args: argparse.Namespace) -> int:
    problem = seconds_problem("--observe", args.observe, zero=True) or seconds_problem(
        "--stuck-after", args.stuck_after, zero=False
    )
    if problem:
        return _fail(problem, EXIT_USAGE)
    scanner = WaiterScanner(stuck_after=args.stuck_after)
    try:
        found = scanner.scan()
        deadline = time.monotonic() + args.observe
        while time.monotonic() < deadline:
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
            found = scanner.scan()
    except OSError as error:
        return _fail(f"cannot scan for waiters: {error}")
    if args.json:
        _emit_json(report_dict(found))
    else:
        print("\n".join(waiter_lines(found)))
    return 0


def label(found: WaitReport, pid: int, width: int | None = CELL_WIDTH) -> str:
    """'1234 (postgres: checkpointer)', '1234 (gone)' for a process no longer running,
    '-' for 0 (sanitised, the name cut to width)."""
    return process_label(pid, found.processes.get(pid), found.titles.get(pid), width)


def released_by(found: WaitReport, waiter: Waiter) -> str:
    """Who could release a waiter, each with its evidence; hints say so."""
    parts = [
        f"{label(found, r.releaser)} {r.evidence}{' (hint)' if r.hint else ''}"
        for r in found.releases_of(waiter)
    ]
    state = found.semaphore_sets.get(waiter.object_id) if waiter.kind is Kind.SEM else None
    if state is not None and state.unreadable:
        parts.append(f"? (set unreadable: {state.unreadable})")
    return "; ".join(parts) or "?"


def who(found: WaitReport, pid: int) -> str:
    """'1234 (name)', or '1234' when its name is not known (it is gone, or unreadable)."""
    command = found.processes.get(pid)
    return f"{pid} ({safe_text(command)})" if command is not None else str(pid)


def because_text(found: WaitReport, verdict: Verdict) -> str:
    """The facts of a verdict: '4300 (holder) runs', '4300 is gone (exited); 4301 ...'."""
    return "; ".join(f"{who(found, pid)} {what}" if pid else what for pid, what in verdict.because)


def verdict_text(found: WaitReport, verdict: Verdict) -> str:
    """'nobody can release it: 4300 is gone (exited)'."""
    return f"{HEADLINE[verdict.outcome]}: {because_text(found, verdict)}"


def since_text(found: WaitReport, waiter: Waiter) -> str:
    """'14:02:11 (42s)': when the wait was first seen, and how long it has lasted."""
    lasted = report.age(int(waiter.since), found.taken_at).removesuffix(" ago")
    return f"{time.strftime('%H:%M:%S', time.localtime(waiter.since))} ({lasted})"


def waiter_table(found: WaitReport, waiters: Sequence[Waiter], *, target: bool = True) -> list[str]:
    headers = ["PID", "TID", "COMMAND", "WAITS ON", "OPERATION", "SINCE", "STATE",
               "COULD BE RELEASED BY"]  # fmt: skip
    rows = [
        [
            str(w.pid),
            str(w.tid),
            process_name(w.command, w.title, CELL_WIDTH),
            w.target,
            w.operation(),
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
            where = f"{step.kind} {step.object_id}"
            where += f" semaphore {step.sem_num}" if step.sem_num is not None else ""
            hint = " (a hint, not proof)" if step.hint else ""
            lines.append(
                f"  {label(found, step.waiter, LINE_WIDTH)} waits on {where}, which "
                f"{label(found, step.releaser, LINE_WIDTH)} could release: {step.evidence}{hint}"
            )
    for stuck in found.stuck:
        lines.append(
            f"STUCK: {label(found, stuck.pid, LINE_WIDTH)} thread {stuck.tid} on {stuck.kind} "
            f"{stuck.object_id}: {verdict_text(found, stuck)} (blocked at least since "
            f"{report.clock(int(stuck.blocked_since))}, {stuck.kind} {stuck.object_id} "
            f"unchanged since {report.clock(int(stuck.unchanged_since))})"
        )
    return [*lines, ""] if lines else []


def unknown_lines(found: WaitReport, on: tuple[Kind, int] | None = None) -> list[str]:
    """Waits whose verdict is unknown (those on one object, if given), each with its reason."""
    return [
        f"unknown: {label(found, v.pid)} thread {v.tid} on {v.kind} {v.object_id}: "
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


# ---- show msg ID --messages ----


def run_show_messages(args: argparse.Namespace) -> int:
    if args.kind != "msg":
        return _fail("--messages applies to message queues: shmtop show msg ID --messages", 2)
    try:
        snapshot = Collector(attachments=False).snapshot()
        queue = snapshot.queue(args.id)
        if queue is None:
            return _fail(no_such_object("msg", args.id))
        found = WaiterScanner().scan()
        peek: native.MsgPeek | OSError
        try:
            peek = native.msg_peek(args.id, args.max_messages)
        except OSError as error:
            peek = error
    except OSError as error:
        return _fail(f"cannot read the System V IPC tables: {error}")
    waiters = found.on(Kind.MSG, args.id)
    if args.json:
        data: dict[str, Any] = {
            "queue": queue_dict(queue, snapshot),
            "waiters": [waiter_dict(w, found) for w in waiters],
            "unreadable_processes": dict(found.unreadable),
            "messages": peek_dict(peek, args.shown_bytes)
            if isinstance(peek, native.MsgPeek)
            else None,
            "messages_error": None if isinstance(peek, native.MsgPeek) else peek_error(peek, queue),
        }
        _emit_json(data)
        return 0
    lines = report.queue_detail(snapshot, queue)
    for direction, title in (("send", "Blocked senders"), ("receive", "Blocked receivers")):
        chosen = [w for w in waiters if w.direction == direction]
        lines += ["", f"{title} ({len(chosen)})"]
        lines += waiter_table(found, chosen, target=False) if chosen else []
    if found.unsupported:
        lines.append(f"note: waiters cannot be scanned here: {found.unsupported}")
    lines += unreadable_note(found)
    lines += ["", *message_lines(peek, queue, args.shown_bytes)]
    print("\n".join(lines))
    return 0


def peek_error(error: OSError, queue: MessageQueue) -> str:
    """Why a queue seen a moment ago could not be read."""
    if error.errno in GONE:
        return f"msg {queue.id} was removed"
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


HANDLERS: dict[str | None, Callable[[argparse.Namespace], int]] = {"waiters": run_waiters}
