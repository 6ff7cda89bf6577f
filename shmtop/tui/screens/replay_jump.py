"""The replay's `g`: asks for a moment of the recording (the words of `--at`)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from shmtop.core.recording.moments import MOMENT_HELP


class JumpScreen(ModalScreen[str | None]):
    """One line of input; Enter answers it, Escape answers None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="replay-jump.cancel")]
    DEFAULT_CSS = """
    JumpScreen { align: center middle; }
    JumpScreen > Vertical { width: 90%; max-width: 100; height: auto; border: thick $accent;
                            background: $surface; padding: 1 2; }
    """

    def __init__(self, now: str) -> None:
        super().__init__()
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Go to (now {self.now}): {MOMENT_HELP}"))
            yield Input(placeholder="+30s, -5m, 14:03:00 as 2026-12-01T14:03:00, start, end",
                        id="moment")  # fmt: skip

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
