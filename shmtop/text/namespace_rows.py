"""The rows of the TUI's System V tables across IPC namespaces: each object with its
namespace, and the tables' columns and filters made to read them.

Ids repeat across namespaces, so a row's id (what the table's cursor, tags, highlights and
waiter marks follow) is made from (namespace, id): the object's own id in the caller's
namespace (so its rows keep their identity when other namespaces come and go, and the
caller's waiter scan marks only them), `inode << 32 | id` in another. A cell reads the
latest snapshot of the row's namespace (`snapshots`, kept current by the screen), never an
older one a row was made with, so ages move while an object does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from shmtop.core.model import IpcObject, Kind, Snapshot
from shmtop.text.columns import COLUMNS, NS_COLUMN, Column
from shmtop.text.filtering import Filter
from shmtop.text.sanitize import safe_text

ID_BITS = 32  # System V ids are 31-bit (INT_MAX)
Snapshots = Mapping[int, Snapshot]  # namespace inode -> its latest snapshot
Where = tuple[int, str, bool]  # a row's IPC namespace: inode, name, the caller's


def ns_short(inode: int, name: str) -> str:
    """The NS cell: the name (sanitised), or the bare inode where the name is ipc:[INODE]
    (10 columns, not 16)."""
    return str(inode) if name in (f"ipc:[{inode}]", "") else safe_text(name)


def ns_label(inode: int, name: str, *, current: bool) -> str:
    """The namespace as a line names it: its name, and ipc:[INODE] unless that is it; the
    caller's says so."""
    ipc = f"ipc:[{inode}]"
    shown = safe_text(name) if name else ipc
    label = shown if shown == ipc else f"{shown} ({ipc})"
    return f"{label}, the caller's" if current else label


def row_key(inode: int, ident: int, *, current: bool) -> int:
    """A row's id: the object's id in the caller's namespace, else one number for both."""
    return ident if current else (inode << ID_BITS) | ident


class NsRow:
    """One System V object and its IPC namespace (compared by row id and object only). A
    plain class: a dataclass would import inspect on `list --filter`'s path (20 ms)."""

    __slots__ = ("current", "id", "inode", "name", "obj")

    def __init__(self, id: int, obj: IpcObject, inode: int, name: str, current: bool) -> None:
        self.id = id
        self.obj = obj
        self.inode = inode
        self.name = name  # what the namespace is called (untrusted: a hostname)
        self.current = current  # the caller's namespace

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NsRow) and (self.id, self.obj) == (other.id, other.obj)

    def __hash__(self) -> int:
        return hash((self.id, self.obj))

    def __repr__(self) -> str:
        return f"NsRow(id={self.id}, inode={self.inode}, obj={self.obj!r})"

    @property
    def short(self) -> str:
        return ns_short(self.inode, self.name)

    @property
    def label(self) -> str:
        return ns_label(self.inode, self.name, current=self.current)


def rows_of(
    inode: int,
    name: str,
    current: bool,
    objects: tuple[Any, ...],
    before: Mapping[int, NsRow] | None = None,
) -> tuple[NsRow, ...]:
    """A namespace's rows of these objects; a row of `before` (last refresh's, by row id)
    whose object is the same one is kept, so that the table sees it unchanged at once."""
    rows = []
    for o in objects:
        key = row_key(inode, o.id, current=current)
        row = before.get(key) if before is not None else None
        rows.append(row if row is not None and row.obj is o and row.name == name
                    else NsRow(key, o, inode, name, current))  # fmt: skip
    return tuple(rows)


def _on_object(call: Callable[..., Any], snapshots: Snapshots) -> Callable[..., Any]:
    """call(obj, snapshot, *rest) made to take (row, any snapshot, *rest)."""
    return lambda row, _snap, *rest: call(row.obj, snapshots[row.inode], *rest)


def row_columns(kind: Kind, snapshots: Snapshots) -> tuple[Column, ...]:
    """NS first, then the kind's columns, each reading the row's object and snapshot."""

    def adapted(column: Column) -> Column:
        def on(call: Callable[..., Any] | None) -> Any:
            return _on_object(call, snapshots) if call is not None else None

        return msgspec.structs.replace(
            column, cell=on(column.cell), sort=on(column.sort), wide=on(column.wide),
            fit=on(column.fit),
        )  # fmt: skip

    return (NS_COLUMN, *(adapted(c) for c in COLUMNS[kind]))


def on_rows(matches: Filter, snapshots: Snapshots) -> Filter:
    """A filter (or search) of objects made to test rows."""
    tests = tuple(_on_object(test, snapshots) for test in matches.tests)
    return msgspec.structs.replace(matches, tests=tests)
