"""The debugger's commands: `shmtop waiters` and `shmtop show msg ID --messages` (no Textual)."""

from __future__ import annotations

import argparse
import math
import time
from typing import TYPE_CHECKING

from shmtop.cli.output import EXIT_OK, EXIT_USAGE, CliError, emit
from shmtop.core.waits.settings import MAX_SECONDS

if TYPE_CHECKING:
    from shmtop.text.documents import NamespaceRecord

# Only `waiters`, `show msg ID --messages` and `list --watch`'s check import this module
# (cli/commands.py defines their arguments: every command builds the whole parser), and the
# scanner and pages only when run.


# ---- waiters ----


def seconds_problem(name: str, value: float, *, zero: bool) -> str | None:
    """Why a number of seconds is refused (inf, nan, negative, too long), or None."""
    low = "0" if zero else "more than 0"
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero) or value > MAX_SECONDS:
        return f"{name} takes seconds from {low} to {MAX_SECONDS:g}, not {value:g}"
    return None


def run_waiters(args: argparse.Namespace, namespace: NamespaceRecord | None = None) -> int:
    """The waiter scan (of the calling thread's IPC namespace: namespace names it in JSON,
    default the caller's)."""
    problem = seconds_problem("--observe", args.observe, zero=True) or seconds_problem(
        "--stuck-after", args.stuck_after, zero=False
    )
    if problem:
        raise CliError(problem, EXIT_USAGE)
    from shmtop.core.waits.waiters import WaiterScanner
    from shmtop.text.wait_documents import waiters_document
    from shmtop.text.wait_pages import waiter_lines

    scanner = WaiterScanner(stuck_after=args.stuck_after)
    try:
        found = scanner.scan()
        deadline = time.monotonic() + args.observe
        while time.monotonic() < deadline:
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
            found = scanner.scan()
    except OSError as error:
        raise CliError(f"cannot scan for waiters: {error}") from error
    if args.json:
        emit(waiters_document(found, namespace))
    else:
        print("\n".join(waiter_lines(found)))
    return EXIT_OK


# ---- show msg ID --messages ----


def run_show_messages(args: argparse.Namespace, namespace: NamespaceRecord | None = None) -> int:
    """The queue, its blocked processes and its messages (MSG_COPY), of the calling thread's
    IPC namespace (a joined thread: namespace names it in JSON, default the caller's)."""
    if args.kind != "msg":
        raise CliError(
            "--messages applies to message queues: shmtop show msg ID --messages", EXIT_USAGE
        )
    from shmtop.core.binding import native
    from shmtop.core.model import Kind
    from shmtop.core.snapshot.collect import Collector
    from shmtop.core.waits.waiters import WaiterScanner
    from shmtop.text import report
    from shmtop.text.documents import QueueRecord, queue_record
    from shmtop.text.errors import no_such_object, tables_unreadable
    from shmtop.text.wait_documents import messages_record, queue_messages_document, waiter_record
    from shmtop.text.wait_pages import message_lines, peek_error, unreadable_note, waiter_table

    try:
        snapshot = Collector(attachments=False).snapshot()
        queue = snapshot.queue(args.id)
        if queue is None:
            raise CliError(no_such_object("msg", args.id))
        found = WaiterScanner().scan()
        peek: native.MsgPeek | OSError
        try:
            peek = native.msg_peek(args.id, args.max_messages)
        except OSError as error:
            peek = error
    except OSError as error:
        raise CliError(tables_unreadable(error)) from error
    waiters = found.on(Kind.MSG, args.id)
    if args.json:
        record = queue_record(queue, snapshot, QueueRecord, namespace)
        blocked = [waiter_record(w, found) for w in waiters]
        if isinstance(peek, native.MsgPeek):
            document = queue_messages_document(
                record, blocked, found, messages_record(peek, args.shown_bytes), None
            )
        else:
            document = queue_messages_document(
                record, blocked, found, None, peek_error(peek, queue)
            )
        emit(document)
        return EXIT_OK
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
    return EXIT_OK
