"""The part the set and queue views share: the object's waiters, alerts, and a signal for one."""

from __future__ import annotations

import signal
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from shmtop.core.actions import send_signal
from shmtop.core.model import Kind, Snapshot
from shmtop.core.waits.records import Waiter
from shmtop.text import glossary
from shmtop.text.process_names import LINE_WIDTH, process_label
from shmtop.text.sanitize import safe_text
from shmtop.text.units import time_of_day
from shmtop.text.wait_pages import unknown_lines, unreadable_note
from shmtop.tui.probes import PollRequested, Probes
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.signal_dialog import SignalDialog
from shmtop.tui.wait_summary import object_alerts
from shmtop.tui.widgets.alert_banner import AlertBanner
from shmtop.tui.widgets.waiters_table import COLUMNS as WAITER_COLUMNS
from shmtop.tui.widgets.waiters_table import WaitersTable

CHANGING_ACTIONS = frozenset({"signal"})


def waiter_label(waiter: Waiter) -> str:
    """'4600 (postgres: checkpointer)', sanitised."""
    return process_label(waiter.pid, waiter.command, waiter.title, LINE_WIDTH)


class WaiterScreen(Screen[None]):
    """A live view of one object with the threads blocked on it; the app feeds it.

    The app calls show_snapshot (each subclass's own) and then show_probes with
    every refresh. Once the object is gone the view says so (mark_gone) and
    keeps what it showed last.
    """

    KIND: ClassVar[Kind]
    NOUN: ClassVar[str]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "app.help", "Help", id="waiters.help"),
        Binding("escape,q,backspace", "app.pop_screen", "Back", id="waiters.back"),
        Binding("k,f9", "signal", "Signal waiter", id="waiters.signal"),
    ]
    AUTO_FOCUS = "#waiters"
    DEFAULT_CSS = """
    WaiterScreen #summary { height: 1; padding: 0 1; background: $primary 30%; text-style: bold; }
    WaiterScreen #summary.-gone { background: $error 40%; }
    WaiterScreen #facts { height: auto; padding: 0 1; color: $text-muted; }
    WaiterScreen .section { height: 1; padding: 0 1; margin-top: 1; background: $panel;
                            text-style: bold; }
    WaiterScreen #waiters { max-height: 12; }
    WaiterScreen #waiter-notes { height: auto; padding: 0 1; color: $text-warning; }
    WaiterScreen #status { dock: bottom; height: 1; margin-bottom: 1; padding: 0 1;
                           background: $panel; }  /* above the footer */
    """

    def __init__(
        self, ident: int, snapshot: Snapshot | None, *, readonly: bool = False,
        namespace: int | None = None, where: str = "",
    ) -> None:  # fmt: skip
        """namespace: the inode of the object's IPC namespace when it is another's (the
        app then feeds that namespace's snapshots and scans, namespace_views.py)."""
        super().__init__()
        self.ident = ident
        self.namespace = namespace
        self.where = where
        self.readonly = readonly
        self.gone = False
        self.first_snapshot = snapshot

    # ---- layout ----

    def compose_waiters(self) -> ComposeResult:
        yield Static(Text(f"Waiters on this {self.NOUN}"), id="waiters-title", classes="section")
        yield WaitersTable(id="waiters")
        yield Static(Text("scanning for waiters…"), id="waiter-notes")

    @property
    def waiters(self) -> WaitersTable:
        return self.query_one(WaitersTable)

    def mark_gone(self, snapshot: Snapshot) -> None:
        """The object was removed: say so once, and stop updating."""
        self.gone = True
        when = time_of_day(snapshot.taken_at)
        summary = self.query_one("#summary", Static)
        summary.update(
            Text(f"{self.KIND} {self.ident} no longer exists (gone by {when}): shown as last "
                 "seen. Escape goes back.")
        )  # fmt: skip
        summary.add_class("-gone")
        self.query_one(AlertBanner).show([])
        self.waiters.clear_waiters()
        self._note("Its waiters were woken (EIDRM) when it was removed.")
        self.refresh_bindings()

    # ---- waiters ----

    def facts(self, lines: list[str]) -> Text:
        """The lines under the summary, the object's IPC namespace first when another's."""
        where = [f"in IPC namespace {self.where}"] if self.where else []
        return Text("\n".join([*where, *(line.strip() for line in lines)]))

    def show_probes(self, probes: Probes) -> None:
        if self.namespace is not None:  # its namespace's scan: ids there are its own
            probes = probes.inside(self.namespace)
        if self.gone or not probes.scanned:
            return
        if probes.waits is None:
            self._note(probes.waits_error or "the waiter scan failed")
            return
        report = probes.waits
        mine = report.on(self.KIND, self.ident)
        self.waiters.show(report, mine)
        self.query_one("#waiters-title", Static).update(Text(self.waiters_title(mine)))
        self.query_one(AlertBanner).show(object_alerts(report, self.KIND, self.ident))
        notes = []
        if report.unsupported:
            notes.append(f"waiters cannot be scanned here: {report.unsupported}")
        elif not mine and report.blind_spot():
            notes.append(f"unknown: {report.blind_spot()}: their waits are not listed")
        elif not mine:
            notes.append(f"no thread is blocked on this {self.NOUN}")
        else:
            notes += unknown_lines(report, (self.KIND, self.ident)) + unreadable_note(report)
        self._note("\n".join(notes))
        self.refresh_bindings()

    def waiters_title(self, waiters: tuple[Waiter, ...]) -> str:
        return f"Waiters ({len(waiters)})" + (" · k sends a signal" if waiters else "")

    def _note(self, text: str) -> None:
        self.query_one("#waiter-notes", Static).update(Text(text))

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self.refresh_bindings()

    # ---- signals ----

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out the signal under --readonly, once the object is gone, and with no waiter
        (its key then says which: see refusals)."""
        return None if self.why_not(action) else True

    def why_not(self, action: str) -> str | None:
        if action not in CHANGING_ACTIONS:
            return None
        if self.readonly:
            return "read-only (--readonly): no signal can be sent"
        if self.gone:
            return f"this {self.NOUN} is gone: its waiters were woken"
        if self.waiters.selected is None:
            return f"no waiter to signal: no thread is blocked on this {self.NOUN}"
        return None

    def say(self, note: str) -> None:
        self.query_one("#status", Static).update(Text(note))

    def help_topics(self) -> list[tuple[str, list[str]]]:
        pairs = [(header, glossary.WAITER_COLUMNS[key]) for key, header, _ in WAITER_COLUMNS]
        return [(f"Waiters on this {self.NOUN}", glossary.described_lines(pairs))]

    def compose_status(self) -> ComposeResult:
        yield Static(id="status")

    def action_signal(self) -> None:
        """Choose a signal, confirm, send: never without the confirmation."""
        waiter = self.waiters.selected
        if waiter is None or self.readonly or self.gone:
            return
        who = waiter_label(waiter)

        def confirmed(signum: int, answer: bool | None) -> None:
            if answer:
                self._send(waiter, signum)

        def chosen(signum: int | None) -> None:
            if signum is None:
                return
            name = signal.Signals(signum).name
            question = f"Send {name} to {who}?"
            plan = [
                f"{who} is blocked in {waiter.syscall} on {safe_text(waiter.target)}: "
                f"{safe_text(waiter.operation())}",
                f"{name} ({signum}) goes to the whole process; threads are not singled out.",
            ]
            self.app.push_screen(
                ConfirmScreen(question, plan, yes_label=f"Send {name} (y)"),
                lambda answer: confirmed(signum, answer),
            )

        self.app.push_screen(SignalDialog(who), chosen)

    def _send(self, waiter: Waiter, signum: int) -> None:
        result = send_signal(waiter.pid, signum, command=waiter.command)
        text = f"{signal.Signals(signum).name} to {waiter_label(waiter)}: {result.outcome}"
        text += f" ({result.detail})" if result.detail else ""
        self.notify(
            safe_text(text), severity="information" if result.outcome.ok else "error",
            timeout=6, markup=False,
        )  # fmt: skip
        self.post_message(PollRequested())
