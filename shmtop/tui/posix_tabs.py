"""The main screen's POSIX tabs: which there are, what the detail pane says of a row, and
the removal plan (the main screen asks; the core's identity-checked unlinks act).

Separate tabs, not rows in the System V tables: a POSIX object is a name with a (device,
inode) identity, a System V one an id and a key; their use is counted differently (nattch
by the kernel, mappers found in /proc) and so are their waiters (the kernel's ncnt, glibc's
nwaiters hint). One table for both would give columns meaning one thing on one row and
another on the next (README: POSIX objects in the view).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from shmtop.core.model import Kind
from shmtop.core.posix import actions, mqueue_actions
from shmtop.core.posix.actions import PosixOutcome, PosixRemoval
from shmtop.core.posix.model import MQ_KIND, PosixKind, PosixObject, PosixSnapshot
from shmtop.core.posix.verdicts import DEFAULT_GRACE, users_text
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text import mqueue_table, posix_columns, posix_table
from shmtop.text.columns import Column
from shmtop.text.errors import posix_removal_text
from shmtop.text.namespace_rows import Where
from shmtop.text.report import counted
from shmtop.text.sanitize import safe_text
from shmtop.text.units import human_size
from shmtop.tui.posix_source import PosixPart, PosixView
from shmtop.tui.widgets.posix_table import RowsOf

Row = posix_columns.PosixRow


def _where(part: PosixPart) -> Where:
    ns = part.namespace
    return (ns.inode, ns.name, ns.current)


def _shm_rows(kind: PosixKind) -> RowsOf:
    def rows(view: PosixView) -> tuple[Any, ...]:
        if view.parts is not None:  # across namespaces: each one's, with it
            return tuple(row for part in view.parts if part.shm is not None
                         for row in posix_columns.shm_rows(part.shm, kind, _where(part),
                                                           part.acting))  # fmt: skip
        return posix_columns.shm_rows(view.shm, kind) if view.shm is not None else ()

    return rows


def _queue_rows(view: PosixView) -> tuple[Any, ...]:
    if view.parts is not None:
        return tuple(row for part in view.parts if part.queues is not None
                     for row in posix_columns.queue_rows(part.queues, _where(part)))  # fmt: skip
    return posix_columns.queue_rows(view.queues) if view.queues is not None else ()


@dataclass(frozen=True, slots=True)
class PosixTab:
    key: str  # pshm, psem, pmq: the CLI's kind names
    title: str  # the tab's label (short: six tabs fit 80 columns)
    kind: Kind  # the kind of thing: shared memory, semaphores, queues
    noun: str  # one of them, in the confirmation
    columns: tuple[Column, ...]
    rows_of: RowsOf


POSIX_TABS = (
    PosixTab("pshm", "pshm", Kind.SHM, "POSIX shared memory object",
             posix_columns.PSHM_COLUMNS, _shm_rows(PosixKind.SHM)),
    PosixTab("psem", "psem", Kind.SEM, "named semaphore",
             posix_columns.PSEM_COLUMNS, _shm_rows(PosixKind.SEM)),
    PosixTab("pmq", "pmq", Kind.MSG, "POSIX message queue",
             posix_columns.PMQ_COLUMNS, _queue_rows),
)  # fmt: skip
TABS = {tab.key: tab for tab in POSIX_TABS}
FULL_TITLES = {
    "pshm": "POSIX shared memory",
    "psem": "POSIX named semaphores",
    "pmq": "POSIX message queues",
}
NO_FEED = "POSIX objects are not scanned in this view"
SHARES = "shares "  # a PosixPart's note: its /dev/shm is shown under another namespace
PMQ_NOT_OPENED = "a POSIX queue's messages cannot be read without taking them (no MSG_COPY)"


# ---- the detail pane ----


def leak_lines(obj: PosixObject, scan: PosixSnapshot) -> list[str]:
    """The flag on an unlinked object still mapped or open: memory no ls shows."""
    if obj.linked:
        return []
    held = human_size(obj.allocated) if obj.stat_known else human_size(obj.size) + " (size)"
    return [
        f"LEAK? unlinked but still mapped or open: it holds {held} that no ls of /dev/shm "
        "shows, and no name is left to remove.",
        f"  it is freed when these unmap or close it: {safe_text(users_text(obj, scan))}",
    ]


def semaphore_lines(obj: PosixObject, waits: WaitReport | None, scanning: bool) -> list[str]:
    """Live waiters (threads the waiter scan found in futex on it) against glibc's nwaiters."""
    sem = obj.semaphore
    if sem is None or sem.value is None:
        return []
    if waits is None:
        how = "scanning…" if scanning else "the psem tab or w scans for them"
        return [f"  waiters    nwaiters {sem.nwaiters} (a hint); live waiters unknown ({how})"]
    found = next((n for n in waits.named_semaphores
                  if (n.device, n.inode) == obj.key), None)  # fmt: skip
    live = [w for w in waits.on(PosixKind.SEM, obj.inode) if w.futex is None
            or w.futex.device in (0, obj.dev)]  # fmt: skip
    count = found.live_waiters if found is not None else len(live)
    nwaiters = sem.nwaiters or 0
    stale = max(nwaiters - count, 0)
    line = f"  waiters    {count} live, nwaiters {nwaiters}"
    if stale:
        line += f": {stale} stale (a waiter killed while blocked never decrements nwaiters)"
    lines = [line]
    for waiter in live:
        lines.append(f"    {waiter.pid} {safe_text(waiter.command)} thread {waiter.tid}: "
                     f"{safe_text(waiter.operation())}")  # fmt: skip
    return lines


def detail_lines(row: Row, waits: WaitReport | None = None, scanning: bool = False) -> list[str]:
    """The CLI's `show` page of the row's object, with the leak flag and live waiters (and
    its IPC namespace, across namespaces)."""
    where = [f"IPC namespace {row.label}"] if row.inode else []
    if isinstance(row, posix_columns.QueueRow):
        return where + mqueue_table.detail_lines(row.scan, row.queue)
    lines = where + posix_table.detail_lines(row.scan, row.obj)
    at = len(where) + 1
    lines[at:at] = leak_lines(row.obj, row.scan)  # first: it is what matters most
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("  value ")), len(lines))
    lines[at:at] = semaphore_lines(row.obj, waits, scanning)
    return lines


def empty_text(tab: str, view: PosixView | None) -> str:
    if view is None:
        return f"{FULL_TITLES[tab]}: {NO_FEED}" if tab else "Nothing selected."
    if view.problem:
        return safe_text(view.problem)
    if tab == MQ_KIND and view.queues is not None and not view.queues.listed:
        return mqueue_table.summary_line(view.queues)
    return f"No {FULL_TITLES[tab]}."


# ---- removal ----


def refusal(row: Row) -> str | None:
    """Why the row's object cannot be unlinked at all (what would free it), else None."""
    if isinstance(row, posix_columns.QueueRow):
        return mqueue_actions.refusal(row.queue)
    return actions.refusal(row.obj, row.scan)


def name_of(row: Row) -> str:
    return row.queue.name if isinstance(row, posix_columns.QueueRow) else row.obj.name


def _across(rows: Sequence[Row]) -> bool:
    """Rows of another IPC namespace among them (the question and plan then name each)."""
    return any(not r.current for r in rows)


def plan_lines(tab: str, rows: Sequence[Row]) -> list[str]:
    """The confirmation's plan: the CLI's `rm` plan of the same objects; across namespaces,
    namespace by namespace, each named."""
    if not _across(rows):
        return _plan(tab, rows)
    groups: dict[int, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.inode, []).append(row)
    lines = []
    for group in groups.values():
        lines += [f"in IPC namespace {group[0].label}:", *_plan(tab, group)]
    return lines


def _plan(tab: str, rows: Sequence[Row]) -> list[str]:
    queues = [r.queue for r in rows if isinstance(r, posix_columns.QueueRow)]
    if queues:
        return mqueue_table.plan_lines(queues)
    shm = [r for r in rows if isinstance(r, posix_columns.ShmRow)]
    if not shm:
        return []
    return posix_table.plan_lines(shm[0].scan, [r.obj for r in shm], DEFAULT_GRACE)


def question(tab: str, rows: Sequence[Row]) -> str:
    noun = TABS[tab].noun if len(rows) == 1 else FULL_TITLES[tab].removeprefix("POSIX ")
    what = f"{len(rows)} {noun}" if len(rows) > 1 else f"{noun} {safe_text(name_of(rows[0]))}"
    if _across(rows):
        labels = {r.label for r in rows}
        what += (f" in IPC namespace {next(iter(labels))}" if len(labels) == 1
                 else f" in {len(labels)} IPC namespaces")  # fmt: skip
    return f"Unlink {what}? The name goes; who maps or holds it keeps it until they let go."


def refused_note(tab: str, rows: Sequence[Row]) -> str:
    """Why nothing of the choice can go (each refusal, shortened to one line)."""
    parts = [f"{safe_text(name_of(r))}: {safe_text(refusal(r) or '')}" for r in rows]
    return f"cannot remove {'; '.join(parts)}"


Placed = Callable[[int], tuple[Any, Any]]  # inode -> (the NamespaceFeed, its Namespace)


def remove(rows: Sequence[Row], placed: Placed | None = None) -> list[PosixRemoval]:
    """The core's unlinks (run in a worker): each checks the name still is the object,
    inside the row's namespace: another's shm file by the path reachable from here (its
    member's root), its queue by mq_unlink in the thread joined to it (`placed`)."""
    done = []
    for row in rows:
        if isinstance(row, posix_columns.QueueRow):
            done.append(_remove_queue(row, placed))
        elif row.acting is not None:
            obj = row.acting.find(*row.obj.key)
            if obj is None:
                done.append(PosixRemoval(row.obj.name, PosixOutcome.REFUSED, NOT_SHOWN))
                continue
            # Said by the name its processes use, not by the path through its member's root.
            removal = actions.remove(obj, row.acting)
            done.append(msgspec.structs.replace(removal, name=row.obj.name))
        else:
            done.append(actions.remove(row.obj, row.scan))
    return done


NOT_SHOWN = "its IPC namespace is not shown now"


def _remove_queue(row: posix_columns.QueueRow, placed: Placed | None) -> PosixRemoval:
    if row.current:
        return mqueue_actions.remove(row.queue)
    feed, namespace = placed(row.inode) if placed is not None else (None, None)
    if feed is None or namespace is None:
        return PosixRemoval(row.queue.name, PosixOutcome.REFUSED, NOT_SHOWN)
    try:
        removal: PosixRemoval = feed.run_in(namespace, mqueue_actions.remove, row.queue)
    except KeyError:
        return PosixRemoval(row.queue.name, PosixOutcome.REFUSED, NOT_SHOWN)
    return removal


def removal_lines(
    tab: str, removals: Sequence[PosixRemoval], rows: Sequence[Row] = ()
) -> list[tuple[str, bool]]:
    """Each outcome as the CLI says it (after its namespace, for another's row: rows are
    the removals' own, in order), and whether it went well."""
    kind = tab if tab != "psem" else str(PosixKind.SEM)
    where = [f"{r.label}: " if not r.current else "" for r in rows] or [""] * len(removals)
    return [(w + posix_removal_text(kind, r), r.outcome.ok)
            for w, r in zip(where, removals, strict=True)]  # fmt: skip


def label(tab: str, shown: int, total: int) -> str:
    return f"{TABS[tab].title} ({shown}" + (f"/{total})" if shown != total else ")")


def summary_note(view: PosixView | None, tab: str) -> str:
    """The status line's word on the tab's POSIX scan: what it could not see, what leaks."""
    if view is None:
        return ""
    parts = []
    if tab == MQ_KIND and view.queues is not None:
        note = mqueue_table.blind_spot_note(view.queues)
        if note:
            parts.append(note)
    elif view.shm is not None:
        # Across namespaces: every one shown (each /dev/shm once), not the caller's alone.
        scans = [p.shm for p in view.parts if p.shm] if view.parts is not None else [view.shm]
        unlinked = [o for scan in scans for o in scan.objects if not o.linked]
        if unlinked:
            held = human_size(sum(o.allocated for o in unlinked))
            holding = sum(any(not o.linked for o in scan.objects) for scan in scans)
            where = f" in {holding} IPC namespaces" if holding > 1 else ""
            parts.append(f"{counted(len(unlinked), 'unlinked POSIX object')} holding {held}"
                         f"{where}")  # fmt: skip
        if posix_table.blind_spot_note(view.shm) and view.shm.uninspected:
            parts.append(f"POSIX: {counted(len(view.shm.uninspected), 'process')} not inspected")
    if view.problem:
        parts.append(safe_text(view.problem))
    # What a namespace could not show (unread); not one sharing a /dev/shm shown already
    # (`unshare --ipc` alone: common, and its objects are on screen).
    notes = [f"{p.namespace.name}: {p.note}" for p in view.parts or ()
             if p.note and not p.note.startswith(SHARES)]  # fmt: skip
    if notes:
        parts.append(safe_text(notes[0]) + (f" (+{len(notes) - 1} more)" if len(notes) > 1 else ""))
    return "  •  ".join(parts)
