"""A one-line map of the whole segment: where it changed lately, and where the view is."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

RECENT = (2.0, 10.0, 60.0)  # seconds a changed part stays at level 3, 2, 1
LABEL = "changes "


def recency(age: float) -> int:
    return next((3 - i for i, limit in enumerate(RECENT) if age < limit), 0)


class ChangeStrip(Widget):
    """Each cell covers an equal share of the segment; colour says how lately it changed."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "change-strip--label", "change-strip--quiet", "change-strip--viewport",
        "change-strip--level-1", "change-strip--level-2", "change-strip--level-3",
    }  # fmt: skip
    DEFAULT_CSS = """
    ChangeStrip { height: 1; background: $panel; }
    ChangeStrip > .change-strip--label { color: $text-muted; }
    ChangeStrip > .change-strip--quiet { color: $text-muted; }
    ChangeStrip > .change-strip--viewport { background: $primary 45%; }
    ChangeStrip > .change-strip--level-1 { color: $text-success; }
    ChangeStrip > .change-strip--level-2 { color: $warning; }
    ChangeStrip > .change-strip--level-3 { color: $error; text-style: bold; }
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, id: str | None = None
                 ) -> None:  # fmt: skip
        super().__init__(id=id)
        self.clock = clock
        self.changed_at: tuple[float, ...] = ()
        self.viewport = (0.0, 0.0)  # fractions of the segment on screen
        self.note = ""

    def show(self, changed_at: Sequence[float], viewport: tuple[float, float], note: str) -> None:
        changed, before = tuple(changed_at), (self.changed_at, self.viewport, self.note)
        self.changed_at, self.viewport, self.note = changed, viewport, note
        if before != (changed, viewport, note) or any(math.isfinite(t) for t in changed):
            self.refresh()

    def cells(self, width: int) -> list[int]:
        """Change level of each of width cells (a cell shows the most recent of its buckets)."""
        buckets, now = self.changed_at, self.clock()
        if not buckets or width <= 0:
            return [0] * max(width, 0)
        levels = []
        for cell in range(width):
            low = cell * len(buckets) // width
            high = max((cell + 1) * len(buckets) // width, low + 1)
            levels.append(max(recency(now - when) for when in buckets[low:high]))
        return levels

    def render(self) -> Text:
        style = self.get_component_rich_style
        note = f" {self.note}" if self.note else ""
        width = max(self.size.width - len(LABEL) - len(note), 0)
        marks = [style(f"change-strip--level-{level}") for level in (1, 2, 3)]
        quiet, viewport = style("change-strip--quiet"), style("change-strip--viewport")
        first = int(self.viewport[0] * width)
        last = max(math.ceil(self.viewport[1] * width), first + 1)
        text = Text(LABEL, style("change-strip--label"), no_wrap=True, overflow="crop")
        for cell, level in enumerate(self.cells(width)):
            cell_style = marks[level - 1] if level else quiet
            if first <= cell < last:
                cell_style = cell_style + Style(bgcolor=viewport.bgcolor)
            text.append("█" if level == 3 else "▆" if level == 2 else "▃" if level else "▁",
                        cell_style)  # fmt: skip
        text.append(note, style("change-strip--label"))
        return text
