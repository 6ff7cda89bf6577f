"""A banner for deadlocks and stuck waits: hidden while there is none, impossible to miss."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

MAX_LINES = 4


class AlertBanner(Static):
    """Shows alert lines (plain text, never markup); '-on' while there are any."""

    DEFAULT_CSS = """
    AlertBanner {
        display: none; height: auto; padding: 0 1;
        background: $error; color: auto 90%; text-style: bold;
    }
    AlertBanner.-on { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: tuple[str, ...] = ()

    def show(self, lines: Sequence[str]) -> None:
        shown = list(lines[:MAX_LINES])
        if len(lines) > MAX_LINES:
            shown.append(f"(and {len(lines) - MAX_LINES} more)")
        if tuple(shown) != self.lines:
            self.lines = tuple(shown)
            self.update(Text("\n".join(shown)))
        self.set_class(bool(shown), "-on")
