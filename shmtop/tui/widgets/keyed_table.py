"""A DataTable of keyed rows updated in place: only changed cells are redrawn, the cursor stays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

Cell = str | Text  # plain str cells are wrapped in Text: never parsed as markup


class KeyedTable(DataTable[Text]):
    """Rows keyed by a string; sync() adds, updates and drops rows to match a mapping."""

    DEFAULT_CSS = """
    KeyedTable { height: auto; max-height: 100%; }
    """

    def __init__(
        self, columns: Sequence[tuple[str, str, int | None]], *, id: str | None = None
    ) -> None:
        """Columns are (key, label, width); a fixed width keeps the header in line with rows
        that change every refresh, None fits the content."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.column_keys = tuple(key for key, _label, _width in columns)
        for key, label, width in columns:
            self.add_column(Text(label), key=key, width=width)
        self._shown: dict[str, tuple[Text, ...]] = {}

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> None:
        """Make the rows those of `rows`, in its order for new ones; unchanged cells are kept."""
        for key in [key for key in self._shown if key not in rows]:
            self.remove_row(key)
            del self._shown[key]
        for key, cells in rows.items():
            texts = tuple(cell if isinstance(cell, Text) else Text(cell) for cell in cells)
            old = self._shown.get(key)
            if old is None:
                self.add_row(*texts, key=key)
            elif old != texts:
                for column, before, after in zip(self.column_keys, old, texts, strict=True):
                    if before != after:
                        self.update_cell(key, column, after, update_width=True)
            self._shown[key] = texts

    def row_text(self, key: str) -> list[str]:
        """The cells of a row as shown (plain text)."""
        return [text.plain for text in self._shown[key]]

    @property
    def keys(self) -> list[str]:
        return list(self._shown)

    @property
    def selected_key(self) -> str | None:
        """Key of the row under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        value = self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return value if value in self._shown else None

    def select_key(self, key: str) -> bool:
        """Put the cursor on a row; False if there is no such row."""
        if key not in self._shown:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True
