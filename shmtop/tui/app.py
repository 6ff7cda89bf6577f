"""The Textual app: polls snapshots in a worker thread and routes them to the screens."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from shmtop.core.actions import Identity, Removal, remove
from shmtop.core.model import Kind, MessageQueue, Segment, Snapshot
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.text.columns import COLUMNS
from shmtop.text.units import time_of_day
from shmtop.tui import namespace_main, namespace_views, posix_main, posix_prefs, textual_leaks
from shmtop.tui.app_keys import ExplainedKeys
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.posix_source import PosixFeed
from shmtop.tui.prefs import INTERVALS, Preferences
from shmtop.tui.probes import (
    Peeker,
    PollRequested,
    ProbeRequest,
    Probes,
    WaiterSource,
    peek_queue,
    run_probes,
)
from shmtop.tui.screens.demo_guide import DemoGuide
from shmtop.tui.screens.main import MainScreen
from shmtop.tui.screens.queue_view import QueueScreen
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.screens.semaphore_view import SemaphoreSetScreen
from shmtop.tui.screens.waiter_screen import WaiterScreen
from shmtop.tui.startup_gc import StartupCollector
from shmtop.tui.status_colours import StatusTheme

_T = TypeVar("_T")

POLL_GROUP = "poll"


class SnapshotSource(Protocol):
    """Anything that returns snapshots: the Collector, or a fake in tests."""

    def snapshot(self) -> Snapshot: ...


class SnapshotReady(Message):
    """A new snapshot (and what the open views asked for with it) from the poll worker;
    a newer one replaces it if the UI is behind."""

    def __init__(self, snapshot: Snapshot, probes: Probes) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.probes = probes

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotReady)


class ShmtopApp(StatusTheme, ExplainedKeys):
    """htop for System V IPC. The UI only reads snapshots and asks the core to act."""

    CSS_PATH = "app.tcss"
    TITLE = "shmtop"
    BINDINGS = [
        Binding("q,f10", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "help_quit", "Quit (in a box: copy)", show=False, id="app.ctrl_c"),
        Binding("z", "pause", "Pause", id="app.pause"),
        Binding("plus,equals_sign", "interval(-1)", "Faster", show=False, id="app.faster"),
        Binding("minus", "interval(1)", "Slower", show=False, id="app.slower"),
        Binding("f5", "poll_now", "Refresh now", show=False, id="app.refresh"),
    ]
    REFRESH_ACTIONS = frozenset({"pause", "interval", "poll_now"})

    paused: reactive[bool] = reactive(False)
    interval: reactive[float] = reactive(1.0, init=False)

    def __init__(
        self,
        source: SnapshotSource,
        *,
        readonly: bool = False,
        start_tab: Kind | str = Kind.SHM,
        preferences: Preferences | None = None,
        preferences_path: Path | None = None,
        interval: float | None = None,
        theme: str | None = None,
        show_clock: bool = True,
        waiter_source: WaiterSource | None = None,
        peeker: Peeker | None = None,
        guide: list[str] | None = None,
        semaphore_labels: Mapping[int, tuple[str, ...]] | None = None,
        posix_source: PosixFeed | None = None,
        namespace_feed: NamespaceFeed | None = None,
    ) -> None:
        super().__init__()
        self.guide = guide  # the demo's: shown at start, and in the main screen's help
        self.semaphore_labels = dict(semaphore_labels or {})  # set id -> what each counts
        self.source = source
        self.posix_source = posix_source  # None: no POSIX tabs' rows, no POSIX meters
        self.namespace_feed = namespace_feed  # None: the caller's IPC namespace only (no A)
        # One scanner for the app's life: it remembers since when each wait has lasted.
        self.waiter_source: WaiterSource = waiter_source or WaiterScanner()
        self.peeker: Peeker = peeker or peek_queue
        self.readonly = readonly
        self.show_clock = show_clock
        self.start_tab = start_tab
        self.preferences = preferences or Preferences()
        self.preferences_path = preferences_path
        self.snapshot: Snapshot | None = None
        self.polls = 0  # snapshots shown so far (tests wait on it)
        self._requested_theme = theme or self.preferences.theme
        self._initial_interval = interval or self.preferences.interval
        self._polling = False
        self._poll_again = False  # a poll was asked for while one was running
        self._timer: Timer | None = None
        self._started = False  # preferences are saved only for the user's own changes
        self._startup_gc = StartupCollector()

    def on_load(self) -> None:
        self._startup_gc.pause()  # until the first frame is drawn (startup_gc)

    def on_unmount(self) -> None:
        self._startup_gc.resume()  # an app that ends before its first snapshot

    def get_default_screen(self) -> MainScreen:
        return MainScreen(
            start_tab=self.start_tab, readonly=self.readonly, show_clock=self.show_clock
        )

    def on_mount(self) -> None:
        if self._requested_theme in self.available_themes:
            self.theme = self._requested_theme
        if self.preferences.problem:
            self.notify(self.preferences.problem, severity="warning", timeout=8, markup=False)

    @on(MainScreen.Ready)
    def _main_ready(self) -> None:
        """Apply the remembered sorts (the tables exist only now), then poll from the moment
        the main screen can show a snapshot."""
        for table in self.main_screen.tables():
            column, reverse = self.preferences.sort.get(str(table.kind), ["id", False])
            if any(c.key == column for c in COLUMNS[table.kind]):
                table.set_sort(str(column), reverse=bool(reverse))
            known = {c.key for c in COLUMNS[table.kind]}
            table.set_hidden(set(self.preferences.hidden.get(str(table.kind), ())) & known)
        posix_prefs.apply(self.preferences, posix_main.tables(self.main_screen))
        self._started = True  # saves from now on keep what was remembered
        if self.guide:
            self.push_screen(DemoGuide(self.guide))
        self.interval = self._initial_interval
        self._restart_timer()  # the watcher does not run when the value is the default
        self.poll()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands, then every key of the screen and of the app, so that the
        command palette reaches all of them (an action that does not apply does nothing)."""
        yield from super().get_system_commands(screen)
        for namespace, bindings in ((screen, screen.BINDINGS), (self, self.BINDINGS)):
            for binding in bindings:
                if isinstance(binding, Binding) and binding.description:
                    keys = binding.key_display or binding.key.replace(",", ", ")
                    run = partial(self.run_action, binding.action, namespace)
                    yield SystemCommand(binding.description, f"key: {keys}", run)

    @property
    def main_screen(self) -> MainScreen:
        main = self.find_main_screen()
        if main is None:
            raise LookupError("the main screen is not on the screen stack")
        return main

    def find_main_screen(self) -> MainScreen | None:
        """The main screen, or None while the app starts or shuts down (late worker results
        and messages must then be dropped, not raise)."""
        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    # ---- polling ----

    def watch_interval(self, interval: float) -> None:
        self._restart_timer()

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(self.interval, self.poll)
        self._show_subtitle()

    def watch_paused(self, paused: bool) -> None:
        self._show_subtitle()

    def _show_subtitle(self) -> None:
        state = "paused (z resumes)" if self.paused else f"refresh {self.interval:g}s"
        self.sub_title = state + ("  •  read-only" if self.readonly else "")

    def poll(self) -> None:
        """Start a snapshot unless paused or one is still being taken (polls never overlap)."""
        if self.paused or self._polling:
            return
        self._polling = True
        self.collect(self.probe_request())

    def request_poll(self) -> None:
        """Poll now, or as soon as the poll under way ends."""
        if self._polling:
            self._poll_again = True
        else:
            self.poll()

    def probe_request(self) -> ProbeRequest:
        """Waiters are scanned only while a view shows them (sets, queues, a segment's content
        view) or the main screen asks;
        a queue's messages are read only while its view is open."""
        # The caller's namespace's views (another's are scanned inside it: namespace_views).
        views = [s for s in self.screen_stack if isinstance(s, WaiterScreen) and not s.gone
                 and s.namespace is None]  # fmt: skip
        # A segment's content view marks the futex words threads sleep on: it needs them too.
        contents = any(isinstance(s, SegmentViewScreen) and not s.gone and s.namespace is None
                       for s in self.screen_stack)  # fmt: skip
        main = self.find_main_screen()
        wanted = any(getattr(s, "WANTS_WAITERS", False) for s in self.screen_stack)  # tree view
        request = ProbeRequest(
            waiters=bool(views) or contents or wanted or (main is not None and main.wants_waiters),
            peek=frozenset(s.ident for s in views if isinstance(s, QueueScreen)),
            posix_shown=main is not None and main.posix_shown,
        )  # fmt: skip
        if self.namespace_feed is None:
            return request
        return namespace_views.extend_request(self, request)  # other namespaces' views

    @work(thread=True, group=POLL_GROUP, exit_on_error=False)
    def collect(self, request: ProbeRequest) -> None:
        # Runs in a thread: touches no widget, only posts the frozen result.
        feed = self.namespace_feed
        seen = None
        if feed is None:
            snapshot = self.source.snapshot()
        else:
            snapshot, seen = feed.snapshot(self.source)
        probes = run_probes(request, self.waiter_source, self.peeker)
        if seen is not None:
            probes = replace(probes, namespaces=seen)
        if feed is not None:  # scans and queue copies inside other namespaces
            probes = namespace_views.probe(feed, request, probes)
        if self.posix_source is not None:
            posix = self.posix_source.snapshot(request.posix_shown)
            if feed is not None and seen is not None:  # each namespace's too
                posix = feed.posix.view(posix, seen, request.posix_shown)
            probes = replace(probes, posix=posix)
        self.post_message(SnapshotReady(snapshot, probes))

    @on(SnapshotReady)
    def _snapshot_ready(self, message: SnapshotReady) -> None:
        first = self.snapshot is None
        self.snapshot = message.snapshot
        main = self.find_main_screen()
        if main is not None and self.namespace_feed is not None:  # before the snapshot
            namespace_main.show_views(main, message.probes.namespaces)
        for screen in self.screen_stack:
            show = getattr(screen, "show_snapshot", None)
            shown = namespace_views.snapshot_for(screen, message.snapshot, message.probes)
            if show is not None and shown is not None:  # another namespace's view: its own
                _deliver(show, shown)
            show_probes = getattr(screen, "show_probes", None)
            if show_probes is not None:
                _deliver(show_probes, message.probes)
        self.polls += 1
        textual_leaks.release_styles_caches()  # once a refresh: see textual_leaks
        if first:
            # After the first frame is drawn, not before it: the first frame waited for it.
            self.call_after_refresh(self._startup_gc.freeze_heap)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == POLL_GROUP and worker.is_finished:
            self._polling = False
            if self._poll_again:
                self._poll_again = False
                self.call_later(self.poll)
            main = self.find_main_screen()
            if main is None:
                return
            if event.state is WorkerState.ERROR:
                self._startup_gc.resume()  # no first frame yet, perhaps for long
                when = time_of_day()
                main.set_status_note(
                    f"{when} refresh failed: {worker.error}; still trying", error=True
                )
            elif event.state is WorkerState.SUCCESS:
                main.set_status_note("")

    # ---- keys ----

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The refresh keys belong to the screens that refresh (not the hex view, which
        reads on its own); F5 does nothing while paused (and says so)."""
        if action in self.REFRESH_ACTIONS and not getattr(self.screen, "REFRESHES", True):
            return False
        return None if self.why_not(action) else True

    def why_not(self, action: str) -> str | None:
        if action == "poll_now" and self.paused:
            return "paused: z resumes refreshing (then F5 refreshes at once)"
        return None

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.refresh_bindings()  # F5 greys out while paused
        if not self.paused:
            self.poll()

    def action_interval(self, step: int) -> None:
        at = min(range(len(INTERVALS)), key=lambda i: abs(INTERVALS[i] - self.interval))
        self.interval = INTERVALS[max(0, min(len(INTERVALS) - 1, at + step))]
        self.save_preferences()

    def action_poll_now(self) -> None:
        self.request_poll()

    @on(PollRequested)
    def _poll_requested(self) -> None:
        self.request_poll()

    # ---- requests from screens ----

    @on(MainScreen.RemoveRequested)
    def _remove_requested(self, message: MainScreen.RemoveRequested) -> None:
        if not self.readonly:
            self.remove_objects(message.kind, message.ids, message.expected)

    @work(thread=True, group="actions", exit_on_error=False)
    def remove_objects(
        self, kind: Kind, ids: list[int], expected: dict[int, Identity] | None = None
    ) -> None:
        """IPC_RMID each id; one that no longer is the object confirmed is left alone."""
        known = expected or {}
        removals = [remove(kind, ident, known.get(ident)) for ident in ids]
        self.call_from_thread(self._removed, removals)

    def _removed(self, removals: list[Removal]) -> None:
        main = self.find_main_screen()
        if main is not None:
            main.report_removals(removals)
            self.poll()

    @on(MainScreen.OpenRequested)
    def _open_requested(self, message: MainScreen.OpenRequested) -> None:
        """Enter: a segment opens its content view, a set or queue its live debugger view."""
        obj = message.obj
        if isinstance(obj, Segment):
            # The screen attaches (read-only) when made: make it only when pushed.
            self.push_screen(SegmentViewScreen(obj.id, readonly=self.readonly))
            return
        if isinstance(obj, MessageQueue):
            self.push_screen(QueueScreen(obj.id, self.snapshot, readonly=self.readonly))
        else:
            labels = self.semaphore_labels.get(obj.id, ())
            self.push_screen(
                SemaphoreSetScreen(obj.id, self.snapshot, readonly=self.readonly, labels=labels)
            )
        self.request_poll()  # its waiters (and messages) now, not at the next tick

    @on(MainScreen.SortChanged)
    def _sort_changed(self) -> None:
        self.save_preferences()

    # ---- preferences ----

    def watch_theme(self, theme: str) -> None:
        self.preferences.theme = theme
        if self._started:
            self.save_preferences()

    def save_preferences(self) -> None:
        main = self.find_main_screen()
        if main is None or not self._started:
            return
        self.preferences.interval = self.interval
        for table in main.tables():
            self.preferences.sort[str(table.kind)] = [table.sort_key, table.sort_reverse]
            if table.hidden:
                self.preferences.hidden[str(table.kind)] = sorted(table.hidden)
            else:
                self.preferences.hidden.pop(str(table.kind), None)
        posix_prefs.store(self.preferences, posix_main.tables(main))
        self.preferences.save(self.preferences_path)


def _deliver(show: Callable[[_T], object], result: _T) -> None:
    """Hand a poll's result to a screen. A screen still mounting its widgets, or being
    torn down, lacks some of them (NoMatches): it misses this refresh and shows the next."""
    with contextlib.suppress(NoMatches):
        show(result)
