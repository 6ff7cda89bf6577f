"""`shmtop list|show|rm pmq`: POSIX message queues as plain text (names are untrusted)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from shmtop.core.posix.mqueue import MqQueue, MqSnapshot, MqWaiter
from shmtop.core.posix.mqueue_actions import refusal, users_text
from shmtop.core.snapshot.accounts import user_name
from shmtop.text.posix_table import listed, process_label
from shmtop.text.report import counted, render_table
from shmtop.text.sanitize import safe_text
from shmtop.text.units import clock, human_size, octal_perms, short_age

TITLE = "POSIX message queues"
TIMES_NOTE = (
    "reading a queue's status line (as shmtop does) sets its atime and ctime; mtime is its "
    "last send or receive"
)

_Cell = Callable[[MqQueue, MqSnapshot], str]


def _process(snapshot: MqSnapshot, pid: int) -> str:
    return process_label(snapshot.processes, pid)


def _known(value: int | None) -> str:
    return "?" if value is None else str(value)


def messages(queue: MqQueue, snapshot: MqSnapshot) -> str:
    """'2/10': queued now / the most it takes."""
    state = queue.entry.state
    return f"{_known(state.messages)}/{_known(state.max_messages)}"


def _waiting(waiters: Sequence[MqWaiter], snapshot: MqSnapshot) -> str:
    return listed([_process(snapshot, pid) for pid in sorted({w.pid for w in waiters})])


def _notify(queue: MqQueue, snapshot: MqSnapshot) -> str:
    pid = queue.entry.state.notify_pid
    return _process(snapshot, pid) if pid else "-"


COLUMNS: tuple[tuple[str, _Cell], ...] = (
    ("NAME", lambda q, s: safe_text(q.name)),
    ("OWNER", lambda q, s: safe_text(user_name(q.entry.uid))),
    ("PERMS", lambda q, s: octal_perms(q.entry.mode)),
    ("MSGS", messages),
    ("MSGSIZE", lambda q, s: human_size(q.entry.state.max_size)),
    ("QSIZE", lambda q, s: human_size(q.entry.state.qsize)),
    ("LAST OP", lambda q, s: short_age(q.entry.mtime, s.taken_at)),
    ("STATUS", lambda q, s: "-" if q.linked else "unlinked"),
    ("NOTIFY", _notify),
    ("SENDERS", lambda q, s: _waiting(q.senders, s)),
    ("RECEIVERS", lambda q, s: _waiting(q.receivers, s)),
    ("HELD BY", lambda q, s: listed([_process(s, pid) for pid in q.holder_pids])),
)


def table_lines(snapshot: MqSnapshot) -> list[str]:
    """The table of every queue, a header line first."""
    rows = [tuple(cell(q, snapshot) for _, cell in COLUMNS) for q in snapshot.queues]
    return render_table([header for header, _ in COLUMNS], rows)


def summary_line(snapshot: MqSnapshot) -> str:
    """'POSIX message queues (3, 1 unlinked; read through /dev/mqueue)'."""
    if not snapshot.listed:
        return f"{TITLE}: none could be listed"
    unlinked = sum(not q.linked for q in snapshot.queues)
    extra = f", {unlinked} unlinked" if unlinked else ""
    return f"{TITLE} ({len(snapshot.queues)}{extra}; read through {snapshot.source})"


def blind_spot_note(snapshot: MqSnapshot) -> str | None:
    """Why a queue, holder or waiter may be missing (None: all was read)."""
    parts = []
    if snapshot.problem is not None:
        parts.append(safe_text(snapshot.problem))
    if snapshot.uninspected:
        count = counted(len(snapshot.uninspected), "process", "processes")
        parts.append(f"{count} could not be inspected (fds or threads unreadable): "
                     "holders and waiters may be missing")  # fmt: skip
    return "; ".join(parts) or None


def plan_lines(targets: Sequence[MqQueue]) -> list[str]:
    """`rm pmq`'s plan: each queue, what it holds, who uses it (or why it cannot go)."""
    rows = []
    for queue in targets:
        refused = refusal(queue)
        state = queue.entry.state
        count = "?" if state.messages is None else counted(state.messages, "message")
        queued = f"{count}, {human_size(state.qsize)}"
        users = users_text(queue) if queue.holders else "held by nobody"
        rows.append((safe_text(queue.name), safe_text(user_name(queue.entry.uid)), queued,
                     safe_text(f"cannot remove: {refused}" if refused else users)))  # fmt: skip
    return render_table(("NAME", "OWNER", "QUEUED", "EVIDENCE"), rows)


def _waiter_line(snapshot: MqSnapshot, waiter: MqWaiter) -> str:
    what = "sending (queue full)" if waiter.sending else "receiving (queue empty)"
    return f"    {_process(snapshot, waiter.pid):<24} thread {waiter.tid}, fd {waiter.fd}: {what}"


def detail_lines(snapshot: MqSnapshot, queue: MqQueue) -> list[str]:
    """`show pmq`'s page of one queue."""
    entry, state = queue.entry, queue.entry.state
    notify = "nobody registered"
    if state.notify_pid:
        notify = f"{_process(snapshot, state.notify_pid)} (sigev_notify {state.notify}"
        notify += f", signal {state.signo})" if state.signo else ")"
    where = "named" if queue.linked else "unlinked: kept by its holders, no name left"
    lines = [
        f"{TITLE[:-1]} {safe_text(queue.name)}",
        f"  where      {where}, read through {snapshot.source}",
        f"  identity   device {os.major(entry.dev)}:{os.minor(entry.dev)}, inode {entry.inode}",
        f"  owner      {safe_text(user_name(entry.uid))} ({entry.uid}), group {entry.gid}, "
        f"mode {octal_perms(entry.mode)}",
        f"  messages   {_known(state.messages)} queued of {_known(state.max_messages)}, "
        f"at most {_known(state.max_size)} bytes each",
        f"  qsize      {_known(state.qsize)} bytes queued",
        f"  notify     {notify}",
        f"  last op    {clock(entry.mtime)} (the last send or receive)",
        f"  changed    {clock(entry.ctime)}, accessed {clock(entry.atime)} ({TIMES_NOTE})",
    ]
    if state.problem:
        lines.append(f"  unknown    {safe_text(state.problem)}")
    lines.append(f"  senders    {counted(len(queue.senders), 'blocked thread')}")
    lines += [_waiter_line(snapshot, w) for w in queue.senders]
    lines.append(f"  receivers  {counted(len(queue.receivers), 'blocked thread')}")
    lines += [_waiter_line(snapshot, w) for w in queue.receivers]
    lines.append(f"  held by    {counted(len(queue.holders), 'fd')}")
    for h in sorted(queue.holders, key=lambda h: (h.pid, h.fd)):
        access = ("r" if h.readable else "") + ("w" if h.writable else "")
        lines.append(f"    {_process(snapshot, h.pid):<24} fd {h.fd} ({access or '-'})")
    return lines
