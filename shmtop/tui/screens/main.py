"""The main screen: usage meters, one table a kind, the selected object's details, the keys."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from shmtop.core.actions import Identity, Removal, identity_of
from shmtop.core.history import HistoryStore
from shmtop.core.model import IpcObject, Kind, Segment, Snapshot
from shmtop.core.verdicts import judge
from shmtop.text import glossary
from shmtop.text.errors import removal_text
from shmtop.text.filtering import FilterError, wrapped_note
from shmtop.text.history_lines import history_lines
from shmtop.text.removal_waiters import with_waiters
from shmtop.text.report import attached_summary, counted, evidence_text, status_words
from shmtop.text.sanitize import safe_text
from shmtop.text.units import hex_key
from shmtop.tui import finder, namespace_main, namespace_views, posix_main, wait_summary
from shmtop.tui.posix_tabs import FULL_TITLES as POSIX_TITLES
from shmtop.tui.probes import PollRequested, Probes, scan_waiters
from shmtop.tui.screens.column_chooser import ColumnChooser
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.help import FILTER_HELP
from shmtop.tui.screens.tree_view import TreeScreen
from shmtop.tui.typeahead import opener_actions, opens_input, typing_into_box
from shmtop.tui.widgets.alert_banner import AlertBanner
from shmtop.tui.widgets.detail import DetailBox, DetailPane
from shmtop.tui.widgets.footer import KeyFooter
from shmtop.tui.widgets.ipc_table import IpcTable
from shmtop.tui.widgets.meters import UsageMeters
from shmtop.tui.widgets.posix_table import PosixTable

TAB_TITLES = {Kind.SHM: "Segments", Kind.SEM: "Semaphores", Kind.MSG: "Queues"}
CHANGING_ACTIONS = frozenset({"remove"})
KEY_NOTE_SECONDS = 6.0


class QueryInput(Input):
    """The search/filter box; Escape cancels it (a filter is then cleared)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False, id="query.cancel")]

    class Cancelled(Message):
        """Escape was pressed in the box."""

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class MainScreen(Screen[None]):
    """Everything at a glance; every key is a Binding, greyed out where it does not apply."""

    class RemoveRequested(Message):
        """The user confirmed the removal of these objects."""

        def __init__(
            self, kind: Kind, ids: list[int], expected: dict[int, Identity] | None = None
        ) -> None:
            super().__init__()
            self.kind = kind
            self.ids = ids
            self.expected = expected or {}  # what the confirmation showed, by id

    class OpenRequested(Message):
        """Enter on an object: show it in depth."""

        def __init__(self, kind: Kind, obj: IpcObject) -> None:
            super().__init__()
            self.kind = kind
            self.obj = obj

    class SortChanged(Message):
        """The sort of a table changed (worth remembering)."""

    class Ready(Message):
        """Every widget is mounted: snapshots can be shown from now on."""

    AUTO_FOCUS = ""  # nothing: the screen's keys drive the current table (see IpcTable)
    BINDINGS = [
        Binding("question_mark,f1", "app.help", "Help", id="main.help"),
        Binding("up", "cursor(-1)", "Up", show=False, id="main.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="main.down"),
        Binding("left", "scroll_columns(-1)", "Scroll left", show=False, id="main.left"),
        Binding("right", "scroll_columns(1)", "Scroll right", show=False, id="main.right"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="main.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="main.page_down"),
        Binding("home", "jump(0)", "First row", show=False, id="main.first"),
        Binding("end", "jump(-1)", "Last row", show=False, id="main.last"),
        Binding("enter", "open", "Open (hex view, set or queue view)", show=False, id="main.open"),
        opens_input("slash", "search", "Search", id="main.search"),
        Binding("n,f3", "search_next(1)", "Next match", show=False, id="main.search_next"),
        Binding(
            "N,shift+f3", "search_next(-1)", "Previous match", show=False, id="main.search_previous"
        ),
        opens_input("backslash", "filter", "Filter", id="main.filter"),
        Binding("space", "tag", "Tag", id="main.tag"),
        Binding(
            "T", "tag_shown", "Tag every row shown (the filter's)", show=False, id="main.tag_shown"
        ),
        Binding("U", "untag_all", "Untag all", show=False, id="main.untag_all"),
        Binding("d,delete,f9", "remove", "Remove", id="main.remove"),
        Binding(
            "less_than_sign",
            "sort_column(-1)",
            "Sort by the previous column",
            show=False,
            id="main.sort_prev",
        ),
        Binding(
            "greater_than_sign",
            "sort_column(1)",
            "Sort by the next column",
            show=False,
            id="main.sort_next",
        ),
        Binding("i", "invert_sort", "Invert the sort", show=False, id="main.invert"),
        Binding("f2", "choose_columns", "Columns", id="main.columns"),
        Binding("1", "tab('shm')", "Segments tab", show=False, id="main.tab_shm"),
        Binding("2", "tab('sem')", "Semaphores tab", show=False, id="main.tab_sem"),
        Binding("3", "tab('msg')", "Queues tab", show=False, id="main.tab_msg"),
        *posix_main.TAB_BINDINGS,
        Binding(
            "J",
            "scroll_detail(3)",
            "Scroll the detail pane down",
            show=False,
            id="main.detail_down",
        ),
        Binding(
            "K", "scroll_detail(-3)", "Scroll the detail pane up", show=False, id="main.detail_up"
        ),
        Binding("escape", "clear", "Close (tags stay)", show=False, id="main.clear"),
        Binding("w", "scan_waiters", "Waiters", show=False, id="main.scan_waiters"),
        Binding("t", "tree", "Tree view (processes and owners)", show=False, id="main.tree"),
        namespace_main.TOGGLE,
    ]
    HELP_TITLE = "the main screen"

    DEFAULT_CSS = """
    MainScreen #tables { height: 2fr; }
    MainScreen DetailBox { height: 1fr; min-height: 6; }
    MainScreen #query { dock: bottom; display: none; }
    MainScreen #query.-open { display: block; }
    MainScreen #status { height: 1; padding: 0 1; background: $panel; }
    MainScreen #status.-error { background: $error 40%; }
    MainScreen #status.-filtered { background: $warning 30%; }
    """

    def __init__(
        self, *, start_tab: Kind | str = Kind.SHM, readonly: bool = False, show_clock: bool = True
    ) -> None:
        super().__init__()
        self.show_clock = show_clock
        self.start_tab = start_tab
        self.readonly = readonly
        self.snapshot: Snapshot | None = None
        self._query_mode: str | None = None  # "search" or "filter" while the box is open
        self._status_note = ""
        self._key_note = ""  # a key's answer (why it cannot act, what it did)
        self._key_note_timer: Timer | None = None
        self._search_note = ""  # "no match for ...": one line, replaced as the search changes
        self._search_text = ""  # the search n, F3 and N repeat (shown in the status line)
        self._ready = False
        self._keys_state: tuple[str, bool] | None = None  # (tab, a row selected)
        self._status_shown: str | None = None  # whether a row is selected, as last shown
        self.scan_waiters = False  # `w`: scan for waiters with every refresh
        self._probes = Probes()
        self.history = HistoryStore()  # each object's figures over the last minutes
        self.namespaces = namespace_main.NamespaceState()  # rows across IPC namespaces

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.show_clock)
        yield UsageMeters(id="meters")
        yield AlertBanner(id="alerts")
        with Vertical(id="tables"), TabbedContent(initial=f"tab-{self.start_tab}", id="tabs"):
            for kind in TAB_TITLES:
                with TabPane(self.first_tab_title(kind), id=f"tab-{kind}"):
                    yield IpcTable(kind, id=f"table-{kind}")
            yield from posix_main.panes()
        yield DetailBox()
        yield Static(id="status")
        yield QueryInput(id="query")
        yield KeyFooter()

    def first_tab_title(self, kind: Kind) -> str:
        """A tab's title until the first snapshot (a replay knows its counts already)."""
        return TAB_TITLES[kind]

    def on_mount(self) -> None:
        # The tabs finish mounting after this handler: route snapshots from then on.
        self.call_after_refresh(self._become_ready)

    def _become_ready(self) -> None:
        self._ready = True
        self.post_message(self.Ready())

    @property
    def ready(self) -> bool:
        """Every widget is mounted (and the screen not torn down): it can show a refresh."""
        return self._ready and self.is_attached

    # ---- the current table ----

    @property
    def tab(self) -> str:
        """The active tab's name: shm, sem, msg, or a POSIX one (pshm, psem, pmq)."""
        return (self.query_one(TabbedContent).active or f"tab-{self.start_tab}").removeprefix(
            "tab-"
        )

    @property
    def kind(self) -> Kind:
        """The kind of thing the active tab shows (a POSIX tab's too: pshm is shm)."""
        return self.table.kind

    @property
    def table(self) -> IpcTable:
        return self.query_one(f"#table-{self.tab}", IpcTable)

    @property
    def posix_table(self) -> PosixTable | None:
        """The active tab's table if it is a POSIX one."""
        table = self.table
        return table if isinstance(table, PosixTable) else None

    def tables(self) -> list[IpcTable]:
        """The System V tables (their sorts and columns are remembered)."""
        return [t for t in self.query(IpcTable) if not isinstance(t, PosixTable)]

    # ---- snapshots ----

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Route a new snapshot to every part of the screen."""
        self.snapshot = snapshot
        if not self._ready or not self.is_attached:
            return  # not mounted yet (shown once ready), or already torn down
        self.history.record(snapshot)
        self.query_one(UsageMeters).show(namespace_main.meters_snapshot(self, snapshot))
        posix_main.show_snapshot(self, snapshot)
        tabs = self.query_one(TabbedContent)
        for table in self.tables():
            table.show(snapshot)
            count = len(table.objects)
            total = len(table.present(snapshot))
            label = tab_label(table.kind, count, total)
            tab = tabs.get_tab(f"tab-{table.kind}")
            if tab.label.plain != label:  # relabelling re-renders the tab bar: only on change
                tab.label = label
        self._show_detail()
        self._show_status()

    def set_status_note(self, note: str, *, error: bool = False) -> None:
        self._status_note = note
        if self._ready and self.is_attached:
            self.query_one("#status").set_class(error, "-error")
            self._show_status()

    def _show_status(self) -> None:
        parts = []
        if self._key_note:
            parts.append(self._key_note)
        if self._status_note:
            parts.append(self._status_note)
        if self._search_note:
            parts.append(self._search_note)
        table = self.table
        if self._search_text and self._query_mode != "search":
            parts.append(finder.search_indicator(self._search_text))
        if table.filter.active:
            parts.append(finder.filter_indicator(table.filter.expression))
        if table.tagged:
            parts.append(f"{len(table.tagged)} tagged")
        theirs = namespace_main.waiters_status(self._probes) if self.scan_waiters else None
        if theirs is not None:  # only other namespaces are shown, and scanned
            parts.append(theirs)
        elif self.scan_waiters:
            waits = self._probes.waits
            parts.append(wait_summary.scan_summary(waits) if waits else
                         self._probes.waits_error or "WAITERS: scanning…")  # fmt: skip
            if namespace_main.rows_shown(self):
                parts += namespace_main.waiters_note(self._probes)
        namespaces = namespace_main.status_note(self)
        if namespaces and self.posix_table is None:
            parts.append(namespaces)
        if self.posix_table is not None:
            parts.append(posix_main.status_note(self))
        elif self.snapshot is not None and self.kind is Kind.SHM:
            blind = self.snapshot.blind_spots
            if blind.uninspected_total:
                parts.append(f"{counted(blind.uninspected_total, 'process')} not inspected")
        status = self.query_one("#status", Static)
        status.set_class(table.filter.active, "-filtered")
        text = "  •  ".join(parts)
        if text != self._status_shown:  # each refresh calls this: redraw only on change
            self._status_shown = text
            status.update(Text(text))

    def show_probes(self, probes: Probes) -> None:
        """Waiters found by a scan, when this screen asked for one (`w`): alerts, marks, counts."""
        if self._ready and self.is_attached:
            posix_main.show_probes(self, probes)
        if not self.scan_waiters or not self._ready:
            return
        if not probes.scanned and not probes.foreign_waits:  # (--namespace NS: NS's alone)
            return
        self._probes = probes
        waits = probes.waits
        alerts = wait_summary.summary_alerts(waits) if waits else []
        self.query_one(AlertBanner).show(alerts + namespace_main.alerts_across(self, probes))
        for table in self.tables():
            marked = wait_summary.alerted(waits, table.kind) if waits else set()
            counts = wait_summary.queue_counts(waits) if waits and table.kind is Kind.MSG else None
            if namespace_main.rows_shown(self):  # and the other namespaces' scans
                counts, marked, scanned = namespace_main.waits_across(probes, table.kind,
                                                                      counts, marked)  # fmt: skip
                table.set_waits(counts, marked, scanned)
                continue
            table.set_waits(counts, marked)
        self._show_status()

    def action_tree(self) -> None:
        """t: the tree view (processes and what they use, owners and what they own)."""
        self.app.push_screen(TreeScreen(self.snapshot, show_clock=self.show_clock))

    def action_all_namespaces(self) -> None:
        """A: every IPC namespace in the System V tables (again: back)."""
        namespace_main.toggle(self)

    def action_scan_waiters(self) -> None:
        self.scan_waiters = not self.scan_waiters
        if not self.scan_waiters:
            self._probes = Probes()
            self.query_one(AlertBanner).show([])
            for table in self.tables():
                table.set_waits(None, set())
        self._show_status()
        self.post_message(PollRequested())

    def _show_detail(self) -> None:
        if self.posix_table is not None:
            posix_main.show_detail(self)
            return
        if namespace_main.show_detail(self):
            return
        pane, selected = self.query_one(DetailPane), self.table.selected
        history: list[str] = []
        if selected is not None and self.snapshot is not None:
            series = self.history.series(self.kind, selected.id)
            history = history_lines(
                series, self.snapshot.taken_at, pane.spark_width(), self.history.window
            )
        pane.show(selected, self.snapshot, history)

    @on(IpcTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_detail()
        self._refresh_keys()

    @property
    def wants_waiters(self) -> bool:
        """Whether refreshes should scan for waiters: `w`, or the named semaphores' tab
        (their live waiters tell a stale nwaiters)."""
        return self.scan_waiters or posix_main.wants_waiters(self)

    @property
    def posix_shown(self) -> bool:
        """A POSIX tab is on screen: its scans run with every refresh (else now and then)."""
        return posix_main.shown_tab(self) is not None

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        if self.posix_shown:
            self.post_message(PollRequested())  # its rows (and waiters) now, not at the next tick
        self._show_detail()
        self._show_status()
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        """Re-grey the footer only when what applies changed (the tab, or whether a row is
        selected): a refresh rebuilds it."""
        state = (posix_main.shown_tab(self) or str(self.kind), self.table.selected is not None)
        if state != self._keys_state:
            self._keys_state = state
            self.refresh_bindings()

    @on(IpcTable.SortRequested)
    def _sort_requested(self, event: IpcTable.SortRequested) -> None:
        event.table.set_sort(event.key)
        self.post_message(self.SortChanged())

    # ---- keys ----

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what does not apply (its key then says why: see refusals)."""
        if typing_into_box(self, action, OPENERS):
            return False
        return None if self.why_not(action) else True

    def why_not(self, action: str) -> str | None:
        """Why an action cannot act now: changes under --readonly, actions with no row."""
        if action in CHANGING_ACTIONS and self.readonly:
            return "read-only (--readonly): nothing can be removed"
        if self.posix_table is not None and action != "all_namespaces":
            return posix_main.why_not(self, action)
        reason = namespace_main.why_not(self, action)
        if reason:
            return reason
        if action in ("remove", "tag", "open", "tag_shown") and self.table.selected is None:
            if self.table.filter.active:
                return f"no row: the filter hides every object ({finder.CLEAR_FILTER})"
            return f"no row: no {TAB_TITLES[self.kind].lower()} to act on"
        return None

    def say(self, note: str) -> None:
        """A key's answer in the status line, until the next one (or a few seconds)."""
        self._key_note = note
        if self._key_note_timer is not None:
            self._key_note_timer.stop()
        self._key_note_timer = self.set_timer(KEY_NOTE_SECONDS, lambda: self.say_clear(note))
        if self._ready and self.is_attached:
            self._show_status()

    def say_clear(self, note: str) -> None:
        if self._key_note == note:
            self._key_note = ""
            if self._ready and self.is_attached:
                self._show_status()

    def help_topics(self) -> list[tuple[str, list[str]]]:
        """The status words, every tab's columns, and the filter language."""
        topics = [("Status words", glossary.status_lines())]
        topics.append(("Marks, highlights and history", glossary.mark_lines()))
        for kind in (self.kind, *(k for k in TAB_TITLES if k is not self.kind)):
            title = f"Columns of {TAB_TITLES[kind]} (F2 chooses them; ←/→ scroll)"
            topics.append((title, glossary.column_lines(kind)))
        topics += posix_main.help_topics()
        topics += namespace_main.help_topics()
        topics.append(("Filter (\\) and search (/)", FILTER_HELP.splitlines()))
        guide = getattr(self.app, "guide", None)
        if guide:
            topics.insert(0, ("The demo", list(guide)))
        return topics

    def action_cursor(self, step: int) -> None:
        self.table.action_cursor(step)

    def action_page(self, step: int) -> None:
        self.table.action_page(step)

    def action_jump(self, index: int) -> None:
        self.table.action_jump(index)

    def action_scroll_detail(self, lines: int) -> None:
        self.query_one(DetailBox).scroll_lines(lines)

    def action_scroll_columns(self, step: int) -> None:
        self.table.scroll_columns(step)

    def action_choose_columns(self) -> None:
        """F2: the columns this tab shows (remembered)."""
        table = self.table

        def chosen(hidden: set[str] | None) -> None:
            if hidden is not None:
                table.set_hidden(hidden)
                self.post_message(self.SortChanged())

        posix = self.posix_table
        title = POSIX_TITLES[posix.tab] if posix is not None else None
        self.app.push_screen(
            ColumnChooser(table.kind, table.hidden, table.columns_spec, title), chosen
        )

    def action_tab(self, kind: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{kind}"

    def action_tag(self) -> None:
        self.table.toggle_tag()
        self.table.action_cursor(1)
        self._show_status()

    def action_sort_column(self, step: int) -> None:
        shown = self.table.shown
        keys = [c.key for c in shown]
        at = keys.index(self.table.sort_key) if self.table.sort_key in keys else 0
        column = shown[(at + step) % len(keys)]
        self.table.set_sort(column.key, reverse=False)
        self.say(f"sorted by {column.header} (< and > change it, i inverts)")
        self.post_message(self.SortChanged())

    def action_invert_sort(self) -> None:
        self.table.set_sort(self.table.sort_key, reverse=not self.table.sort_reverse)
        self.post_message(self.SortChanged())

    def action_open(self) -> None:
        if self.posix_table is not None:
            posix_main.open_selected(self)
            return
        row = namespace_views.foreign(self.table.selected)
        if row is not None:  # another IPC namespace's: its view reads inside it
            namespace_views.open_row(self.app, row)  # type: ignore[arg-type]
            return
        obj = namespace_main.object_of(self.table.selected)
        if obj is not None:
            self.post_message(self.OpenRequested(self.kind, obj))

    def action_clear(self) -> None:
        """Escape: closes what is open (the search and its marks); tags stay, and it says so."""
        self._end_search()
        tagged = sum(len(table.tagged) for table in self.query(IpcTable))
        if tagged:
            self.say(f"Esc keeps the tags ({tagged}): U untags all")

    def action_tag_shown(self) -> None:
        """T: tag every row the table shows (all the filter keeps), for one removal."""
        table = self.table
        table.tag_shown()
        where = " the filter shows" if table.filter.active else " shown"
        shown = counted(len(table.objects), "row") + where
        self.say(f"tagged the {shown}: d removes the tagged (each listed first), U untags")

    def action_untag_all(self) -> None:
        tagged = sum(len(table.tagged) for table in self.query(IpcTable))
        for table in self.query(IpcTable):
            table.tagged.clear()
            table.refresh()
        self.say(f"untagged {counted(tagged, 'object')}" if tagged else "nothing was tagged")

    # ---- search and filter ----

    def action_search(self) -> None:
        self._open_query("search", "")

    def action_filter(self) -> None:
        self._open_query("filter", self.table.filter.expression)

    def _open_query(self, mode: str, value: str) -> None:
        self._query_mode = mode
        self._note_search("")
        box = self.query_one("#query", Input)
        box.placeholder = "search: text or terms, Enter to stay" if mode == "search" else (
            "filter: text, user:NAME, nattch:>0, size:>1M, age:>1h, orphan, !term... Esc clears"
        )  # fmt: skip
        box.value = value
        box.add_class("-open")
        self.set_focus(box)  # now: the next key may already be on its way (typeahead.py)

    @on(Input.Changed, "#query")
    def _query_changed(self, event: Input.Changed) -> None:
        if self._query_mode == "search":
            self._search(event.value, start_after=False)
        elif self._query_mode == "filter":
            self._apply_filter(event.value)

    def _apply_filter(self, expression: str) -> bool:
        """Filter the table; a term the language does not take is refused, with the terms
        it takes, and the table keeps its last good filter."""
        try:
            self.table.set_filter(expression)
        except FilterError as error:
            self._note_search(str(error))
            return False
        self._note_search("")
        self._show_status()
        return True

    @on(Input.Submitted, "#query")
    def _query_submitted(self, event: Input.Submitted) -> None:
        if self._query_mode == "filter" and not self._apply_filter(event.value):
            return  # the box stays open on the refused term
        if self._query_mode == "search":
            if not self._search(event.value, start_after=False):
                return
            self._search_text = event.value.strip()
        self._close_query()
        self._show_status()

    def _close_query(self) -> None:
        box = self.query_one("#query", Input)
        box.remove_class("-open")
        self._query_mode = None
        self.set_focus(None)

    @on(QueryInput.Cancelled)
    def _query_cancelled(self) -> None:
        """Escape in the query box: a filter is cleared, a search ends."""
        if self._query_mode == "filter":
            self.table.set_filter("")
        self._close_query()
        self._end_search()

    def _end_search(self) -> None:
        self._search_text = ""
        for table in self.tables():
            table.set_highlight(())
        self._note_search("")
        self._show_status()

    def action_search_next(self, direction: int = 1) -> None:
        """n/F3 the next row the search matches, N the previous one, round the ends."""
        if not self._search_text:
            self.say("nothing searched yet: / searches")
            return
        self._search(self._search_text, start_after=True, direction=direction)

    def _search(self, text: str, *, start_after: bool, direction: int = 1) -> bool:
        """Move the cursor to the next row (from the cursor on) matching the search terms;
        False if the terms are refused (the note says why)."""
        table = self.table
        try:
            matches = table.parse_query(text)
        except FilterError as error:
            self._note_search(str(error))
            return False
        for each in self.query(IpcTable):
            each.set_highlight(matches.words)
        rows = [table.objects.get(ident) for ident in table.ordered_ids]
        found = None
        if text.strip() and table.snapshot is not None:
            found = finder.find_row(rows, matches, table.snapshot, table.cursor_row,
                                    direction=direction, start_after=start_after)  # fmt: skip
        if found is not None:
            table.move_to(table.ordered_ids[found.index])
            self._note_search("")
            if found.wrapped and start_after:
                self.say(wrapped_note(direction))
        else:
            self._note_search(f"no match for {safe_text(text)!r}" if text.strip() else "")
        return True

    def _note_search(self, note: str) -> None:
        """The search's outcome in the status line (plain text, never markup): updated in
        place as the search is typed, not one popup a keystroke."""
        if note != self._search_note:
            self._search_note = note
            if self._ready and self.is_attached:
                self._show_status()

    # ---- removal ----

    def action_remove(self) -> None:
        if self.posix_table is not None and not self.readonly:
            posix_main.remove(self)
            return
        targets = self.table.targets()
        if not targets or self.readonly:
            return
        if namespace_main.rows_shown(self):  # each removed inside its namespace
            namespace_main.remove_rows(self, targets)
            return
        kind = self.kind
        snapshot = self.table.snapshot
        plan = [removal_line(kind, obj, snapshot) for obj in targets]
        question = removal_question(kind, len(targets))

        def confirmed(answer: bool | None) -> None:
            if answer:
                expected = {o.id: identity_of(o) for o in targets}
                self.post_message(self.RemoveRequested(kind, [o.id for o in targets], expected))

        if kind is Kind.SHM:
            self.app.push_screen(ConfirmScreen(question, plan), confirmed)
        else:  # name the threads blocked on them: a scan first, off the UI thread
            self._ask_with_waiters(kind, targets, question, plan, confirmed)

    @work(thread=True, exclusive=True, group="removal-question", exit_on_error=False)
    def _ask_with_waiters(
        self, kind: Kind, targets: list[IpcObject], question: str, plan: list[str],
        confirmed: Callable[[bool | None], None],
    ) -> None:  # fmt: skip
        source = getattr(self.app, "waiter_source", None)
        waits, error = scan_waiters(source) if source is not None else (None, None)
        lines = with_waiters(plan, kind, targets, waits, error)
        if not get_current_worker().is_cancelled:  # a second `d` asks again: one question
            self.app.call_from_thread(self.app.push_screen, ConfirmScreen(question, lines),
                                      confirmed)  # fmt: skip

    def report_removals(self, removals: list[Removal]) -> None:
        """Say what became of each object, without leaving the screen."""
        for removal in removals:
            self.notify(
                removal_text(removal),
                severity="information" if removal.outcome.ok else "error",
                timeout=6,
                markup=False,
            )
        for table in self.tables():
            table.tagged.clear()
            table.refresh()


OPENERS = opener_actions(MainScreen.BINDINGS)


def tab_label(kind: Kind, count: int, total: int) -> str:
    """A System V tab's title: the rows it shows, of how many when a filter hides some."""
    return f"{TAB_TITLES[kind]} ({count}" + (f"/{total})" if count != total else ")")


def removal_question(kind: Kind, count: int, where: str = "") -> str:
    """The confirmation's question: how many of what go (where: "in IPC namespace N")."""
    noun = finder.NOUNS[kind] + ("" if count == 1 else "s")  # segments, semaphore sets, queues
    return f"Remove {count} {noun}{' ' + where if where else ''}? This cannot be undone."


def removal_line(kind: Kind, obj: IpcObject, snapshot: Snapshot | None = None) -> str:
    """One line of the confirmation: what goes, who still has it attached, and (given the
    snapshot) the orphan rule's word and the evidence it rests on."""
    line = f"{kind} {obj.id}  key {hex_key(obj.owner.key)}  owner {safe_text(obj.owner.user)}"
    if isinstance(obj, Segment):
        if obj.nattch:
            line += f"  STILL ATTACHED by {attached_summary(obj, 60)}: only marked for destruction"
        else:
            line += "  not attached"
    if snapshot is not None:
        verdict = judge(obj, snapshot)
        words = ",".join(status_words(obj, verdict))
        evidence = evidence_text(obj, verdict, snapshot.taken_at)
        line += f"\n  evidence{' (' + words + ')' if words else ''}: {evidence}"
    return line
