"""The columns of the three tables: label, cell text and sort key for each kind of object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shmtop.core.model import IpcObject, Kind, MessageQueue, Segment, SemaphoreSet, Snapshot
from shmtop.core.verdicts import judge
from shmtop.text.report import (
    attached_summary,
    compact_values,
    human_size,
    process_label,
    status_words,
)
from shmtop.text.sanitize import safe_text

Cell = Callable[[Any, Snapshot], str]


def short_age(epoch: int, now: float) -> str:
    """'5s', '3m', '2h', '4d' since epoch; '-' for never. Coarse, so cells rarely change."""
    if not epoch:
        return "-"
    seconds = max(int(now - epoch), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its key, header label, cell text (sanitised) and sort key.

    A `counted` column shows the table's waiter counts (a waiter scan's, set by
    the screen) instead of `cell`, which stands in while no scan is on.
    """

    key: str
    label: str
    cell: Cell
    sort: Callable[[Any], Any]
    counted: bool = False
    ranked: Callable[[Any, Snapshot], Any] | None = None  # a sort key that needs the snapshot


def _key(obj: IpcObject, snapshot: Snapshot) -> str:
    return f"0x{obj.owner.key:08x}"


def _owner(obj: IpcObject, snapshot: Snapshot) -> str:
    return safe_text(obj.owner.user)


def _perms(obj: IpcObject, snapshot: Snapshot) -> str:
    return f"{obj.owner.perms:03o}"


def _creator(s: Segment, snapshot: Snapshot) -> str:
    if not s.cpid:
        return "-"
    return f"{s.cpid}" + {True: "", False: " gone", None: " ?"}[s.creator_alive]


def _status_words(obj: IpcObject, snapshot: Snapshot) -> tuple[str, ...]:
    """dest, locked, the orphan rule's word (shmtop.core.verdicts), partial/inconsistent."""
    return status_words(obj, judge(obj, snapshot))


def _status(obj: IpcObject, snapshot: Snapshot) -> str:
    return ",".join(_status_words(obj, snapshot))


def _status_column() -> Column:
    return Column("status", "STATUS", _status, lambda o: (), ranked=_status_words)


COMMON = (
    Column("id", "ID", lambda o, snap: str(o.id), lambda o: o.id),
    Column("key", "KEY", _key, lambda o: o.owner.key),
    Column("owner", "OWNER", _owner, lambda o: o.owner.user),
    Column("perms", "PERMS", _perms, lambda o: o.owner.perms),
)

SEGMENT_COLUMNS = (
    *COMMON,
    Column("size", "SIZE", lambda s, snap: human_size(s.size), lambda s: s.size),
    Column("rss", "RSS", lambda s, snap: human_size(s.rss), lambda s: s.rss or 0),
    Column("nattch", "NATTCH", lambda s, snap: str(s.nattch), lambda s: s.nattch),
    Column(
        "attached", "ATTACHED", lambda s, snap: attached_summary(s, 40), lambda s: s.attached_pids
    ),
    Column("creator", "CREATOR", _creator, lambda s: s.cpid),
    Column(
        "atime", "ATTACH", lambda s, snap: short_age(s.atime, snap.taken_at), lambda s: -s.atime
    ),
    Column(
        "dtime", "DETACH", lambda s, snap: short_age(s.dtime, snap.taken_at), lambda s: -s.dtime
    ),
    _status_column(),
)


def _waiting(s: SemaphoreSet) -> str:
    if s.semaphores is None:
        return "?"
    ncnt = sum(m.ncnt for m in s.semaphores)
    zcnt = sum(m.zcnt for m in s.semaphores)
    return f"{ncnt}/{zcnt}" if ncnt or zcnt else "-"


SEMAPHORE_COLUMNS = (
    *COMMON,
    Column("nsems", "NSEMS", lambda s, snap: str(s.nsems), lambda s: s.nsems),
    Column(
        "values",
        "VALUES",
        lambda s, snap: compact_values(s, 28),
        lambda s: tuple(m.value for m in s.semaphores or ()),
    ),
    Column("waiters", "WAIT n/z", lambda s, snap: _waiting(s), lambda s: s.waiters or 0),
    Column(
        "otime", "LAST OP", lambda s, snap: short_age(s.otime, snap.taken_at), lambda s: -s.otime
    ),
    _status_column(),
)


def _used(q: MessageQueue, snapshot: Snapshot) -> str:
    return f"{human_size(q.cbytes)}/{human_size(q.qbytes)}"


QUEUE_COLUMNS = (
    *COMMON,
    Column("qnum", "MSGS", lambda q, snap: str(q.qnum), lambda q: q.qnum),
    Column("cbytes", "USED/MAX", _used, lambda q: q.cbytes),
    Column("waiting", "WAITERS s/r", lambda q, snap: "-", lambda q: 0, counted=True),
    Column("lspid", "LAST SENDER", lambda q, snap: process_label(snap, q.lspid), lambda q: q.lspid),
    Column(
        "lrpid", "LAST RECEIVER", lambda q, snap: process_label(snap, q.lrpid), lambda q: q.lrpid
    ),
    Column("stime", "SENT", lambda q, snap: short_age(q.stime, snap.taken_at), lambda q: -q.stime),
    Column(
        "rtime", "RECEIVED", lambda q, snap: short_age(q.rtime, snap.taken_at), lambda q: -q.rtime
    ),
    _status_column(),
)

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    Kind.SHM: SEGMENT_COLUMNS,
    Kind.SEM: SEMAPHORE_COLUMNS,
    Kind.MSG: QUEUE_COLUMNS,
}


def row_cells(kind: Kind, obj: IpcObject, snapshot: Snapshot) -> tuple[str, ...]:
    """Every cell of an object's row, already sanitised."""
    return tuple(column.cell(obj, snapshot) for column in COLUMNS[kind])
