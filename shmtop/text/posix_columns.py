"""The TUI's POSIX tabs (pshm, psem, pmq): their rows and columns, in text/columns.py's
Column type so the one table widget draws, sorts and fits them.

A row carries its object and the POSIX scan it came from (cells read the scan, never the
System V snapshot the widget also holds). Its id is a number made from the object's
identity, (device, inode), so cursor, tags and highlights follow the object, not its name.
The columns keep the 80x24 rule of the System V tabs: the identity (NAME), OWNER, the
size and use (SIZE and MAPS; VALUE and NWAIT; MSGS and QSIZE) and STATUS first, free text
(who maps or holds it) last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shmtop.core.posix.model import PosixKind, PosixObject, PosixSnapshot
from shmtop.core.posix.mqueue import MqQueue, MqSnapshot
from shmtop.core.snapshot.accounts import user_name
from shmtop.text import mqueue_table, posix_table
from shmtop.text.columns import Column
from shmtop.text.namespace_rows import Where, ns_label, ns_short
from shmtop.text.posix_sorting import QUEUE_SORTS, SHM_SORTS
from shmtop.text.sanitize import safe_text
from shmtop.text.units import human_size, octal_perms, short_age


def row_id(dev: int, inode: int) -> int:
    """One number for (device, inode): the row's id (inodes are 64-bit, devices 32)."""
    return (dev << 64) | inode


@dataclass(frozen=True, slots=True)
class ShmRow:
    """A POSIX shm object or named semaphore, with its scan (not compared: a row is
    unchanged while its object is)."""

    id: int
    obj: PosixObject
    scan: PosixSnapshot = field(compare=False)
    # The IPC namespace it is shown under (across namespaces; 0: the caller's, alone).
    inode: int = field(default=0, compare=False)
    ns_name: str = field(default="", compare=False)  # untrusted: a hostname
    current: bool = field(default=True, compare=False)
    # Another namespace's: the scan with the paths reachable from here (/proc/PID/root/...),
    # what removal and the hex view act on (`scan` names them as its processes do).
    acting: PosixSnapshot | None = field(default=None, compare=False)

    @property
    def short(self) -> str:
        return ns_short(self.inode, self.ns_name)

    @property
    def label(self) -> str:
        return ns_label(self.inode, self.ns_name, current=self.current)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A POSIX message queue, with its scan."""

    id: int
    queue: MqQueue
    scan: MqSnapshot = field(compare=False)
    inode: int = field(default=0, compare=False)  # its IPC namespace (ShmRow's)
    ns_name: str = field(default="", compare=False)
    current: bool = field(default=True, compare=False)

    @property
    def short(self) -> str:
        return ns_short(self.inode, self.ns_name)

    @property
    def label(self) -> str:
        return ns_label(self.inode, self.ns_name, current=self.current)


PosixRow = ShmRow | QueueRow


def shm_rows(
    scan: PosixSnapshot, kind: PosixKind, where: Where | None = None,
    acting: PosixSnapshot | None = None,
) -> tuple[ShmRow, ...]:  # fmt: skip
    """The rows of kind; where: their IPC namespace (inode, name, the caller's), when shown
    across namespaces; acting: the same scan with paths reachable from here."""
    if where is None:
        return tuple(ShmRow(row_id(*o.key), o, scan) for o in posix_table.objects_of(scan, kind))
    inode, name, current = where
    found = {o.key: o for o in acting.objects} if acting is not None else {}
    return tuple(
        ShmRow(_across(row_id(*o.key), inode, current), o, scan, inode, name, current,
               _acting(acting, found.get(o.key)))
        for o in posix_table.objects_of(scan, kind)
    )  # fmt: skip


def _acting(acting: PosixSnapshot | None, obj: PosixObject | None) -> PosixSnapshot | None:
    return acting if obj is not None else None


def queue_rows(scan: MqSnapshot, where: Where | None = None) -> tuple[QueueRow, ...]:
    if where is None:
        return tuple(QueueRow(row_id(*q.key), q, scan) for q in scan.queues)
    inode, name, current = where
    return tuple(QueueRow(_across(row_id(*q.key), inode, current), q, scan, inode, name, current)
                 for q in scan.queues)  # fmt: skip


def _across(ident: int, inode: int, current: bool) -> int:
    """Another namespace's row id: its inode above (device, inode), so that (namespace,
    object) is the identity; the caller's rows keep theirs (as namespace_rows.row_key)."""
    return ident if current else (inode << 128) | ident


_Cell = Callable[[Any], str]


def _col(
    key: str, header: str, cell: _Cell, sort: Callable[[Any], Any], about: str, width: int,
    cap: int = 0, fit: Callable[[Any, int], str] | None = None,
) -> Column:  # fmt: skip
    """A Column whose cells read only the row (the System V snapshot is ignored)."""
    return Column(
        key, header, lambda r, _s: cell(r), lambda r, _s: sort(r), about=about, width=width,
        cap=cap, fit=(lambda r, _s, w: fit(r, w)) if fit is not None else None,
    )  # fmt: skip


def _by(key: str, kind: PosixKind = PosixKind.SHM) -> Callable[[ShmRow], Any]:
    """The sort of column `key` (text/posix_sorting.py, which `list --sort` takes too)."""
    sort = SHM_SORTS[kind][key]
    return lambda r: sort(r.obj, r.scan)


def _q_by(key: str) -> Callable[[QueueRow], Any]:
    sort = QUEUE_SORTS[key]
    return lambda r: sort(r.queue, r.scan)


def _fitted(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _stated(row: ShmRow, text: str) -> str:
    return text if row.obj.stat_known else "?"


def _maps(row: ShmRow) -> str:
    return str(len(row.obj.mapper_pids))


def _users(row: ShmRow) -> str:
    """'12 app rw, 14 cat ro; holds: 20 sh': mappers, then processes holding only an fd."""
    mapped = posix_table.mapped_by(row.obj, row.scan)
    holders = [p for p in row.obj.holder_pids if p not in row.obj.mapper_pids]
    if not holders:
        return mapped
    held = posix_table.held_by(row.obj, row.scan)
    return f"holds: {held}" if mapped == "-" else f"{mapped}; holds: {held}"


# fmt: off
_NAME = _col("name", "NAME", lambda r: safe_text(r.obj.name), _by("name"),
             "the POSIX name (/NAME), or the path of an object of another mount", 16, 32)
_OWNER = _col("owner", "OWNER", lambda r: _stated(r, safe_text(user_name(r.obj.uid))),
              _by("owner"), "the owning user (? when it could not be stat'ed)", 6, 12)
_PERMS = _col("perms", "PERMS", lambda r: _stated(r, octal_perms(r.obj.mode)),
              _by("perms"), "permission bits, in octal", 4)
_STATUS = _col("status", "STATUS", lambda r: posix_table.status(r.obj, r.scan),
               _by("status"),
               "orphan, unused or unlinked (the POSIX leak rule); elsewhere: not in /dev/shm",
               9, 20)
_CHANGED = _col("changed", "CHANGED",
                lambda r: _stated(r, short_age(max(r.obj.mtime, r.obj.ctime), r.scan.taken_at)),
                _by("changed"), "the last change, as an age", 4, 6)
_USERS = _col("users", "MAPPED BY", _users, _by("users"),
              "who maps it (rw or ro), then who only holds it open", 16,
              fit=lambda r, w: _fitted(_users(r), w))
# fmt: on

PSHM_COLUMNS = (
    _NAME, _OWNER, _PERMS,
    _col("size", "SIZE", lambda r: human_size(r.obj.size), _by("size"),
         "its size", 7),
    _col("maps", "MAPS", _maps, _by("maps"),
         "how many processes map it (found in their maps)", 3, 6),
    _STATUS,
    _col("alloc", "ALLOC", lambda r: _stated(r, human_size(r.obj.allocated)),
         _by("alloc"), "memory it holds (allocated blocks)", 7),
    _CHANGED, _USERS,
)  # fmt: skip


def _value(row: ShmRow) -> str:
    sem = row.obj.semaphore
    return "?" if sem is None or sem.value is None else str(sem.value)


def _nwaiters(row: ShmRow) -> str:
    sem = row.obj.semaphore
    return "?" if sem is None or sem.nwaiters is None else str(sem.nwaiters)


PSEM_COLUMNS = (
    _NAME, _OWNER, _PERMS,
    _col("value", "VALUE", _value, _by("value", PosixKind.SEM),
         "the semaphore's value (glibc's sem_t)", 5, 11),
    _col("nwaiters", "NWAIT", _nwaiters,
         _by("nwaiters", PosixKind.SEM),
         "glibc's waiter count: a hint (a killed waiter never decrements it)", 3, 11),
    _col("maps", "MAPS", _maps, _by("maps", PosixKind.SEM),
         "how many processes map it", 3, 6),
    _STATUS, _CHANGED, _USERS,
)  # fmt: skip


def _q_messages(row: QueueRow) -> str:
    return mqueue_table.messages(row.queue, row.scan)


def _q_waiters(row: QueueRow) -> str:
    senders, receivers = len(row.queue.senders), len(row.queue.receivers)
    return f"{senders}/{receivers}" if senders or receivers else "-"


_HELD_BY = dict(mqueue_table.COLUMNS)["HELD BY"]


def _q_users(row: QueueRow) -> str:
    return _HELD_BY(row.queue, row.scan)


PMQ_COLUMNS = (
    _col("name", "NAME", lambda r: safe_text(r.queue.name), _q_by("name"),
         "the queue's POSIX name (/NAME)", 16, 32),
    _col("owner", "OWNER", lambda r: safe_text(user_name(r.queue.entry.uid)),
         _q_by("owner"), "the owning user", 6, 12),
    _col("perms", "PERMS", lambda r: octal_perms(r.queue.entry.mode),
         _q_by("perms"), "permission bits, in octal", 4),
    _col("msgs", "MSGS", _q_messages, _q_by("msgs"),
         "messages queued now / the most it takes", 5, 11),
    _col("qsize", "QSIZE", lambda r: human_size(r.queue.entry.state.qsize),
         _q_by("qsize"), "bytes queued", 6),
    _col("status", "STATUS", lambda r: "-" if r.queue.linked else "unlinked",
         _q_by("status"), "unlinked: mq_unlink'd, kept by its holders", 8, 10),
    _col("waiting", "WAIT s/r", _q_waiters, _q_by("waiting"),
         "threads blocked sending (full) / receiving (empty)", 3, 9),
    _col("msgsize", "MSGSIZE", lambda r: human_size(r.queue.entry.state.max_size),
         _q_by("msgsize"), "the largest message it takes", 6),
    _col("lastop", "LAST OP", lambda r: short_age(r.queue.entry.mtime, r.scan.taken_at),
         _q_by("lastop"), "the last send or receive, as an age", 4, 6),
    _col("held", "HELD BY", _q_users, _q_by("held"),
         "the processes that have it open", 16, fit=lambda r, w: _fitted(_q_users(r), w)),
)  # fmt: skip
