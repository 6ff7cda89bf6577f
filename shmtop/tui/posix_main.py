"""What the main screen does on its POSIX tabs: panes, rows, the detail pane, Enter, removal.

The main screen calls these where a POSIX tab is active (kept out of screens/main.py so
that it stays the System V screen it was, with a few branches).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from shmtop.core.model import Snapshot
from shmtop.core.posix.actions import PosixRemoval
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text import glossary, posix_columns
from shmtop.text.columns import NS_COLUMN
from shmtop.text.posix_filtering import TERMS
from shmtop.tui import posix_tabs
from shmtop.tui.posix_source import PosixView
from shmtop.tui.probes import PollRequested, Probes
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.posix_view import PosixObjectScreen
from shmtop.tui.widgets.detail import DetailPane
from shmtop.tui.widgets.meters import UsageMeters
from shmtop.tui.widgets.posix_table import PosixTable

if TYPE_CHECKING:
    from shmtop.tui.screens.main import MainScreen

TAB_BINDINGS = [
    Binding(str(number), f"tab('{tab.key}')", f"{posix_tabs.FULL_TITLES[tab.key]} tab",
            show=False, id=f"main.tab_{tab.key}")
    for number, tab in enumerate(posix_tabs.POSIX_TABS, start=4)
]  # fmt: skip


def panes() -> Iterator[Widget]:
    """A TabPane a POSIX kind, each with its table (after the System V tabs)."""
    for tab in posix_tabs.POSIX_TABS:
        table = PosixTable(tab.key, tab.kind, tab.columns, tab.rows_of, id=f"table-{tab.key}")
        yield TabPane(tab.title, table, id=f"tab-{tab.key}")


def tables(screen: MainScreen) -> list[PosixTable]:
    return list(screen.query(PosixTable))


def view_of(screen: MainScreen) -> PosixView | None:
    """The last POSIX scans shown (every POSIX table holds the same)."""
    return next((t.view for t in tables(screen)), None)


def show_snapshot(screen: MainScreen, snapshot: Snapshot) -> None:
    """The System V snapshot: the POSIX tables' clock (ages) and layout come with it."""
    for table in tables(screen):
        table.show(snapshot)


def show_probes(screen: MainScreen, probes: Probes) -> None:
    """A refresh's POSIX scans: rows, tab labels, meters, the detail pane."""
    view = probes.posix
    tabs = screen.query_one(TabbedContent)
    for table in tables(screen):
        table.waits = probes.waits  # None when this refresh did not scan: unknown, not old
        table.foreign_waits = probes.foreign_waits
        if view is None:
            continue
        _namespace_column(table, view)
        table.show_view(view)
        label = posix_tabs.label(table.tab, len(table.objects), table.total)
        tab = tabs.get_tab(f"tab-{table.tab}")
        if tab.label.plain != label:
            tab.label = label
    if view is None:
        return
    if view.limits is not None:
        screen.query_one(UsageMeters).show_posix(view.limits)
    if screen.posix_table is not None:
        show_detail(screen)
        screen._show_status()


def _namespace_column(table: PosixTable, view: PosixView) -> None:
    """NS first while the view is across namespaces (shown with more than one), else none."""
    parts = view.parts
    many = None if parts is None else len(parts) > 1
    if many == table.across:
        return
    base = posix_tabs.TABS[table.tab].columns
    if many is None:
        table.set_columns(base, table.hidden - {"ns"})
    else:
        hidden = table.hidden - {"ns"} if many else table.hidden | {"ns"}
        table.set_columns((NS_COLUMN, *base), hidden)
    table.across = many
    table.filter = table.parse_query(table.filter.expression)  # accepted before: parses


def _waits_of(table: PosixTable, row: posix_columns.PosixRow) -> WaitReport | None:
    """The waiter scan of the row's namespace (another's: made inside it)."""
    if row.current:
        return table.waits
    found = table.foreign_waits.get(row.inode)
    return found[0] if found is not None else None


def show_detail(screen: MainScreen) -> None:
    table = screen.posix_table
    assert table is not None
    row = table.selected_row
    pane = screen.query_one(DetailPane)
    if row is None:
        pane.show_text(posix_tabs.empty_text(table.tab, view_of(screen)))
        return
    lines = posix_tabs.detail_lines(row, _waits_of(table, row), scanning=screen.wants_waiters)
    pane.show_text("\n".join(lines))


def shown_tab(screen: MainScreen) -> str | None:
    """The POSIX tab on screen (pshm, psem, pmq), or None (a System V one, or still
    mounting)."""
    try:
        table = screen.posix_table if screen.is_attached else None
    except NoMatches:  # the tabs are still mounting
        return None
    return table.tab if table is not None else None


def wants_waiters(screen: MainScreen) -> bool:
    """The psem tab scans for waiters with every refresh (live against stale nwaiters)."""
    return shown_tab(screen) == "psem"


def status_note(screen: MainScreen) -> str:
    view = view_of(screen)
    if view is None and not getattr(screen.app, "posix_source", None):
        return posix_tabs.NO_FEED
    table = screen.posix_table
    return posix_tabs.summary_note(view, table.tab if table is not None else "")


def why_not(screen: MainScreen, action: str) -> str | None:
    table = screen.posix_table
    assert table is not None
    if action in ("remove", "tag", "open") and table.selected is None:
        if table.filter.active:
            return "no row: the filter hides every object (\\ then Esc clears it)"
        return f"no row: no {posix_tabs.FULL_TITLES[table.tab]} to act on"
    if action == "open" and table.tab == "pmq":
        return f"{posix_tabs.PMQ_NOT_OPENED}: the pane below shows its counts and waiters"
    return None


def open_selected(screen: MainScreen) -> None:
    """Enter: the hex view of a POSIX shm object or named semaphore (pread, never mmap)."""
    table = screen.posix_table
    row = table.selected_row if table is not None else None
    if isinstance(row, posix_columns.ShmRow):
        # Another namespace's: read through the path reachable from here (its member's root).
        scan = row.acting if row.acting is not None else row.scan
        obj = scan.find(*row.obj.key) or row.obj
        screen.app.push_screen(PosixObjectScreen(obj, scan, None if row.current else row.inode))


def remove(screen: MainScreen) -> None:
    """d: the plan, the same armed confirmation as System V removal, then the core's
    identity-checked unlinks in a worker; objects that cannot go say what would free them."""
    table = screen.posix_table
    assert table is not None
    rows = table.target_rows()
    if not rows:
        return
    removable = [r for r in rows if posix_tabs.refusal(r) is None]
    if not removable:  # the whole reason (what would free it) in a note that wraps
        note = posix_tabs.refused_note(table.tab, rows)
        screen.say(note)
        screen.notify(note, severity="warning", timeout=10, markup=False)
        return
    plan = posix_tabs.plan_lines(table.tab, rows)
    tab = table.tab

    def confirmed(answer: bool | None) -> None:
        if answer:
            screen.run_worker(
                lambda: _unlink(screen, tab, removable), thread=True, group="actions",
                exit_on_error=False,
            )  # fmt: skip

    question = posix_tabs.question(tab, removable)
    screen.app.push_screen(ConfirmScreen(question, plan, yes_label="Unlink (y)"), confirmed)


def _unlink(screen: MainScreen, tab: str, rows: list[posix_tabs.Row]) -> None:
    feed = getattr(screen.app, "namespace_feed", None)
    namespaces = screen.namespaces.namespaces
    removals = posix_tabs.remove(rows, lambda inode: (feed, namespaces.get(inode)))
    screen.app.call_from_thread(_removed, screen, tab, removals, rows)


def _removed(
    screen: MainScreen, tab: str, removals: list[PosixRemoval], rows: list[posix_tabs.Row]
) -> None:  # fmt: skip
    for line, ok in posix_tabs.removal_lines(tab, removals, rows):
        screen.notify(line, severity="information" if ok else "error", timeout=6, markup=False)
    for table in tables(screen):
        table.tagged.clear()
        table.refresh()
    screen.post_message(PollRequested())


def help_topics() -> list[tuple[str, list[str]]]:
    return [
        *((f"Columns of {tab.title} ({posix_tabs.FULL_TITLES[tab.key]}; ←/→ scroll)",
           glossary.described_lines([(c.header, c.about) for c in tab.columns]))
          for tab in posix_tabs.POSIX_TABS),
        ("Filter terms on the POSIX tabs (\\; free words match a row's cells)",
         glossary.described_lines(list(TERMS))),
    ]  # fmt: skip
