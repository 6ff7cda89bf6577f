"""htop's choice of signal: arrows and Enter, or type its number; answers the signal or None."""

from __future__ import annotations

import signal
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from shmtop.tui.screens.armed import ArmedModalScreen

SIGNALS: tuple[tuple[signal.Signals, str], ...] = (
    (signal.SIGTERM, "terminate: the polite request, it may clean up"),
    (signal.SIGINT, "interrupt, as Ctrl+C"),
    (signal.SIGHUP, "hang up"),
    (signal.SIGKILL, "kill at once, cannot be caught (SEM_UNDO is still applied)"),
    (signal.SIGSTOP, "stop (pause) it, cannot be caught"),
    (signal.SIGCONT, "continue a stopped process"),
    (signal.SIGUSR1, "user-defined 1"),
    (signal.SIGUSR2, "user-defined 2"),
    (signal.SIGQUIT, "quit with a core dump"),
)


HINT = "↑ ↓ choose, or type the number · Enter asks to confirm · Escape cancels"
ARMING_HINT = "Keys typed before this list showed are ignored; it takes answers in a moment…"


class SignalDialog(ArmedModalScreen[int | None]):
    """Lists the signals; Enter answers the highlighted one, Escape answers None.
    Armed like the confirmation: the list is disabled, and keys dropped, for a moment."""

    SAFE_KEYS: ClassVar[frozenset[str]] = frozenset({"escape"})
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="signal.cancel"),
        *(
            Binding(str(digit), f"digit({digit})", f"Type {digit}", show=False,
                    id=f"signal.digit{digit}")
            for digit in range(10)
        ),
    ]  # fmt: skip
    DEFAULT_CSS = """
    SignalDialog { align: center middle; }
    SignalDialog > Vertical {
        width: 84; max-width: 100%; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    SignalDialog #target { text-style: bold; margin-bottom: 1; }
    SignalDialog OptionList { height: auto; max-height: 12; }
    SignalDialog #hint { color: $text-warning; margin-top: 1; }
    SignalDialog #hint.-armed { color: $text-muted; }
    """

    def __init__(self, target: str) -> None:
        """target: who gets the signal, e.g. '4600 (worker)', already sanitised."""
        super().__init__()
        self.target = target
        self.typed = ""

    def compose(self) -> ComposeResult:
        options = [
            Option(Text(f"{int(sig):>2}  {sig.name:<8} {what}"), id=sig.name)
            for sig, what in SIGNALS
        ]
        with Vertical():
            yield Static(Text(f"Send a signal to {self.target}"), id="target")
            yield OptionList(*options, id="signals", disabled=True)
            yield Static(Text(ARMING_HINT), id="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0

    def on_armed(self) -> None:
        signals = self.query_one(OptionList)
        signals.disabled = False
        self.set_focus(signals)
        hint = self.query_one("#hint", Static)
        hint.update(Text(HINT))
        hint.add_class("-armed")

    @property
    def highlighted(self) -> signal.Signals:
        index = self.query_one(OptionList).highlighted or 0
        return SIGNALS[index][0]

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if self.armed:
            self.dismiss(int(SIGNALS[event.option_index][0]))

    def action_digit(self, digit: int) -> None:
        """Typed digits pick the signal of that number (1 then 5: SIGTERM)."""
        if not self.armed:
            return
        typed = self.typed + str(digit)
        numbers = [str(int(sig)) for sig, _ in SIGNALS]
        if not any(number.startswith(typed) for number in numbers):
            typed = str(digit)
        self.typed = typed
        exact = [at for at, number in enumerate(numbers) if number == typed]
        prefix = [at for at, number in enumerate(numbers) if number.startswith(typed)]
        if exact or prefix:
            self.query_one(OptionList).highlighted = (exact or prefix)[0]

    def action_cancel(self) -> None:
        self.dismiss(None)
