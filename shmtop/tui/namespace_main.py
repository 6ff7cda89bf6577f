"""What the main screen does across IPC namespaces (-A, --namespace, the A key): its System
V tables' rows of every namespace shown (text/namespace_rows.py), the NS column, the
status line's count, the detail pane and history of a row's namespace, and removal inside
the row's namespace (its joined thread), with the armed confirmation naming it.

Kept out of screens/main.py, which calls these where a table holds rows across namespaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.worker import get_current_worker

from shmtop.core.actions import Outcome, Removal, identity_of, remove
from shmtop.core.history import HistoryStore
from shmtop.core.model import IpcObject, Kind, Snapshot
from shmtop.core.namespaces.discover import Namespace
from shmtop.core.namespaces.snapshots import AllNamespaces
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.text import glossary
from shmtop.text.columns import COLUMNS, NS_COLUMN
from shmtop.text.errors import removal_text, waiter_scan_failed
from shmtop.text.history_lines import history_lines
from shmtop.text.namespace_rows import NsRow, on_rows, row_columns, row_key, rows_of
from shmtop.text.namespace_table import namespace_label
from shmtop.text.removal_waiters import with_waiters
from shmtop.text.report import counted
from shmtop.tui import wait_summary
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.probes import PollRequested, Probes, scan_waiters
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.widgets.detail import DetailPane, detail_lines, with_history

if TYPE_CHECKING:
    from shmtop.tui.screens.main import MainScreen
    from shmtop.tui.widgets.ipc_table import IpcTable

TOGGLE = Binding(
    "A", "all_namespaces", "Every IPC namespace (again: back)", show=False,
    id="main.all_namespaces",
)  # fmt: skip
NO_FEED = "this view shows one IPC namespace (shmtop -A shows every one)"
KEEP_GONE = 10.0  # seconds a namespace no longer shown keeps its last snapshot (leaving rows)


class NamespaceState:
    """The last namespaces shown: each one's latest snapshot (what the rows' cells read),
    name, and history (the caller's is the screen's own), and the rows made of them."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every namespace (the A key went back to the caller's objects)."""
        self.seen: AllNamespaces | None = None
        self.snapshots: dict[int, Snapshot] = {}
        self.names: dict[int, str] = {}
        self.namespaces: dict[int, Namespace] = {}
        self.histories: dict[int, HistoryStore] = {}  # other namespaces'
        self.many: bool | None = None  # more than one namespace shown, as last applied to NS
        self.shown = 0  # namespaces shown (read)
        self._parts: dict[tuple[int, Kind], tuple[tuple[Any, ...], tuple[NsRow, ...]]] = {}
        self._rows: dict[Kind, tuple[list[tuple[NsRow, ...]], tuple[NsRow, ...]]] = {}

    def update(self, seen: AllNamespaces) -> None:
        self.seen = seen
        shown = [v for v in seen.views if v.snapshot is not None]
        self.names.update({v.namespace.inode: v.namespace.name for v in seen.views})
        self.namespaces.update({v.namespace.inode: v.namespace for v in seen.views})
        now = max((v.snapshot.taken_at for v in shown if v.snapshot is not None), default=0.0)
        # In place: the tables' columns and filters read this dict. A namespace no longer
        # shown keeps its last snapshot a while: its rows are drawn leaving (struck out).
        for inode in [i for i, s in self.snapshots.items() if s.taken_at < now - KEEP_GONE]:
            del self.snapshots[inode]
        for view in shown:
            assert view.snapshot is not None
            self.snapshots[view.namespace.inode] = view.snapshot
            if not view.namespace.current:
                history = self.histories.setdefault(view.namespace.inode, HistoryStore())
                history.record(view.snapshot)
        inodes = {v.namespace.inode for v in shown}
        self.shown = len(inodes)
        self.histories = {i: h for i, h in self.histories.items() if i in inodes}
        self._parts = {k: v for k, v in self._parts.items() if k[0] in inodes}

    def rows(self, kind: Kind) -> tuple[NsRow, ...]:
        """Every shown namespace's rows of a kind; the same tuple while none changed (the
        table then only redraws)."""
        assert self.seen is not None
        parts = []
        for view in self.seen.views:
            if view.snapshot is None:
                continue
            ns = view.namespace
            objects = view.snapshot.objects(kind)
            made = self._parts.get((ns.inode, kind))
            if made is None or made[0] is not objects:
                before = {row.id: row for row in made[1]} if made is not None else None
                made = (objects, rows_of(ns.inode, ns.name, ns.current, objects, before))
                self._parts[(ns.inode, kind)] = made
            parts.append(made[1])
        last = self._rows.get(kind)
        if (
            last is not None
            and len(last[0]) == len(parts)
            and all(a is b for a, b in zip(last[0], parts, strict=True))
        ):
            return last[1]
        combined = tuple(row for part in parts for row in part)
        self._rows[kind] = (parts, combined)
        return combined

    def history(self, screen: MainScreen, row: NsRow) -> HistoryStore | None:
        return screen.history if row.current else self.histories.get(row.inode)


def feed_of(screen: MainScreen) -> NamespaceFeed | None:
    feed = getattr(screen.app, "namespace_feed", None)
    return feed if isinstance(feed, NamespaceFeed) else None


def rows_shown(screen: MainScreen) -> bool:
    """The System V tables hold rows across namespaces (else: the caller's objects)."""
    return screen.namespaces.seen is not None


def object_of(selected: Any) -> IpcObject | None:
    """The object of a table's row (a row across namespaces carries it)."""
    return selected.obj if isinstance(selected, NsRow) else selected


def help_topics() -> list[tuple[str, list[str]]]:
    """What the System V tabs show across namespaces (-A, A, --namespace)."""
    lines = glossary.described_lines([
        (NS_COLUMN.header, NS_COLUMN.about + "; shown by default with more than one namespace"),
        ("ns:NAME", "filter by namespace: its name, ipc:[INODE] or the inode"),
        ("A", "every IPC namespace (root), again: back; d removes inside the row's one"),
        ("Enter", "another namespace's segment, set or queue: its view, read inside it"),
        ("w", "the waiter scan covers every namespace shown (each scanned inside it)"),
    ])  # fmt: skip
    return [("Every IPC namespace (-A, A)", lines)]


# ---- a refresh ----


def show_views(screen: MainScreen, seen: AllNamespaces | None) -> None:
    """A refresh's namespaces, before its snapshot reaches the tables: rows across them,
    or (None: the A key went back) the caller's objects again."""
    state = screen.namespaces
    if not screen.ready:
        return  # its tables are not mounted yet: the next refresh comes once they are
    if seen is None:
        if state.seen is not None:
            state.reset()
            for table in screen.tables():
                _plain(table)
        return
    first = state.seen is None
    state.update(seen)
    many = state.shown > 1
    for table in screen.tables():
        if first:
            _across(table, state)
        table.rows = state.rows(table.kind)
        if many != state.many:  # NS shown by default only with more than one namespace
            hidden = table.hidden - {"ns"} if many else table.hidden | {"ns"}
            table.set_columns(table.columns_spec, hidden)
    state.many = many


def _across(table: IpcTable, state: NamespaceState) -> None:
    table.namespace_name = state.names.get
    table.rows_filter = partial(on_rows, snapshots=state.snapshots)
    table.start_over()
    table.rows = ()
    table.set_columns(row_columns(table.kind, state.snapshots))
    table.filter = table.parse_query(table.filter.expression)  # accepted before: parses


def _plain(table: IpcTable) -> None:
    table.rows_filter = None
    table.rows = None
    table.start_over()
    table.set_columns(COLUMNS[table.kind], table.hidden - {"ns"})
    table.filter = table.parse_query(table.filter.expression)


def meters_snapshot(screen: MainScreen, snapshot: Snapshot) -> Snapshot:
    """What the meters read: the one namespace shown when it is another's (--namespace NS:
    its limits and usage, read by IPC_INFO in its joined thread, for IPC limits are per
    namespace), else the caller's."""
    seen = screen.namespaces.seen
    if seen is None or len(seen.views) != 1:
        return snapshot
    view = seen.views[0]
    return snapshot if view.namespace.current or view.snapshot is None else view.snapshot


def status_note(screen: MainScreen) -> str | None:
    """How many namespaces the tables show, how many could not be joined (and why), and
    the processes whose namespace could not be told."""
    seen = screen.namespaces.seen
    if seen is None:
        feed = feed_of(screen)
        return feed.note if feed is not None else None
    shown = [v for v in seen.views if v.snapshot is not None]
    if len(seen.views) == 1 and shown:
        ns = shown[0].namespace
        text = f"IPC namespace {namespace_label(ns.name, ns.inode)}"
    else:
        text = f"{counted(len(shown), 'IPC namespace')} shown"
    refused = seen.refused
    if refused:
        reasons = sorted({v.refused or "unknown" for v in refused})
        text += f", {len(refused)} not joined ({'; '.join(reasons)})"
    unplaced = sum(seen.unplaced.values())
    if unplaced:
        text += f", namespace unknown for {counted(unplaced, 'process')}"
    return text


def show_detail(screen: MainScreen) -> bool:
    """The pane for a row across namespaces: its namespace, page and that namespace's
    history of it; False if the selection is no such row."""
    table = screen.table
    row = table.selected
    if not isinstance(row, NsRow):
        return False
    state = screen.namespaces
    snapshot = state.snapshots.get(row.inode)
    pane = screen.query_one(DetailPane)
    if snapshot is None:
        pane.show(None, None)
        return True
    store = state.history(screen, row)
    series = store.series(table.kind, row.obj.id) if store is not None else None
    history = history_lines(series, snapshot.taken_at, pane.spark_width(),
                            store.window if store is not None else 0)  # fmt: skip
    page = [f"IPC namespace {row.label}", *detail_lines(row.obj, snapshot)]
    pane.show_text("\n".join(with_history(page, history, pane.view_height())))
    return True


# ---- the waiter scan (`w`) ----


def waits_across(
    probes: Probes, kind: Kind, counts: dict[int, tuple[int, int]] | None, marked: set[int]
) -> tuple[dict[int, tuple[int, int]] | None, set[int], frozenset[int]]:
    """The caller's scan's counts and alerted ids, with each other namespace's scan (made
    inside it) added by row id; and the namespaces whose rows were scanned."""
    marked = set(marked)
    scanned: set[int] = set()
    for inode, (report, _error) in probes.foreign_waits.items():
        if report is None:
            continue
        scanned.add(inode)
        marked |= {row_key(inode, i, current=False) for i in wait_summary.alerted(report, kind)}
        if kind is Kind.MSG:
            theirs = wait_summary.queue_counts(report)
            counts = dict(counts or {})
            counts.update({row_key(inode, i, current=False): c for i, c in theirs.items()})
    return counts, marked, frozenset(scanned)


def alerts_across(screen: MainScreen, probes: Probes) -> list[str]:
    """The banner's lines of the other namespaces' scans (deadlocks, stuck waits), each
    naming its namespace: the banner covers every namespace shown."""
    names = screen.namespaces.names
    lines = []
    for inode, (report, _error) in sorted(probes.foreign_waits.items()):
        if report is None:
            continue
        label = namespace_label(names.get(inode, f"ipc:[{inode}]"), inode)
        lines += [f"{line} (IPC namespace {label})" for line in wait_summary.summary_alerts(report)]
    return lines


def waiters_status(probes: Probes) -> str | None:
    """The status line's WAITERS when only other namespaces were scanned (--namespace NS:
    the caller's is not shown, so not scanned); None when the caller's was."""
    if probes.scanned or not probes.foreign_waits:
        return None
    found = [report for report, _ in probes.foreign_waits.values() if report is not None]
    failed = [error for report, error in probes.foreign_waits.values() if report is None]
    if not found:
        return f"WAITERS ? ({failed[0]})" if failed else "WAITERS: scanning…"
    text = f"WAITERS {sum(len(report.waiters) for report in found)}"
    if len(found) > 1:
        text += f" in {counted(len(found), 'IPC namespace')}"
    if failed:
        text += f", {counted(len(failed), 'namespace')} not scanned ({failed[0]})"
    return text


def waiters_note(probes: Probes) -> list[str]:
    """The other namespaces' waiters, for the status line after the caller's WAITERS."""
    found = [report for report, _ in probes.foreign_waits.values() if report is not None]
    failed = [error for report, error in probes.foreign_waits.values() if report is None]
    parts = []
    if found:
        waiting = sum(len(report.waiters) for report in found)
        parts.append(f"+{waiting} in {counted(len(found), 'other IPC namespace')}")
    if failed:
        parts.append(f"{counted(len(failed), 'other namespace')} not scanned ({failed[0]})")
    return parts


# ---- keys ----


def why_not(screen: MainScreen, action: str) -> str | None:
    if action == "all_namespaces":
        feed = feed_of(screen)
        if feed is None:
            return NO_FEED
        return None if feed.every else feed.why_not_every()
    return None


def toggle(screen: MainScreen) -> None:
    """A: every IPC namespace, or back to the one(s) the view started with."""
    feed = feed_of(screen)
    if feed is None:
        return
    feed.every = not feed.every
    feed.note = None
    if feed.every:
        screen.say("every IPC namespace (A again goes back)")
    else:
        back = feed.start
        where = namespace_label(back.name, back.inode) if back else "the caller's"
        screen.say(f"IPC namespace {where} only (A shows every one)")
    screen.post_message(PollRequested())


# ---- removal ----


def remove_rows(screen: MainScreen, targets: Sequence[Any]) -> None:
    """d: the plan, namespace by namespace (with each set's or queue's blocked threads,
    scanned inside its namespace), then the armed confirmation, then the removals, each
    made by its namespace's joined thread."""
    from shmtop.tui.screens.main import removal_line, removal_question  # main imports us

    feed = feed_of(screen)
    rows = [row for row in targets if isinstance(row, NsRow)]
    if feed is None or not rows:
        return
    kind = screen.kind
    state = screen.namespaces
    groups: dict[int, list[NsRow]] = {}
    for row in rows:
        groups.setdefault(row.inode, []).append(row)
    labels = {inode: group[0].label for inode, group in groups.items()}
    where = (f"in IPC namespace {next(iter(labels.values()))}" if len(groups) == 1
             else f"in {len(groups)} IPC namespaces")  # fmt: skip
    question = removal_question(kind, len(rows), where)
    snapshots = dict(state.snapshots)
    namespaces = {inode: state.namespaces[inode] for inode in groups}

    def ask() -> None:  # in a worker: the waiter scans read /proc
        plan: list[str] = []
        for inode, group in groups.items():
            objects = [row.obj for row in group]
            lines = [removal_line(kind, o, snapshots.get(inode)) for o in objects]
            if kind is not Kind.SHM:
                waits, error = _waits_in(screen, feed, namespaces[inode])
                lines = with_waiters(lines, kind, objects, waits, error)
            plan += [f"in IPC namespace {labels[inode]}:", *lines]
        if not get_current_worker().is_cancelled:  # a second `d` asks again: one question
            screen.app.call_from_thread(screen.app.push_screen, ConfirmScreen(question, plan),
                                        confirmed)  # fmt: skip

    def confirmed(answer: bool | None) -> None:
        if answer:
            screen.run_worker(partial(_remove, screen, feed, kind, groups, namespaces),
                              thread=True, group="actions", exit_on_error=False)  # fmt: skip

    screen.run_worker(ask, thread=True, exclusive=True, group="removal-question",
                      exit_on_error=False)  # fmt: skip


def _waits_in(screen: MainScreen, feed: NamespaceFeed, namespace: Namespace) -> Any:
    """A waiter scan of the namespace, from inside it (its ids are its own)."""
    if namespace.current:
        return scan_waiters(screen.app.waiter_source)  # type: ignore[attr-defined]
    try:
        # Made in the joined thread: a scanner takes its namespace from the thread it is made in.
        return feed.run_in(namespace, _scan_here)
    except (KeyError, OSError) as error:
        return None, waiter_scan_failed(error)


def _scan_here() -> Any:
    return scan_waiters(WaiterScanner())


def _remove(
    screen: MainScreen, feed: NamespaceFeed, kind: Kind, groups: dict[int, list[NsRow]],
    namespaces: dict[int, Namespace],
) -> None:  # fmt: skip
    said: list[tuple[str, bool]] = []
    for inode, group in groups.items():
        for row in group:
            try:
                done = feed.run_in(namespaces[inode], remove, kind, row.obj.id,
                                   identity_of(row.obj))  # fmt: skip
            except KeyError:
                done = Removal(kind, row.obj.id, Outcome.FAILED, "its namespace is not shown now")
            except OSError as error:
                done = Removal(kind, row.obj.id, Outcome.FAILED, str(error))
            said.append((f"{row.label}: {removal_text(done)}", done.outcome.ok))
    screen.app.call_from_thread(_removed, screen, said)


def _removed(screen: MainScreen, said: list[tuple[str, bool]]) -> None:
    for line, ok in said:
        screen.notify(line, severity="information" if ok else "error", timeout=6, markup=False)
    for table in screen.tables():
        table.tagged.clear()
        table.refresh()
    screen.post_message(PollRequested())
