"""The yes/no question asked before anything is removed or a process is signalled."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from shmtop.tui.screens.armed import ArmedModalScreen

ARMING_HINT = "Keys typed before this question showed are ignored; it takes answers in a moment…"
ARMED_HINT = "y or a click on the red button answers yes · n, Escape or Enter cancels"


class ConfirmScreen(ArmedModalScreen[bool]):
    """Shows what will happen (plain text, never markup) and answers True only on Yes,
    and only once armed (see ArmedModalScreen): Cancel has the focus, Yes starts disabled."""

    SAFE_KEYS: ClassVar[frozenset[str]] = frozenset({"n", "escape"})
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding(",".join(sorted(SAFE_KEYS)), "answer(False)", "No", id="confirm.no"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 80%;
        border: thick $error; background: $surface; padding: 1 2;
    }
    ConfirmScreen #question { text-style: bold; margin-bottom: 1; }
    ConfirmScreen #plan { height: auto; max-height: 20; overflow-y: auto; }
    ConfirmScreen #arming { height: 1; margin-top: 1; color: $text-warning; }
    ConfirmScreen #arming.-armed { color: $text-muted; }
    ConfirmScreen Horizontal { height: auto; align: right middle; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(self, question: str, plan: list[str], *, yes_label: str = "Remove (y)") -> None:
        super().__init__()
        self.question = question
        self.plan = plan
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), id="question")
            yield Static(Text("\n".join(self.plan)), id="plan")
            yield Static(Text(ARMING_HINT), id="arming")
            with Horizontal():
                yield Button(self.yes_label, variant="error", id="yes", disabled=True)
                yield Button("Cancel (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#no", Button))

    def on_armed(self) -> None:
        self.query_one("#yes", Button).disabled = False
        hint = self.query_one("#arming", Static)
        hint.update(Text(ARMED_HINT))
        hint.add_class("-armed")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes" and self.armed)

    def action_answer(self, answer: bool) -> None:
        if answer and not self.armed:
            return  # never reached (the app drops such keys): a second lock on the door
        self.dismiss(answer)
