"""The detail pane: everything about the selected object, as plain (never markup) text."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from shmtop.core.model import IpcObject, MessageQueue, Segment, SemaphoreSet, Snapshot
from shmtop.text import report


def detail_lines(obj: IpcObject, snapshot: Snapshot) -> list[str]:
    """The CLI's detail page of an object (already sanitised)."""
    if isinstance(obj, Segment):
        return report.segment_detail(snapshot, obj)
    if isinstance(obj, SemaphoreSet):
        return report.semaphore_detail(snapshot, obj)
    if isinstance(obj, MessageQueue):
        return report.queue_detail(snapshot, obj)
    raise TypeError(obj)


class DetailPane(Static):
    """Shows one object's details; re-rendered only when they change."""

    DEFAULT_CSS = """
    DetailPane { height: 1fr; padding: 0 1; border-top: solid $primary; overflow-y: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: str | None = None

    def show(self, obj: IpcObject | None, snapshot: Snapshot | None) -> None:
        text = "\n".join(detail_lines(obj, snapshot)) if obj and snapshot else "Nothing selected."
        self.show_text(text)

    def show_text(self, text: str) -> None:
        """Text already sanitised (a POSIX tab's page), shown as plain text."""
        if text != self._shown:
            self._shown = text
            self.update(Text(text))
