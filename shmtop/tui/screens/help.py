"""The help screen: every key of the main screen, and the filter language."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

FILTER_HELP = """\
Filter (\\) and search (/) terms, separated by spaces; all must hold:
  free words         match id, key, owner, attached pids, commands and titles
  user:NAME|UID      owner          key:0x1234     id:N        perms:600
  nattch:N           attach count   pid:N          attached, creator or last pid
  cmd:TEXT           an attached command or title contains TEXT
  dest  locked  attached  unreadable  waiting              flags
  orphan  unattached  unused  partial  inconsistent      status words
  !term              negates a term, e.g. !orphan
Escape in the filter box clears the filter."""


class HelpScreen(ModalScreen[None]):
    """Lists the bindings it is given, then the filter language."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    """

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.key_bindings = bindings

    def compose(self) -> ComposeResult:
        lines = ["shmtop: System V IPC, live.", "", "Keys:"]
        for binding in self.key_bindings:
            keys = binding.key_display or binding.key.replace(",", ", ")
            lines.append(f"  {keys:<22} {binding.description}")
        lines += ["", FILTER_HELP, "", "Escape closes this help."]
        with VerticalScroll():
            yield Static(Text("\n".join(lines)))
