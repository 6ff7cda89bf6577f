"""F2: which columns a tab shows (htop's Setup, for columns); the app remembers the choice."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from shmtop.core.model import Kind
from shmtop.text.columns import COLUMNS, Column
from shmtop.text.glossary import KIND_NAMES


class ColumnChooser(ModalScreen[set[str] | None]):
    """Space ticks a column, Enter keeps the choice, Esc leaves it as it was; answers the
    keys of the hidden columns. The id column always shows."""

    BINDINGS = [
        Binding("enter", "keep", "Keep", priority=True, id="columns.keep"),
        Binding("escape", "dismiss(None)", "Cancel", id="columns.cancel"),
    ]
    HELP_TITLE = "the column chooser"
    DEFAULT_CSS = """
    ColumnChooser { align: center middle; }
    ColumnChooser > Vertical {
        width: 100%; max-width: 90; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ColumnChooser SelectionList { height: auto; max-height: 16; }
    ColumnChooser #columns-hint { color: $text-muted; }
    """

    def __init__(
        self, kind: Kind, hidden: set[str], columns: tuple[Column, ...] | None = None,
        title: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.kind = kind
        self.title = title or KIND_NAMES[kind]  # a POSIX tab's: its own
        self.hidden = set(hidden)
        self.columns = columns or COLUMNS[kind]  # a table across namespaces: NS too
        keys = [c.key for c in self.columns]
        self.pinned = "id" if "id" in keys else keys[0]

    def compose(self) -> ComposeResult:
        choices = [
            Selection(Text(f"{c.header:<14} {c.about}"), c.key, c.key not in self.hidden,
                      disabled=c.key == self.pinned)
            for c in self.columns
        ]  # fmt: skip
        with Vertical() as box:
            box.border_title = f"Columns of {self.title}"
            yield SelectionList[str](*choices, id="columns")
            yield Static(Text("Space shows/hides · Enter keeps · Esc cancels"), id="columns-hint")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_keep(self) -> None:
        shown = set(self.query_one(SelectionList).selected)
        self.dismiss({c.key for c in self.columns if c.key not in shown and c.key != self.pinned})
