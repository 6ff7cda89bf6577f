"""The debugger's commands: `shmtop waiters` and `shmtop show msg ID --messages` (no Textual)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from shmtop.core.waits.settings import MAX_SECONDS

# Only `waiters` and `show msg ID --messages` import this module (cli/commands.py defines their
# arguments: every command builds the whole parser), and the scanner and pages only when run.

EXIT_ERROR = 1
EXIT_USAGE = 2


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
    from shmtop.core.waits.waiters import WaiterScanner
    from shmtop.text.wait_export import report_dict
    from shmtop.text.wait_pages import waiter_lines

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


# ---- show msg ID --messages ----


def run_show_messages(args: argparse.Namespace) -> int:
    if args.kind != "msg":
        return _fail("--messages applies to message queues: shmtop show msg ID --messages", 2)
    from shmtop.core.binding import native
    from shmtop.core.errors import no_such_object
    from shmtop.core.model import Kind
    from shmtop.core.snapshot.collect import Collector
    from shmtop.core.waits.waiters import WaiterScanner
    from shmtop.text import report
    from shmtop.text.export import queue_dict
    from shmtop.text.wait_export import peek_dict, waiter_dict
    from shmtop.text.wait_pages import message_lines, peek_error, unreadable_note, waiter_table

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
