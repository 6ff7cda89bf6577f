"""The detail pane: everything about the selected object, as plain (never markup) text."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from shmtop.core.model import IpcObject, MessageQueue, Segment, SemaphoreSet, Snapshot
from shmtop.text import report

HISTORY_TEXT = 40  # a history line's indent, name and 'lowest..highest, now N'
SCROLL_KEYS = "J/K scroll"  # the main screen's keys for the pane (its bindings)


def detail_lines(obj: IpcObject, snapshot: Snapshot) -> list[str]:
    """The CLI's detail page of an object (already sanitised)."""
    if isinstance(obj, Segment):
        return report.segment_detail(snapshot, obj)
    if isinstance(obj, SemaphoreSet):
        return report.semaphore_detail(snapshot, obj)
    if isinstance(obj, MessageQueue):
        return report.queue_detail(snapshot, obj)
    raise TypeError(obj)


def with_history(page: list[str], history: Sequence[str], height: int = 0) -> list[str]:
    """The history after the page's first block (before its tables: a segment's
    attachments can be long), or right after its title line when a pane `height` rows
    high would not show it there (80x24): the graph should be in sight."""
    at = page.index("") if "" in page else len(page)
    if height and at + len(history) > height:
        at = min(1, len(page))
    return [*page[:at], *history, *page[at:]]


class DetailPane(Static):
    """Shows one object's details; re-rendered only when they change. It is as tall as
    its text, in a DetailBox that scrolls it."""

    DEFAULT_CSS = """
    DetailPane { height: auto; padding: 0 1; }
    """

    def spark_width(self) -> int:
        """Cells a history sparkline may take: what the name and figures leave, at most 60."""
        return max(10, min(60, (self.size.width or 80) - 2 - HISTORY_TEXT))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: str | None = None
        self._subject: tuple[type, int] | None = None  # the object shown (its kind and id)

    def show(
        self, obj: IpcObject | None, snapshot: Snapshot | None, history: Sequence[str] = ()
    ) -> None:
        """The object's page, then its history lines (shmtop.text.history_lines); another
        object's page starts at its top."""
        subject = None if obj is None else (type(obj), obj.id)
        if subject != self._subject and isinstance(self.parent, DetailBox):
            self.parent.scroll_home(animate=False)
        self._subject = subject
        if obj is None or snapshot is None:
            text = "Nothing selected."
        else:
            page = detail_lines(obj, snapshot)
            text = "\n".join(with_history(page, history, self.view_height()))
        self.show_text(text)

    def show_text(self, text: str) -> None:
        """Text already sanitised (a POSIX tab's page), shown as plain text."""
        if text != self._shown:
            self._shown = text
            self.update(Text(text))
            if isinstance(self.parent, DetailBox):
                self.parent.call_after_refresh(self.parent.say_hidden)

    def view_height(self) -> int:
        """Rows of text in view: the box's (the pane itself is as tall as its text)."""
        box = self.parent
        return box.content_region.height if isinstance(box, DetailBox) else 0


class DetailBox(VerticalScroll):
    """The detail pane's frame: it scrolls the pane (J/K, the mouse wheel) and, when the
    pane is taller (a set's history and semaphores at 80x24), its top border says how
    many lines are out of view and which keys scroll them."""

    DEFAULT_CSS = """
    DetailBox { height: 1fr; border-top: solid $primary; scrollbar-size-vertical: 0;
                border-title-align: right; border-title-color: $text-accent; }
    """

    def compose(self) -> ComposeResult:
        yield DetailPane(id="detail")

    def scroll_lines(self, lines: int) -> None:
        """A key's scroll: `lines` down (up when negative)."""
        self.scroll_relative(y=lines, animate=False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.say_hidden()

    def say_hidden(self) -> None:
        """'3 lines above, 8 below · J/K scroll' in the top border; none: all in view."""
        if not self.is_attached:
            return
        above, below = round(self.scroll_y), round(self.max_scroll_y - self.scroll_y)
        parts = [f"{n} {'line' if n == 1 else 'lines'} {where}"
                 for n, where in ((above, "above"), (below, "below")) if n > 0]  # fmt: skip
        self.border_title = f"{', '.join(parts)} · {SCROLL_KEYS}" if parts else None
