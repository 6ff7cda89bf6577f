"""Each kind's columns (key, header, cell, sort), the one table `list` and the TUI both use.

One rule orders both faces: ascending by the column's sort key, ties by id, and
times sort as ages (newest first, never last); `list --reverse` and the TUI's
invert flip the whole order.

The TUI shows the columns in the tables' order: the short ones first, STATUS among
them (so that id, key, owner, size, nattch and status fit 80 columns), free text
(attached processes, values, last sender) last, sharing whatever width is left.
Each column says how wide its cells are by nature (`width`) and how far its data
may widen it (`cap`), so widths never follow one refresh's contents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

from msgspec import Struct

from shmtop.core.model import IpcObject, Kind, MessageQueue, Segment, SemaphoreSet, Snapshot
from shmtop.core.verdicts import judge
from shmtop.text.process_names import pid_note
from shmtop.text.report import (
    attached_summary,
    compact_values,
    creator_label,
    flags_cell,
    process_label,
    render_table,
    status_words,
)
from shmtop.text.sanitize import safe_text
from shmtop.text.units import age, hex_key, human_size, octal_perms, short_age

Cell = Callable[[Any, Snapshot], str]
FitCell = Callable[[Any, Snapshot, int], str]
SortKey = Callable[[Any, Snapshot], Any]
TUI_ATTACHED_WIDTH = 40

_OBJECT_ID = attrgetter("id")


class Column(Struct, frozen=True):
    """One column: its key (what `--sort` and the TUI's saved sort name), header, cell
    text (sanitised) and sort key.

    `wide` is the cell `list` prints where a line has room for more than a TUI
    column (the creator's name, a longer attached list); None: the same cell.
    A `counted` column shows a waiter scan's counts in the TUI (set by the screen)
    instead of `cell`, which stands in while no scan is on (and in `list`).
    `about` is what the column means (the help screens show it). `width` is how wide
    its cells are by nature, `cap` how far the data shown may widen it (0: never).
    A `fit` column is free text: the TUI gives it the width the others leave and
    draws it with `fit(obj, snapshot, width)`.
    """

    key: str
    header: str
    cell: Cell
    sort: SortKey
    wide: Cell | None = None
    counted: bool = False
    about: str = ""
    width: int = 0
    cap: int = 0
    fit: FitCell | None = None

    def line_cell(self, obj: Any, snapshot: Snapshot) -> str:
        """The cell as `list` prints it."""
        return (self.wide or self.cell)(obj, snapshot)


def _by(attribute: Callable[[Any], Any]) -> SortKey:
    """A sort key that needs no snapshot."""
    return lambda obj, snapshot: attribute(obj)


def _time(name: str, header: str, about: str) -> Column:
    """A time column: shown as an age ('5s'; `list`: '5s ago'), sorted as one (newest first,
    never (0) last)."""
    return Column(
        name,
        header,
        lambda o, snap: short_age(getattr(o, name), snap.taken_at),
        lambda o, snap: -getattr(o, name) if getattr(o, name) else float("inf"),
        wide=lambda o, snap: age(getattr(o, name), snap.taken_at),
        about=f"{about}, as an age (- never)",
        width=4,
        cap=6,
    )


def _creator(s: Segment, snapshot: Snapshot) -> str:
    """The creator's pid, and whether it is gone (or cannot be told) as creator_label says."""
    if not s.cpid or s.creator_alive:
        return str(s.cpid or "-")
    return pid_note(s.cpid, "gone" if s.creator_alive is False else "unknown")


def _status_words(obj: IpcObject, snapshot: Snapshot) -> tuple[str, ...]:
    """dest, locked, the orphan rule's word (shmtop.core.verdicts), partial/inconsistent."""
    return status_words(obj, judge(obj, snapshot))


def _status(obj: IpcObject, snapshot: Snapshot) -> str:
    return ",".join(_status_words(obj, snapshot))


STATUS = Column(
    "status", "STATUS", _status, _status_words, wide=flags_cell,
    about="the kernel's flags and the orphan rule's word (see Status words)", width=11, cap=26,
)  # fmt: skip

COMMON = (
    Column("id", "ID", lambda o, snap: str(o.id), _by(lambda o: o.id),
           about="the kernel's id (what ipcrm -m/-s/-q takes)", width=5, cap=10),
    Column("key", "KEY", lambda o, snap: hex_key(o.owner.key), _by(lambda o: o.owner.key),
           about="the key it was made with (0x00000000: private, IPC_PRIVATE)", width=10),
    Column("owner", "OWNER", lambda o, snap: safe_text(o.owner.user), _by(lambda o: o.owner.user),
           about="the owning user", width=6, cap=12),
    Column("perms", "PERMS", lambda o, snap: octal_perms(o.owner.perms),
           _by(lambda o: o.owner.perms), about="permission bits, in octal", width=4),
)  # fmt: skip


def _attached_cell(s: Segment, snapshot: Snapshot, width: int) -> str:
    return attached_summary(s, width)


SEGMENT_COLUMNS = (
    *COMMON,
    Column("size", "SIZE", lambda s, snap: human_size(s.size), _by(lambda s: s.size),
           about="the segment's size", width=7),
    Column("nattch", "NATTCH", lambda s, snap: str(s.nattch), _by(lambda s: s.nattch),
           about="how many attachments the kernel counts", width=3, cap=6),
    STATUS,
    Column("rss", "RSS", lambda s, snap: human_size(s.rss), _by(lambda s: s.rss or 0),
           about="its pages in memory (resident)", width=7),
    Column("creator", "CREATOR", _creator, _by(lambda s: s.cpid),
           wide=lambda s, snap: creator_label(snap, s),
           about="the creator's pid, (gone) once it exited", width=7, cap=16),
    _time("atime", "ATTACH", "the last attach"),
    _time("dtime", "DETACH", "the last detach"),
    Column("attached", "ATTACHED", lambda s, snap: attached_summary(s, TUI_ATTACHED_WIDTH),
           _by(lambda s: s.attached_pids), wide=lambda s, snap: attached_summary(s),
           about="the processes attached to it (pid and name; +N more)", width=16,
           fit=_attached_cell),
)  # fmt: skip


def _waiting(s: SemaphoreSet, snapshot: Snapshot) -> str:
    if s.semaphores is None:
        return "?"
    ncnt = sum(m.ncnt for m in s.semaphores)
    zcnt = sum(m.zcnt for m in s.semaphores)
    return f"{ncnt}/{zcnt}" if ncnt or zcnt else "-"


SEMAPHORE_COLUMNS = (
    *COMMON,
    Column("nsems", "NSEMS", lambda s, snap: str(s.nsems), _by(lambda s: s.nsems),
           about="how many semaphores the set holds", width=3, cap=5),
    Column("waiters", "WAIT n/z", _waiting, _by(lambda s: s.waiters or 0),
           about="threads waiting for a value to rise (n) / to reach zero (z)", width=3, cap=11),
    STATUS,
    _time("otime", "LAST OP", "the last semop"),
    Column("values", "VALUES", lambda s, snap: compact_values(s, 28),
           _by(lambda s: tuple(m.value for m in s.semaphores or ())),
           wide=lambda s, snap: compact_values(s),
           about="each semaphore's value, in order (Enter shows them labelled)", width=12,
           fit=lambda s, snap, width: compact_values(s, width)),
)  # fmt: skip


def _used(q: MessageQueue, snapshot: Snapshot) -> str:
    return f"{human_size(q.cbytes)}/{human_size(q.qbytes)}"


QUEUE_COLUMNS = (
    *COMMON,
    Column("qnum", "MSGS", lambda q, snap: str(q.qnum), _by(lambda q: q.qnum),
           about="messages queued", width=3, cap=7),
    Column("cbytes", "USED/MAX", _used, _by(lambda q: q.cbytes),
           about="bytes queued / the queue's limit", width=10, cap=15),
    STATUS,
    Column("waiting", "WAITERS s/r", lambda q, snap: "-", _by(lambda q: 0), counted=True,
           about="blocked senders / receivers (w scans for them)", width=3, cap=11),
    _time("stime", "SENT", "the last send"),
    _time("rtime", "RECEIVED", "the last receive"),
    Column("lspid", "LAST SENDER", lambda q, snap: process_label(snap, q.lspid),
           _by(lambda q: q.lspid), about="the last process that sent", width=12,
           fit=lambda q, snap, width: process_label(snap, q.lspid, max(width - 8, 4))),
    Column("lrpid", "LAST RECEIVER", lambda q, snap: process_label(snap, q.lrpid),
           _by(lambda q: q.lrpid), about="the last process that received", width=12,
           fit=lambda q, snap, width: process_label(snap, q.lrpid, max(width - 8, 4))),
)  # fmt: skip

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    Kind.SHM: SEGMENT_COLUMNS,
    Kind.SEM: SEMAPHORE_COLUMNS,
    Kind.MSG: QUEUE_COLUMNS,
}

# The IPC namespace of a row that carries one (text/namespace_rows.NsRow: the TUI's tables
# across namespaces; `list -A` heads its tables with the same header). Not in COLUMNS: a
# table of one namespace's objects has no namespace to show. 10 wide (an inode), widened
# to 12 at most, so that STATUS stays on an 80-column screen; a longer name is cut (the
# detail pane names it whole).
NS_COLUMN = Column(
    "ns", "NS", lambda row, snap: row.short, _by(lambda row: (not row.current, row.inode)),
    about="the IPC namespace: a container, a hostname, or its inode (A shows every one)",
    width=10, cap=12,
)  # fmt: skip

# The columns `list` prints (a line has no room for every time the TUI shows).
LIST_COLUMNS: dict[Kind, tuple[str, ...]] = {
    Kind.SHM: ("id", "key", "owner", "perms", "size", "rss", "nattch", "creator", "attached",
               "status"),
    Kind.SEM: ("id", "key", "owner", "perms", "nsems", "values", "waiters", "otime", "status"),
    Kind.MSG: ("id", "key", "owner", "perms", "qnum", "cbytes", "lspid", "lrpid", "status"),
}  # fmt: skip

# What `list --sort` takes besides the columns: facts no table shows, and an old name.
_LAST_PID = Column("lpid", "LAST PID", lambda s, snap: str(s.lpid), _by(lambda s: s.lpid))
_CHANGED = _time("ctime", "CHANGED", "the last IPC_SET")
SORT_ONLY: dict[Kind, tuple[Column, ...]] = {
    Kind.SHM: (_LAST_PID, _CHANGED),
    Kind.SEM: (_CHANGED,),
    Kind.MSG: (_CHANGED,),
}
ALIASES: dict[Kind, dict[str, str]] = {Kind.SHM: {"cpid": "creator"}, Kind.SEM: {}, Kind.MSG: {}}


def column(kind: Kind, key: str) -> Column | None:
    """The column (or sort-only fact) `key` names for a kind, old names included."""
    key = ALIASES[kind].get(key, key)
    return next((c for c in (*COLUMNS[kind], *SORT_ONLY[kind]) if c.key == key), None)


def sort_names(kind: Kind) -> list[str]:
    """Every name `list --sort` takes for a kind."""
    return [c.key for c in (*COLUMNS[kind], *SORT_ONLY[kind])] + list(ALIASES[kind])


def ordered(objects: Iterable[Any], key: Callable[[Any], Any], reverse: bool) -> list[Any]:
    """The one order of both faces: by key, ties by id; reverse flips both."""
    return sorted(objects, key=lambda o: (key(o), o.id), reverse=reverse)


def sort_objects(
    kind: Kind, objects: Iterable[Any], key: str, snapshot: Snapshot, *, reverse: bool = False
) -> list[Any]:
    """Objects of a kind in the order of the column `key` (the TUI's order too)."""
    found = column(kind, key) or COLUMNS[kind][0]
    if found.key == "id":  # ids are unique: by id alone is the same order, at a third the cost
        return sorted(objects, key=_OBJECT_ID, reverse=reverse)  # (every --watch line)
    sort = found.sort
    return ordered(objects, lambda o: sort(o, snapshot), reverse)


def table_lines(kind: Kind, snapshot: Snapshot, objects: Iterable[Any]) -> list[str]:
    """`list`'s table of objects (already chosen and ordered), a header line first."""
    shown = [c for key in LIST_COLUMNS[kind] for c in COLUMNS[kind] if c.key == key]
    cells = [c.wide or c.cell for c in shown]  # line_cell's choice, made once, not a cell
    rows = [[cell(o, snapshot) for cell in cells] for o in objects]
    return render_table([c.header for c in shown], rows)
