"""`t`: the tree view (htop's tree, for IPC): each process with the objects it uses (attached,
created, last operation, blocked on; POSIX ones mapped, held, blocked on), and each owner
with its objects and who waits on them.

The app feeds it snapshots and, since it asks for them (WANTS_WAITERS), waiter scans;
the rows come from shmtop.text.usage_tree, the widget only draws them.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static
from textual.worker import Worker

from shmtop.core.actions import identity_of
from shmtop.core.model import Snapshot
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text import glossary
from shmtop.text.glossary import described_lines
from shmtop.text.posix_usage_tree import PMQ
from shmtop.text.sanitize import safe_text
from shmtop.text.usage_tree import UsageTree, build_tree
from shmtop.tui.posix_source import PosixView
from shmtop.tui.posix_tabs import PMQ_NOT_OPENED
from shmtop.tui.probes import PollRequested, Probes
from shmtop.tui.screens.posix_view import PosixObjectScreen
from shmtop.tui.screens.user_picker import UserPicker
from shmtop.tui.wait_summary import scan_summary
from shmtop.tui.widgets.footer import KeyFooter
from shmtop.tui.widgets.usage_tree import UsageTreeView

BUILD_GROUP = "tree-rows"
KEY_NOTE_SECONDS = 6.0


class TreeScreen(Screen[None]):
    """The tree view; `u` shows one user's processes and objects."""

    WANTS_WAITERS = True  # the app scans for waiters while this screen is open
    BINDINGS = [
        Binding("question_mark,f1", "app.help", "Help", id="tree.help"),
        Binding("t,escape,q", "app.pop_screen", "Back (tables)", id="tree.back"),
        Binding("u", "pick_user", "User", id="tree.user"),
    ]
    HELP_TITLE = "the tree view"
    AUTO_FOCUS = "#usage-tree"
    DEFAULT_CSS = """
    TreeScreen #tree-status { height: 1; padding: 0 1; background: $panel; }
    TreeScreen #tree-status.-filtered { background: $warning 30%; }
    """

    def __init__(self, snapshot: Snapshot | None, *, show_clock: bool = True) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.waits: WaitReport | None = None
        self.posix: PosixView | None = None  # the POSIX scans, when the app has them
        self.waits_note = "WAITERS: scanning…"
        self._rows_snapshot: Snapshot | None = None  # what the shown lines were built from
        self.user: str | None = None  # None: every user
        self.show_clock = show_clock
        self._note = ""  # a key's answer
        self._user_note = ""  # the user picked owns and runs nothing (any more)
        self._pending = False
        self._building = False  # a build runs in a worker
        self._again = False  # and another was asked for meanwhile

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.show_clock)
        yield UsageTreeView(id="usage-tree")
        yield Static(id="tree-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "tree view"
        self._rebuild()
        self.post_message(PollRequested())  # the waiters now, not at the next tick

    @property
    def usage_tree(self) -> UsageTreeView:
        return self.query_one(UsageTreeView)

    # ---- what the app hands over ----

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._later()

    def show_probes(self, probes: Probes) -> None:
        if probes.posix is not None and probes.posix is not self.posix:
            self.posix = probes.posix  # a recent one while no POSIX tab is shown
            self._later()
        if not probes.scanned:
            return
        self.waits = probes.waits
        if probes.waits is not None:
            self.waits_note = scan_summary(probes.waits)
        else:
            self.waits_note = probes.waits_error or "the waiter scan failed"
        self._later()

    def _later(self) -> None:
        """One rebuild for the snapshot and the scan that come together."""
        if not self._pending:
            self._pending = True
            self.call_later(self._rebuild)

    def _rebuild(self) -> None:
        """Build the rows from what was handed over last; one build at a time (a build asked
        for while one runs starts when it ends, from the newest data)."""
        self._pending = False
        if self.snapshot is None or not self.is_attached:
            return
        if self._building:
            self._again = True
            return
        self._building = True
        self._build(self.snapshot, self.waits, self.user, self.posix)

    @work(thread=True, group=BUILD_GROUP, exit_on_error=False)
    def _build(
        self, snapshot: Snapshot, waits: WaitReport | None, user: str | None,
        posix: PosixView | None,
    ) -> None:  # fmt: skip
        """The rows, off the UI thread (a tree of 1000 processes takes a few hundred ms:
        bench/bench_tree.py)."""
        shm, queues = (posix.shm, posix.queues) if posix is not None else (None, None)
        rows = build_tree(snapshot, waits, user, shm, queues)
        self.app.call_from_thread(self._show_rows, rows, user, snapshot)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == BUILD_GROUP and event.worker.is_finished:
            self._building = False
            if self._again:
                self._again = False
                self._rebuild()

    def _show_rows(self, rows: UsageTree, user: str | None, snapshot: Snapshot) -> None:
        if not self.is_attached or user != self.user:
            return  # closed, or another user picked since
        self._rows_snapshot = snapshot  # Enter opens what a line shows, not a reused id
        missing = self.user is not None and self.user not in rows.users
        self._user_note = "they own and run nothing here now" if missing else ""
        self.usage_tree.show(rows)
        self._show_status()

    def _show_status(self) -> None:
        who = "all users" if self.user is None else f"user {safe_text(self.user)}"
        parts = [self._note, f"{who} (u picks){': ' if self._user_note else ''}{self._user_note}",
                 self.waits_note]  # fmt: skip
        parts = [p for p in parts if p]
        status = self.query_one("#tree-status", Static)
        status.set_class(self.user is not None, "-filtered")
        status.update(Text("  •  ".join(parts)))

    # ---- keys ----

    @on(UsageTreeView.OpenLine)
    def _open_line(self, event: UsageTreeView.OpenLine) -> None:
        """Enter on an object's line: the view its tab's Enter opens (the app opens System V
        ones, as from the tables); one gone since says so."""
        row = event.row
        if row.kind is not None and row.ident is not None:
            shown, now = self._rows_snapshot, self.snapshot
            obj = shown.find(row.kind, row.ident) if shown is not None else None
            current = now.find(row.kind, row.ident) if now is not None else None
            if obj is None or current is None or identity_of(current) != identity_of(obj):
                self.say(f"{row.kind} {row.ident} is gone")
            else:
                from shmtop.tui.screens.main import MainScreen  # here: main imports this module

                self.app.post_message(MainScreen.OpenRequested(row.kind, current))
            return
        if row.posix is None:
            return
        kind = row.posix[0]
        scan = self.posix.shm if self.posix is not None else None
        found = next((o for o in scan.objects if (str(o.kind), o.dev, o.inode) == row.posix),
                     None) if scan is not None else None  # fmt: skip
        if found is not None and scan is not None:
            self.app.push_screen(PosixObjectScreen(found, scan))
        elif kind == PMQ:
            self.say(f"{PMQ_NOT_OPENED}: tab 6 shows its counts and waiters")
        else:
            self.say(f"that {kind} object is gone")

    def action_pick_user(self) -> None:
        users = self.usage_tree.rows.users if self.usage_tree.rows is not None else ()

        def picked(user: str | None) -> None:
            if user is None:
                return  # cancelled: as it was
            self.user = user or None
            self._note = ""
            self._rebuild()

        self.app.push_screen(UserPicker(users, self.user), picked)

    def say(self, note: str) -> None:
        """A key's answer (see refusals), in the status line for a few seconds."""
        self._note = note
        self._show_status()
        self.set_timer(KEY_NOTE_SECONDS, lambda: self._unsay(note))

    def _unsay(self, note: str) -> None:
        if self._note == note and self.is_attached:
            self._note = ""
            self._show_status()

    def help_topics(self) -> list[tuple[str, list[str]]]:
        return [
            ("Enter and Space", [
                "Enter on an object's line (or on who has it attached or is blocked on it)",
                "opens its view, as Enter on its tab does; on a process, owner or section",
                "line it folds or unfolds, as Space does.",
            ]),
            ("What the lines say", described_lines(list(glossary.TREE_MEANINGS), width=18)),
        ]  # fmt: skip
