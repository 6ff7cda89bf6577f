"""Pilot helpers for the set and queue view tests: run the app, wait with a bound, read views."""

from __future__ import annotations

import asyncio
import contextlib
import os
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from shmtop.core.binding.native import TITLE_SIZE
from shmtop.core.model import Kind
from shmtop.core.snapshot.collect import Collector
from shmtop.core.snapshot.procs import title_text
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.text.process_names import process_label
from shmtop.tui.app import ShmtopApp, SnapshotSource
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.posix_source import PosixFeed
from shmtop.tui.prefs import Preferences
from shmtop.tui.probes import Peeker, WaiterSource
from shmtop.tui.screens.armed import ArmedModalScreen
from shmtop.tui.screens.queue_view import QueueScreen
from shmtop.tui.screens.semaphore_view import SemaphoreSetScreen
from shmtop.tui.widgets.detail import DetailPane
from shmtop.tui.widgets.ipc_table import IpcTable

Scenario = Callable[[ShmtopApp, Pilot[None]], Awaitable[None]]
PATIENCE = 15.0


class CountingScanner(WaiterScanner):
    """The real scanner, counting its scans (to see when the app runs it)."""

    def __init__(self) -> None:
        super().__init__()
        self.scans = 0

    def scan(self) -> WaitReport:
        self.scans += 1
        return super().scan()


@contextlib.asynccontextmanager
async def app_running(
    tmp_path: Path, *, readonly: bool = False, interval: float = 0.25,
    source: SnapshotSource | None = None, waiters: WaiterSource | None = None,
    peeker: Peeker | None = None, size: tuple[int, int] = (160, 48),
    preferences: Preferences | None = None, posix: PosixFeed | None = None,
    namespaces: NamespaceFeed | None = None,
) -> AsyncIterator[tuple[ShmtopApp, Pilot[None]]]:  # fmt: skip
    """The app headless on a real Collector (or the source given), for an async test
    (@pytest.mark.asyncio): `async with app_running(tmp_path) as (app, pilot): ...`."""
    collector = Collector() if source is None else None
    feed = source if source is not None else collector
    assert feed is not None
    app = ShmtopApp(
        feed, readonly=readonly, preferences=preferences or Preferences(interval=interval),
        preferences_path=tmp_path / "prefs.json", show_clock=False, waiter_source=waiters,
        peeker=peeker, posix_source=posix, namespace_feed=namespaces,
    )  # fmt: skip
    try:
        async with app.run_test(size=size) as pilot:
            yield app, pilot
    finally:
        if collector is not None:
            collector.close()
        if namespaces is not None:
            namespaces.close()


def run_app(
    tmp_path: Path, scenario: Scenario, *, readonly: bool = False, interval: float = 0.25,
    source: SnapshotSource | None = None, waiters: WaiterSource | None = None,
    peeker: Peeker | None = None,
) -> None:  # fmt: skip
    """Play a scenario on app_running's app from a plain test (its own event loop); new
    tests are async and use app_running on pytest's loop."""

    async def main() -> None:
        async with app_running(
            tmp_path, readonly=readonly, interval=interval, source=source, waiters=waiters,
            peeker=peeker,
        ) as (app, pilot):  # fmt: skip
            await scenario(app, pilot)

    asyncio.run(main())


CONTROL_CHARACTERS = {"enter": "\r", "escape": "\x1b", "tab": "\t", "backspace": "\x7f"}
KEY_NAMES = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
             "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}  # fmt: skip


def key_event(key: str) -> events.Key:
    """The event a terminal's byte makes: a character ('/', 'y') or a key name ('enter')."""
    if len(key) > 1:
        return events.Key(key, CONTROL_CHARACTERS.get(key))
    if key.isalnum():
        return events.Key(key, key)
    name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    return events.Key(KEY_NAMES.get(name, name), key)


def burst(app: App[Any], *keys: str) -> None:
    """Post the keys to the app all at once, as the terminal driver does with the bytes of
    a paste or of a slow link that arrive in one read: no pause, no refresh between them
    (Pilot.press lets the app go idle after each key)."""
    for key in keys:
        app.post_message(key_event(key))


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until condition holds (bounded: a hang fails, it does not stall)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await pilot.pause(0.05)


async def wait_armed(app: ShmtopApp, pilot: Pilot[None], kind: type[ArmedModalScreen[Any]]
                     ) -> ArmedModalScreen[Any]:  # fmt: skip
    """Wait until a dialog of this kind is on screen and takes answers (keys typed before
    that are dropped on purpose)."""
    await wait_for(pilot, lambda: isinstance(app.screen, kind), f"the {kind.__name__}")
    screen = app.screen
    assert isinstance(screen, kind)
    await wait_for(pilot, lambda: screen.armed, f"the {kind.__name__} takes answers")
    return screen


async def next_polls(app: ShmtopApp, pilot: Pilot[None], count: int = 2) -> None:
    seen = app.polls
    await wait_for(pilot, lambda: app.polls >= seen + count, f"{count} more refreshes")


async def tables_filled(app: ShmtopApp, pilot: Pilot[None]) -> None:
    """Until a refresh has put every object of its snapshot in each table of the main screen
    (what a screenshot of it waits for, rather than the clock)."""
    await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")

    def filled() -> bool:
        return all(
            table.snapshot is not None
            and set(table.objects) == {o.id for o in table.snapshot.objects(table.kind)}
            for table in app.main_screen.tables()
        )

    await wait_for(pilot, filled, "every table shows its snapshot's objects")


async def show_tab(app: ShmtopApp, pilot: Pilot[None], key: str, kind: Kind) -> None:
    """Press a tab's key and wait until its table is the one shown."""
    await pilot.press(key)
    await wait_for(pilot, lambda: app.main_screen.table.kind is kind, f"the {kind} tab")


async def open_with_waiters(
    app: ShmtopApp, pilot: Pilot[None], tab: str, ident: int, pids: tuple[int, ...]
) -> None:
    """Open an object's view once the tables are filled, and wait until the waiter scan's
    rows of these processes are listed (and, in a queue's view, its messages read)."""
    await tables_filled(app, pilot)
    await open_object(app, pilot, tab, ident)
    screen = app.screen
    assert isinstance(screen, SemaphoreSetScreen | QueueScreen)

    def listed() -> bool:
        return all(waiter_row(screen, pid) is not None for pid in pids)

    await wait_for(pilot, listed, f"the waiters {pids} are listed")
    if isinstance(screen, QueueScreen):
        await wait_for(pilot, lambda: bool(screen.messages_text), "the messages are read")


def text_of(app: ShmtopApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def open_object(app: ShmtopApp, pilot: Pilot[None], tab: str, ident: int) -> None:
    """Switch to a tab, put the cursor on an object, press Enter."""
    await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
    await pilot.press(tab)
    table = app.main_screen.table
    await wait_for(pilot, lambda: ident in table.objects, f"{ident} is listed")
    assert table.move_to(ident)
    await pilot.press("enter")
    await wait_for(
        pilot, lambda: isinstance(app.screen, SemaphoreSetScreen | QueueScreen), "the view"
    )


def is_control(char: str) -> bool:
    """A character a terminal acts on (C0, DEL, C1) or a format character (bidi, zero-width)."""
    return unicodedata.category(char) in ("Cc", "Cf") and char != "\n"


async def untrusted_text_shown(
    app: ShmtopApp, pilot: Pilot[None], shmid: int, pid: int
) -> tuple[str, str]:
    """Wait until pid is listed as an attacher of segment shmid, put the cursor on it, and
    return its row and the detail pane's text, having checked that neither holds a control
    character and that the screen (a screenshot) holds no ESC or BEL."""
    table = app.main_screen.query_one("#table-shm", IpcTable)
    await wait_for(
        pilot,
        lambda: pid in getattr(table.objects.get(shmid), "attached_pids", ()),
        f"{pid} is listed as attached to {shmid}",
    )
    assert table.move_to(shmid)
    pane = app.main_screen.query_one(DetailPane)
    await wait_for(pilot, lambda: f"{pid} (" in str(pane.render()), "the detail pane shows it")
    shown, detail = table.row_text(shmid), str(pane.render())
    for text in (shown, detail):
        assert not any(is_control(char) for char in text), repr(text)
    screenshot = app.export_screenshot()
    assert "\x1b" not in screenshot and "\x07" not in screenshot
    return shown, detail


def set_view(app: ShmtopApp) -> SemaphoreSetScreen:
    assert isinstance(app.screen, SemaphoreSetScreen)
    return app.screen


def queue_view(app: ShmtopApp) -> QueueScreen:
    assert isinstance(app.screen, QueueScreen)
    return app.screen


def waiter_row(screen: SemaphoreSetScreen | QueueScreen, pid: int) -> list[str] | None:
    """The cells of a process's waiter row in a view, or None if it is not listed."""
    table = screen.waiters
    key = next((key for key, w in table.waiters.items() if w.pid == pid), None)
    return table.row_text(key) if key is not None else None


def own_command() -> str:
    with open("/proc/self/comm", encoding="utf-8") as comm:
        return comm.read().strip()


def own_label(width: int) -> str:
    """'PID (name)' of this process as the views show it: its comm and its title (read here
    from /proc/self/cmdline), named by the one helper."""
    title = title_text(Path("/proc/self/cmdline").read_bytes()[:TITLE_SIZE])
    return process_label(os.getpid(), own_command(), title, width)
