"""A full-screen view of one semaphore set or queue (or a segment), kept live."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from shmtop.ipc.model import Kind, Snapshot
from shmtop.tui.widgets.detail import detail_lines


class ObjectScreen(Screen[None]):
    """Everything about one object, refreshed with each snapshot; says so when it is gone."""

    BINDINGS = [Binding("escape,q,backspace", "app.pop_screen", "Back", id="object.back")]
    DEFAULT_CSS = """
    ObjectScreen #body { padding: 1 2; }
    """

    def __init__(self, kind: Kind, ident: int, snapshot: Snapshot | None) -> None:
        super().__init__()
        self.kind = kind
        self.ident = ident
        self._first = snapshot

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        with VerticalScroll():
            yield Static(id="body")
        yield Footer()

    def on_mount(self) -> None:
        if self._first is not None:
            self.show_snapshot(self._first)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        obj = snapshot.find(self.kind, self.ident)
        if obj is None:
            text = f"{self.kind} {self.ident} no longer exists (removed). Escape goes back."
        else:
            text = "\n".join(detail_lines(obj, snapshot))
        self.query_one("#body", Static).update(Text(text))
