"""The set and queue views on fake data: unreadable objects, when scans run, SVG snapshots."""

from __future__ import annotations

import dataclasses
import errno
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from fake_source import FixedSource, FixedWaiters, fixed_peek, fixed_wait_report
from textual.pilot import Pilot
from tui_pilot import (
    open_object,
    open_with_waiters,
    run_app,
    set_view,
    show_tab,
    tables_filled,
    text_of,
    wait_for,
    waiter_row,
)

from shmtop.core.binding.native import MSG_COPY_MISSING, MsgPeek
from shmtop.core.model import Kind
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.screens.main import MainScreen
from shmtop.tui.screens.queue_view import QueueScreen
from shmtop.tui.widgets.alert_banner import AlertBanner
from shmtop.tui.widgets.ipc_table import IpcTable


@pytest.mark.parametrize(
    ("peeked", "says"),
    [
        (MsgPeek((), unsupported=MSG_COPY_MISSING), "this kernel lacks MSG_COPY"),
        (OSError(errno.EACCES, "msgrcv"), "msg 98304: permission denied: reading it needs read"),
        (OSError(errno.EIDRM, "msgrcv"), "msg 98304: no such object (removed, or never existed)"),
    ],
)
def test_a_queue_that_cannot_be_read_says_why(
    tmp_path: Path, peeked: MsgPeek | OSError, says: str
) -> None:
    def peeker(msqid: int) -> MsgPeek:
        if isinstance(peeked, OSError):
            raise peeked
        return peeked

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "3", 98304)
        await wait_for(pilot, lambda: says in text_of(app, "#messages-title"), says)
        assert isinstance(app.screen, QueueScreen)  # the view goes on

    run_app(tmp_path, scenario, source=FixedSource(), waiters=FixedWaiters(), peeker=peeker,
            interval=10.0)  # fmt: skip


# ---- (e) a set nobody may read, and when the scans run (fake data) ----


def test_an_unreadable_set_says_so_and_the_rest_of_the_view_works(tmp_path: Path) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "2", 65538)
        view = set_view(app)
        await wait_for(pilot, lambda: waiter_row(view, 4400) is not None, "its waiter")
        assert "values unreadable (permission denied)" in text_of(app, "#unreadable")
        assert not view.semaphores.display
        row = waiter_row(view, 4400)
        assert row is not None and row[2:4] == ["batch", "sem 0 -1"]
        assert row[5:] == ["unknown", "? (set unreadable: permission denied)"]
        notes = text_of(app, "#waiter-notes")
        assert "2 processes could not be inspected (2 permission denied)" in notes
        assert (
            "unknown: 4400 (batch) thread 4401 on sem 65538: cannot tell whether it can be "
            "released: the set's last changers could not be read (permission denied)"
        ) in notes.splitlines()
        assert view.query_one(AlertBanner).lines == ()  # unknown is no alarm
        assert view.waiters.select(4400)
        assert view.check_action("signal", ()) is True

    run_app(tmp_path, scenario, source=FixedSource(), waiters=FixedWaiters(), peeker=fixed_peek,
            interval=10.0)  # fmt: skip


def test_a_scan_that_found_nobody_but_could_not_see_everything_says_unknown(
    tmp_path: Path,
) -> None:
    blind = dataclasses.replace(
        fixed_wait_report(), waiters=(), verdicts=(), releases=(), cycles=(),
        unreadable=MappingProxyType({"permission denied": 3}),
    )  # fmt: skip

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        await pilot.press("2", "w")
        status = "WAITERS ? (3 processes not inspected: 3 permission denied)"
        await wait_for(pilot, lambda: status in text_of(app, "#status"), status)
        await open_object(app, pilot, "2", 65537)
        says = "unknown: 3 processes could not be inspected (3 permission denied)"
        await wait_for(pilot, lambda: text_of(app, "#waiter-notes").startswith(says), says)
        assert "no thread is blocked" not in text_of(app, "#waiter-notes")

    run_app(tmp_path, scenario, source=FixedSource(), waiters=FixedWaiters(blind),
            peeker=fixed_peek, interval=10.0)  # fmt: skip


def test_waiters_are_scanned_and_queues_read_only_while_a_view_needs_them(
    tmp_path: Path,
) -> None:
    waiters = FixedWaiters()
    peeked: list[int] = []

    def peeker(msqid: int) -> MsgPeek:
        peeked.append(msqid)
        return fixed_peek(msqid)

    async def refresh(app: ShmtopApp, pilot: Pilot[None]) -> None:
        seen = app.polls
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.polls > seen, "a refresh")

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        await refresh(app, pilot)
        assert (waiters.scans, peeked) == (0, [])
        await open_object(app, pilot, "2", 65536)
        await wait_for(pilot, lambda: waiters.scans >= 1, "a scan for the set view")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "back")
        await refresh(app, pilot)
        scans = waiters.scans
        await refresh(app, pilot)
        assert (waiters.scans, peeked) == (scans, [])

        await open_object(app, pilot, "3", 98304)
        await wait_for(pilot, lambda: 98304 in peeked, "the queue is read")
        assert waiters.scans > scans
        assert "#2  type 9  40 bytes" in text_of(app, "#messages")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "back")
        await refresh(app, pilot)
        reads, scans = len(peeked), waiters.scans
        await refresh(app, pilot)
        assert (len(peeked), waiters.scans) == (reads, scans)

        await pilot.press("w")  # on demand, from the main screen
        await wait_for(pilot, lambda: waiters.scans > scans, "the asked-for scan")
        assert app.main_screen.query_one("#table-msg", IpcTable).row_text(98304).count("1/1")
        await pilot.press("w")
        await refresh(app, pilot)
        scans = waiters.scans
        await refresh(app, pilot)
        assert waiters.scans == scans and len(peeked) == reads

    run_app(tmp_path, scenario, source=FixedSource(), waiters=waiters, peeker=peeker,
            interval=10.0)  # fmt: skip


# ---- (f) SVG snapshots on fake data ----


def fixed_app(tmp_path: Path) -> ShmtopApp:
    return ShmtopApp(
        FixedSource(), preferences=Preferences(interval=10.0),
        preferences_path=tmp_path / "prefs.json", show_clock=False,
        waiter_source=FixedWaiters(), peeker=fixed_peek,
    )  # fmt: skip


@pytest.mark.usefixtures("utc")
def test_set_view_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = fixed_app(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await open_with_waiters(app, pilot, "2", 65536, (4301,))  # the first set of its tab

    assert snap_compare(app, terminal_size=(130, 32), run_before=run_before)


@pytest.mark.usefixtures("utc")
def test_queue_view_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = fixed_app(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await open_with_waiters(app, pilot, "3", 98304, (4300, 4302))  # the first queue

    assert snap_compare(app, terminal_size=(130, 40), run_before=run_before)


@pytest.mark.usefixtures("utc")
def test_main_screen_with_the_waiter_scan_on_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app = fixed_app(tmp_path)

    def scanned() -> bool:
        status = text_of(app, "#status")
        return "WAITERS" in status and "scanning" not in status

    async def run_before(pilot: Pilot[None]) -> None:
        await tables_filled(app, pilot)
        await show_tab(app, pilot, "2", Kind.SEM)
        await pilot.press("w")
        await wait_for(pilot, scanned, "the waiter scan's summary")

    assert snap_compare(app, terminal_size=(130, 32), run_before=run_before)
