"""The queue view: its header, blocked senders and receivers, the messages (left queued)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from shmtop.core.model import Kind, MessageQueue, Snapshot
from shmtop.core.waits.records import Waiter
from shmtop.text.report import queue_detail
from shmtop.text.wait_pages import message_lines
from shmtop.tui.probes import Probes
from shmtop.tui.screens.waiter_screen import WaiterScreen
from shmtop.tui.widgets.alert_banner import AlertBanner
from shmtop.tui.widgets.footer import KeyFooter

SHOWN_BYTES = 512  # of each message, as a hexdump


class QueueScreen(WaiterScreen):
    """One queue, live; its messages are copied (MSG_COPY) by the poll worker, never taken."""

    KIND = Kind.MSG
    NOUN = "queue"
    HELP_TITLE = "the queue view"
    DEFAULT_CSS = """
    QueueScreen #message-pane { height: 1fr; min-height: 4; padding: 0 1; }
    """

    def __init__(
        self, msqid: int, snapshot: Snapshot | None, *, readonly: bool = False,
        namespace: int | None = None, where: str = "",
    ) -> None:  # fmt: skip
        super().__init__(msqid, snapshot, readonly=readonly, namespace=namespace, where=where)
        self.queue: MessageQueue | None = None
        self.messages_text = ""

    @property
    def msqid(self) -> int:
        return self.ident

    def compose(self) -> ComposeResult:
        yield Static(Text(f"msg {self.ident}"), id="summary")
        yield Static(id="facts")
        yield AlertBanner(id="alerts")
        yield from self.compose_waiters()
        yield Static(Text("Messages"), id="messages-title", classes="section")
        with VerticalScroll(id="message-pane"):
            yield Static(Text("reading the queue…"), id="messages")
        yield from self.compose_status()
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.first_snapshot is not None:
            self.show_snapshot(self.first_snapshot)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if self.gone:
            return
        found = snapshot.queue(self.ident)
        if found is None:
            self.mark_gone(snapshot)
            return
        self.queue = found
        header = queue_detail(snapshot, found)
        self.query_one("#summary", Static).update(Text(header[0]))
        self.query_one("#facts", Static).update(self.facts(header[1:]))

    def waiters_title(self, waiters: tuple[Waiter, ...]) -> str:
        senders = sum(w.direction == "send" for w in waiters)
        title = f"Blocked senders ({senders}) and receivers ({len(waiters) - senders})"
        return title + (" · k sends a signal" if waiters else "")

    def show_probes(self, probes: Probes) -> None:
        super().show_probes(probes)
        if self.namespace is not None:
            probes = probes.inside(self.namespace)
        peek = probes.peeks.get(self.ident)
        if self.gone or peek is None or self.queue is None:
            return
        title, *lines = message_lines(peek, self.queue, SHOWN_BYTES)
        text = "\n".join([title, *lines])
        if text == self.messages_text:
            return
        self.messages_text = text
        shown = Text()
        for line in lines:
            shown.append(line + "\n", style="bold" if line.startswith("#") else "")
        shown.rstrip()
        self.query_one("#messages-title", Static).update(Text(title))
        self.query_one("#messages", Static).update(shown)
