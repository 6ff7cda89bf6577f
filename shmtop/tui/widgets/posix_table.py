"""A POSIX tab's table: IpcTable's drawing, cursor, tags and sort over rows of a POSIX scan."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from shmtop.core.model import Kind, Snapshot
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text.columns import Column
from shmtop.text.filtering import Filter
from shmtop.text.posix_columns import PosixRow
from shmtop.tui.posix_source import PosixView
from shmtop.tui.widgets.ipc_table import IpcTable

RowsOf = Callable[[PosixView], tuple[Any, ...]]


def _words(row: Any, snapshot: Snapshot, *, table: PosixTable, word: str, negate: bool) -> bool:
    text = " ".join(c.cell(row, snapshot) for c in table.columns_spec).lower()
    return (word in text) != negate


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
        self._rows: tuple[Any, ...] = ()

    def show(self, snapshot: Snapshot) -> None:
        """Kept until the first POSIX scan: rows shown before it would make every first
        row look new (highlighted) when the scan comes."""
        if self.view is None:
            self.snapshot = snapshot
            return
        super().show(snapshot)

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
        """Free words (all must appear in the row's text), `!word` to negate: the POSIX
        rows have no System V fields for the filter language's terms."""
        tests, words = [], []
        for raw in expression.lower().split():
            negate = raw.startswith("!") and len(raw) > 1
            word = raw[1:] if negate else raw
            tests.append(partial(_words, table=self, word=word, negate=negate))
            if not negate:
                words.append(word)
        return Filter(expression.strip(), tuple(tests), words=tuple(words))
