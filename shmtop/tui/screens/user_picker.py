"""`u` in the tree view: pick one user, as htop's `u` does (the first entry is all users)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from shmtop.text.sanitize import safe_text

ALL_USERS = "All users"
_ALL = "\0all"  # the option id of "all users" (no user name holds a NUL)


class UserPicker(ModalScreen[str | None]):
    """Answers the chosen user's name, "" for all users, None when cancelled (Escape)."""

    BINDINGS = [Binding("escape,u", "dismiss(None)", "Cancel", id="users.cancel")]
    HELP_TITLE = "the user picker"
    DEFAULT_CSS = """
    UserPicker { align: center middle; }
    UserPicker > Vertical {
        width: 40; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    UserPicker OptionList { height: auto; max-height: 16; }
    UserPicker #users-hint { color: $text-muted; }
    """

    def __init__(self, users: tuple[str, ...], current: str | None) -> None:
        super().__init__()
        self.users = users
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(Text(ALL_USERS), id=_ALL)]
        options += [Option(Text(safe_text(user)), id=f"u{user}") for user in self.users]
        with Vertical() as box:
            box.border_title = "Show the user"
            yield OptionList(*options, id="users")
            yield Static(Text("Enter picks · Esc cancels"), id="users-hint")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = 0 if self.current not in self.users else (
            1 + self.users.index(self.current))  # fmt: skip
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id or _ALL
        self.dismiss("" if chosen == _ALL else chosen[1:])
