"""A table of one kind of IPC object, updated in place: cursor, tags and sort survive refreshes."""

from __future__ import annotations

import time
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from shmtop.filtering import Filter, parse_filter
from shmtop.ipc.model import IpcObject, Kind, Snapshot
from shmtop.tui.columns import COLUMNS, Column, row_cells

TAG_COLUMN = "tag"
TAG_MARK = "●"
HIGHLIGHT_SECONDS = 2.0


class IpcTable(DataTable[Text]):
    """Rows keyed by object id. New and changed rows are highlighted for a moment, vanished
    ones shown as leaving for a moment; the cursor stays on the same object."""

    def __init__(self, kind: Kind, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.kind = kind
        self.columns_spec: tuple[Column, ...] = COLUMNS[kind]
        self.objects: dict[int, IpcObject] = {}
        self.tagged: set[int] = set()
        self.sort_key = "id"
        self.sort_reverse = False
        self.filter: Filter = parse_filter("")
        self.changed_style = Style(bold=True)
        self.leaving_style = Style(strike=True, dim=True)
        self._cells: dict[int, tuple[str, ...]] = {}
        self._fresh_until: dict[int, float] = {}
        self._leaving_until: dict[int, float] = {}
        self._snapshot: Snapshot | None = None
        self._primed = False  # rows of the first snapshot are not "new"
        # Columns exist from the start: a snapshot may arrive before mounting.
        self.add_column(" ", key=TAG_COLUMN, width=1)
        for column in self.columns_spec:
            self.add_column(column.label, key=column.key)

    # ---- what the user has chosen ----

    @property
    def selected_id(self) -> int | None:
        """Id of the object under the cursor, if any."""
        if not self.row_count:
            return None
        row_key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        return int(row_key.value) if row_key.value is not None else None

    @property
    def selected(self) -> IpcObject | None:
        ident = self.selected_id
        return self.objects.get(ident) if ident is not None else None

    def targets(self) -> list[IpcObject]:
        """The tagged objects still present, or else the one under the cursor."""
        tagged = [self.objects[i] for i in sorted(self.tagged) if i in self.objects]
        if tagged:
            return tagged
        return [self.selected] if self.selected is not None else []

    def toggle_tag(self) -> None:
        ident = self.selected_id
        if ident is None or ident not in self.objects:
            return
        self.tagged.symmetric_difference_update({ident})
        self.update_cell(str(ident), TAG_COLUMN, Text(TAG_MARK if ident in self.tagged else ""))

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        """Sort by a column key; the same key again flips the order."""
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_key else False
        self.sort_key, self.sort_reverse = key, reverse
        self._resort()

    def set_filter(self, expression: str) -> None:
        self.filter = parse_filter(expression)
        if self._snapshot is not None:
            self.show(self._snapshot)

    def move_to(self, ident: int) -> bool:
        """Put the cursor on an object's row; False if it is not shown."""
        try:
            index = self.get_row_index(str(ident))
        except RowDoesNotExist:  # filtered out, or gone
            return False
        self.move_cursor(row=index)
        return True

    # ---- refresh ----

    def show(self, snapshot: Snapshot) -> None:
        """Bring the rows in line with a snapshot: add, update and remove by key."""
        now = time.monotonic()
        self._snapshot = snapshot
        keep = self.selected_id
        present = snapshot.objects(self.kind)
        shown = {o.id: o for o in present if self.filter(o)}
        changed = self._drop_vanished(shown, {o.id for o in present}, now)
        for ident, obj in shown.items():
            cells = row_cells(self.kind, obj, snapshot)
            old = self._cells.get(ident)
            self.objects[ident] = obj
            if old == cells and ident not in self._fresh_until:
                continue
            if self._primed and old != cells:
                self._fresh_until[ident] = now + HIGHLIGHT_SECONDS
            elif self._fresh_until.get(ident, now) <= now:
                self._fresh_until.pop(ident, None)
            style = self.changed_style if ident in self._fresh_until else None
            self._put_row(ident, cells, old, style)
            changed = True
        self._primed = True
        self.tagged &= set(self.objects)
        if changed:
            self._resort(keep)

    def _drop_vanished(self, shown: dict[int, IpcObject], present: set[int], now: float) -> bool:
        """Rows no longer shown: filtered out ones go at once; removed objects are struck
        through for a moment first."""
        changed = False
        for ident in [i for i in self.objects if i not in shown]:
            until = self._leaving_until.get(ident)
            if ident in present or (until is not None and until <= now):
                self.remove_row(str(ident))
                del self.objects[ident]
                self._cells.pop(ident, None)
                self._leaving_until.pop(ident, None)
                self._fresh_until.pop(ident, None)
                changed = True
            elif until is None:
                self._leaving_until[ident] = now + HIGHLIGHT_SECONDS
                for column, text in zip(self.columns_spec, self._cells[ident], strict=True):
                    self.update_cell(str(ident), column.key, Text(text, style=self.leaving_style))
        return changed

    def _put_row(
        self, ident: int, cells: tuple[str, ...], old: tuple[str, ...] | None, style: Style | None
    ) -> None:
        texts = [Text(cell, style=style or "") for cell in cells]
        if old is None or not self.is_valid_row_index(self._row_index(ident)):
            mark = Text(TAG_MARK if ident in self.tagged else "")
            self.add_row(mark, *texts, key=str(ident))
        else:
            for column, text in zip(self.columns_spec, texts, strict=True):
                self.update_cell(str(ident), column.key, text)
        self._cells[ident] = cells

    def _row_index(self, ident: int) -> int:
        try:
            return self.get_row_index(str(ident))
        except RowDoesNotExist:
            return -1

    def _resort(self, keep: int | None = None) -> None:
        keep = self.selected_id if keep is None else keep
        column = next((c for c in self.columns_spec if c.key == self.sort_key), None)
        if column is None:
            column = self.columns_spec[0]
        objects = self.objects

        def order(id_cell: Text) -> Any:
            obj = objects.get(int(id_cell.plain))
            return (0, column.sort(obj), obj.id) if obj is not None else (1, 0, 0)

        self.sort("id", key=order, reverse=self.sort_reverse)
        if keep is not None:
            self.move_to(keep)
