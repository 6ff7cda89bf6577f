"""The detail pane: everything about the selected object, as plain (never markup) text."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from shmtop.core.model import IpcObject, MessageQueue, Segment, SemaphoreSet, Snapshot
from shmtop.text import report

HISTORY_TEXT = 40  # a history line's indent, name and 'lowest..highest, now N'


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
    """Shows one object's details; re-rendered only when they change."""

    DEFAULT_CSS = """
    DetailPane { height: 1fr; padding: 0 1; border-top: solid $primary; overflow-y: auto; }
    """

    def spark_width(self) -> int:
        """Cells a history sparkline may take: what the name and figures leave, at most 60."""
        return max(10, min(60, (self.size.width or 80) - 2 - HISTORY_TEXT))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: str | None = None

    def show(
        self, obj: IpcObject | None, snapshot: Snapshot | None, history: Sequence[str] = ()
    ) -> None:
        """The object's page, then its history lines (shmtop.text.history_lines)."""
        if obj is None or snapshot is None:
            text = "Nothing selected."
        else:
            page = detail_lines(obj, snapshot)
            text = "\n".join(with_history(page, history, self.content_region.height))
        self.show_text(text)

    def show_text(self, text: str) -> None:
        """Text already sanitised (a POSIX tab's page), shown as plain text."""
        if text != self._shown:
            self._shown = text
            self.update(Text(text))
