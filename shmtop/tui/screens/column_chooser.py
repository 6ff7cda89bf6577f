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
from shmtop.text.columns import COLUMNS
from shmtop.text.glossary import KIND_NAMES


class ColumnChooser(ModalScreen[set[str] | None]):
    """Space ticks a column, Enter keeps the choice, Esc leaves it as it was; answers the
    keys of the hidden columns. The first column (id) always shows."""

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

    def __init__(self, kind: Kind, hidden: set[str]) -> None:
        super().__init__()
        self.kind = kind
        self.hidden = set(hidden)

    def compose(self) -> ComposeResult:
        choices = [
            Selection(Text(f"{c.header:<14} {c.about}"), c.key, c.key not in self.hidden,
                      disabled=at == 0)
            for at, c in enumerate(COLUMNS[self.kind])
        ]  # fmt: skip
        with Vertical() as box:
            box.border_title = f"Columns of {KIND_NAMES[self.kind]}"
            yield SelectionList[str](*choices, id="columns")
            yield Static(Text("Space shows/hides · Enter keeps · Esc cancels"), id="columns-hint")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_keep(self) -> None:
        shown = set(self.query_one(SelectionList).selected)
        self.dismiss({c.key for c in COLUMNS[self.kind][1:] if c.key not in shown})
