"""A POSIX tab's table: IpcTable's drawing, cursor, tags and sort over rows of a POSIX scan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, cast

from shmtop.core.model import Kind, Snapshot
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text.columns import Column
from shmtop.text.filtering import Filter
from shmtop.text.posix_columns import PosixRow
from shmtop.text.posix_filtering import parse_posix_filter
from shmtop.tui.posix_source import PosixView
from shmtop.tui.widgets.ipc_table import IpcTable

RowsOf = Callable[[PosixView], tuple[Any, ...]]


def _text(row: Any, *, table: PosixTable) -> str:
    """What a free word looks in: the row's cells (hidden ones too)."""
    snapshot = table.snapshot
    if snapshot is None:  # no row is drawn before the first System V snapshot
        return ""
    return " ".join(c.cell(row, snapshot) for c in table.columns_spec).lower()


class PosixTable(IpcTable):
    """Rows of one POSIX kind (ShmRow or QueueRow); the kind is the kind of thing they are
    (shared memory, semaphores, queues). Shown once both a System V snapshot (the widget's
    clock and layout) and a POSIX scan have come."""

    def __init__(
        self, tab: str, kind: Kind, columns: tuple[Column, ...], rows_of: RowsOf, *,
        id: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(kind, id=id, columns=columns)
        self.tab = tab  # pshm, psem or pmq
        self.sort_key = columns[0].key
        self.rows_of = rows_of
        self.view: PosixView | None = None
        self.waits: WaitReport | None = None  # the last waiter scan (live named-sem waiters)
        # Other namespaces' scans (inode -> report, error), made inside each.
        self.foreign_waits: Mapping[int, tuple[WaitReport | None, str | None]] = {}
        self.across: bool | None = None  # rows across namespaces: more than one (NS shown)
        self._rows: tuple[Any, ...] = ()

    def show(self, snapshot: Snapshot) -> None:
        """Kept until the first POSIX scan: rows shown before it would make every first
        row look new (highlighted) when the scan comes."""
        if self.view is None:
            self.snapshot = snapshot
            return
        super().show(snapshot)

    @property
    def pinned(self) -> str:
        """NAME cannot be hidden (the identity, as ID is on the System V tabs), NS first or not."""
        return "name"

    def present(self, snapshot: Snapshot) -> tuple[Any, ...]:
        return self._rows

    @property
    def selected_row(self) -> PosixRow | None:
        return cast("PosixRow | None", self.selected)

    def target_rows(self) -> list[PosixRow]:
        """The tagged rows still present, or else the one under the cursor."""
        return cast("list[PosixRow]", self.targets())

    @property
    def total(self) -> int:
        """Rows of the last scan, filtered out or not."""
        return len(self._rows)

    def show_view(self, view: PosixView) -> None:
        """A new POSIX scan: its rows, drawn at once if a System V snapshot came already."""
        self.view = view
        self._rows = self.rows_of(view)
        if self.snapshot is not None:
            self.show(self.snapshot)

    def parse_query(self, expression: str) -> Filter:
        """The filter language's terms that mean something for the kind (user:, size:,
        ns:...; text/posix_filtering.py), and free words in the row's cells."""
        return parse_posix_filter(expression, self.tab, partial(_text, table=self),
                                  self.namespace_name)  # fmt: skip
