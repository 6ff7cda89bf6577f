"""Keys typed in one burst (a paste, a slow link) on real objects: they land in the box that
the first of them opened, never answer a dialog, and markup typed anywhere is shown as typed."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import helpers
import pytest
from blocker import Blockers, blockers
from helpers import MakeSem, MakeShm, Spawn
from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_pilot import (
    burst,
    next_polls,
    open_object,
    run_app,
    set_view,
    wait_armed,
    wait_for,
    waiter_row,
)

from shmtop.core.model import SHM_DEST
from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.main import MainScreen
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.screens.signal_dialog import SignalDialog
from shmtop.tui.widgets.hex_view import HexView
from shmtop.tui.widgets.ipc_table import IpcTable

Press = Callable[[ShmtopApp, Pilot[None], tuple[str, ...]], Awaitable[None]]
MARKUP = ["[/", "zq[/x", "[red]", "[@click=app.quit]", "\\[", "[b]x[/b"]


async def posted(app: ShmtopApp, pilot: Pilot[None], keys: tuple[str, ...]) -> None:
    """All the keys in the app's queue at once (what a terminal read of a paste gives)."""
    burst(app, *keys)
    await pilot.pause()


async def pressed(app: ShmtopApp, pilot: Pilot[None], keys: tuple[str, ...]) -> None:
    """Pilot.press: one call, no pause asked between the keys."""
    await pilot.press(*keys)


WAYS = pytest.mark.parametrize("press", [posted, pressed], ids=["posted", "pilot"])


def segment_state(shmid: int) -> tuple[bool, bool]:
    """(still listed in /proc/sysvipc/shm, marked SHM_DEST) as the kernel says."""
    row = helpers.live_rows("shm").get(shmid)
    return row is not None, bool(row and row["perms"] & SHM_DEST)


async def on_live_segment(
    app: ShmtopApp, pilot: Pilot[None], make_shm: MakeShm, spawn: Spawn
) -> tuple[int, IpcTable]:
    """A real segment attached read-write by a real child, under the cursor."""
    shmid = make_shm()
    child = spawn(name="burst-kid", attach=[(shmid, True)])
    table = app.main_screen.query_one("#table-shm", IpcTable)
    await wait_for(
        pilot,
        lambda: child.pid in getattr(table.objects.get(shmid), "attached_pids", ()),
        "the attached segment is listed",
    )
    assert table.move_to(shmid)
    return shmid, table


def query_box(app: ShmtopApp) -> Input:
    return app.main_screen.query_one("#query", Input)


def status_line(app: ShmtopApp) -> str:
    return str(app.main_screen.query_one("#status", Static).render())


# ---- (1) the keys after the one that opens a box go into the box ----


@WAYS
def test_a_search_typed_in_one_burst_lands_in_the_box_and_removes_nothing(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn, press: Press
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid, _table = await on_live_segment(app, pilot, make_shm, spawn)
        await press(app, pilot, ("/", *"ready"))  # `d` opened the removal dialog, `y` said yes
        await wait_for(pilot, lambda: query_box(app).value == "ready", "the text is in the box")
        assert app.focused is query_box(app)
        await next_polls(app, pilot)
        assert isinstance(app.screen, MainScreen), "no dialog opened"
        assert segment_state(shmid) == (True, False), "listed, and not marked for destruction"

    run_app(tmp_path, scenario)


@WAYS
def test_a_filter_typed_in_one_burst_lands_in_the_box(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn, press: Press
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid, table = await on_live_segment(app, pilot, make_shm, spawn)
        await press(app, pilot, ("\\", *"nattch:1 dy", "enter"))
        await wait_for(pilot, lambda: table.filter.expression == "nattch:1 dy", "the filter")
        assert query_box(app).value == "nattch:1 dy"
        await next_polls(app, pilot)
        assert isinstance(app.screen, MainScreen)
        assert segment_state(shmid) == (True, False)

    run_app(tmp_path, scenario)


@WAYS
@pytest.mark.parametrize("keys", [("d", "y"), ("d", "enter"), ("delete", "y", "y", "enter")])
def test_a_burst_never_answers_the_removal_dialog(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn, press: Press, keys: tuple[str, ...]
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid, _table = await on_live_segment(app, pilot, make_shm, spawn)
        await press(app, pilot, keys)
        screen = await wait_armed(app, pilot, ConfirmScreen)
        await next_polls(app, pilot)
        assert app.screen is screen, "the dialog still waits for a deliberate answer"
        assert app.focused is screen.query_one("#no"), "Cancel keeps the focus"
        assert segment_state(shmid) == (True, False)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main")
        await next_polls(app, pilot)
        assert segment_state(shmid) == (True, False)

    run_app(tmp_path, scenario)


def test_the_dialog_shows_it_is_arming_and_takes_no_click_until_armed(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ConfirmScreen, "arm_delay", 3600.0)  # it stays arming for the test

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid, _table = await on_live_segment(app, pilot, make_shm, spawn)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        await pilot.pause()
        assert "ignored" in str(screen.query_one("#arming", Static).render())
        assert screen.query_one("#yes").disabled
        await pilot.click("#yes")
        await pilot.press("y", "enter")
        await next_polls(app, pilot)
        assert not screen.armed and app.screen is screen
        assert segment_state(shmid) == (True, False)
        await pilot.press("escape")  # cancelling works at once
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "cancelled")

    run_app(tmp_path, scenario)


@pytest.fixture
def kids() -> Iterator[Blockers]:
    with blockers() as started:
        yield started


@WAYS
def test_a_burst_never_chooses_nor_sends_a_signal(
    tmp_path: Path,
    make_sem: MakeSem,
    kids: Blockers,
    press: Press,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Pilot waits for the app to idle after each key: on a loaded machine five keys took
    # longer than the 0.7 s arming delay, and the burst was no longer a burst. 3 s keeps it one.
    monkeypatch.setattr(SignalDialog, "arm_delay", 3.0)
    semid = make_sem(1)
    child = kids.start("burst-waiter")
    child.send(call="semop", semid=semid, ops=[[0, -1, 0]])  # blocks: the set is at 0

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "2", semid)
        view = set_view(app)
        await wait_for(pilot, lambda: view.waiters.select(child.pid), "the waiter's row")
        await press(app, pilot, ("k", "9", "enter", "y", "enter"))  # SIGKILL, and yes
        dialog = await wait_armed(app, pilot, SignalDialog)
        await next_polls(app, pilot)
        assert app.screen is dialog, "the signal list still waits for a deliberate choice"
        assert child.process.poll() is None, "no signal went"
        assert waiter_row(view, child.pid) is not None
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is view, "back in the view")

    run_app(tmp_path, scenario)


async def open_segment_view(
    app: ShmtopApp, pilot: Pilot[None], make_shm: MakeShm, spawn: Spawn
) -> tuple[int, SegmentViewScreen]:
    shmid, _table = await on_live_segment(app, pilot, make_shm, spawn)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the segment view")
    view = app.screen
    assert isinstance(view, SegmentViewScreen)
    await wait_for(pilot, lambda: app.focused is view.hex_view, "the hex view has the focus")
    return shmid, view


@WAYS
def test_goto_typed_in_one_burst_moves_the_hex_view(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn, press: Press
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid, view = await open_segment_view(app, pilot, make_shm, spawn)
        await press(app, pilot, ("g", *"0x9a0", "enter"))
        await wait_for(pilot, lambda: view.query_one(HexView).cursor == 0x9A0, "the cursor moved")
        await press(app, pilot, ("g", *"0x1f"))
        prompt = view.query_one("#prompt", Input)
        await wait_for(pilot, lambda: prompt.value == "0x1f", "the digits are in the box")
        assert app.focused is prompt
        await pilot.press("escape")
        assert segment_state(shmid) == (True, False)

    run_app(tmp_path, scenario)


@WAYS
@pytest.mark.parametrize("opener", ["/", "b", "s"])
def test_every_prompt_of_the_hex_view_takes_the_keys_typed_after_it(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn, press: Press, opener: str
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        _shmid, view = await open_segment_view(app, pilot, make_shm, spawn)
        prompt = view.query_one("#prompt", Input)
        # z freezes, w widens, q closes the view; a proposed save name is selected, so
        # typing replaces it
        await press(app, pilot, (opener, *"zwq"))
        await wait_for(pilot, lambda: prompt.value == "zwq", "the text is in the box")
        assert app.screen is view and not view.hex_view.frozen

    run_app(tmp_path, scenario)


# ---- (4) markup typed into any box is shown as typed, and crashes nothing ----


@pytest.mark.parametrize("text", MARKUP)
def test_markup_typed_into_search_and_filter_is_plain_text(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn, text: str
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await on_live_segment(app, pilot, make_shm, spawn)
        await pilot.press("/", *text)
        assert query_box(app).value == text
        await wait_for(pilot, lambda: f"no match for {text!r}" in status_line(app), "the status")
        await pilot.press("enter", "\\", *text)
        assert query_box(app).value == text
        await wait_for(pilot, lambda: f"filter: {text}" in status_line(app), "the filter status")
        await next_polls(app, pilot)
        assert app.is_running and isinstance(app.screen, MainScreen)
        app.export_screenshot()  # the whole screen renders

    run_app(tmp_path, scenario)


@pytest.mark.parametrize("text", MARKUP)
def test_markup_typed_into_every_prompt_of_the_hex_view_is_plain_text(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the save path is relative: the file lands here

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        _shmid, view = await open_segment_view(app, pilot, make_shm, spawn)
        prompt = view.query_one("#prompt", Input)

        def status() -> str:
            return str(view.query_one("#status", Static).render())

        def says(text: str) -> Callable[[], bool]:
            return lambda: text in status() and "Esc cancels" not in status()

        for opener in ("g", "/", "b"):
            await pilot.press(opener, *text)
            assert prompt.value == text
            await pilot.press("enter")  # the outcome quotes what was typed
            await wait_for(pilot, says(repr(text) if opener == "g" else text), "the outcome")
        await pilot.press("s", *text, "enter")  # typing replaces the proposed name
        name = shlex.split(text)[0]  # the save box takes shell words: \\[ is [
        await wait_for(pilot, says(name), "the file's name (saved, or why not) in the status")
        if "/" not in name:  # else it names a folder that is not there
            assert (tmp_path / name).stat().st_size == view.hex_view.length
        assert app.is_running and app.screen is view
        app.export_screenshot()

    run_app(tmp_path, scenario)


# ---- (7) one status, not one popup a keystroke ----


def test_a_search_with_no_match_says_so_once_in_the_status_line(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid, table = await on_live_segment(app, pilot, make_shm, spawn)
        await pilot.press("/", *"nothing-here")
        # The status line is redrawn by the app, not by the key: wait for it (bounded).
        said = "no match for 'nothing-here'"
        await wait_for(pilot, lambda: said in status_line(app), "the status line says so")
        assert status_line(app).count("no match") == 1
        assert not app.screen.query("Toast"), "no popup"
        await pilot.press(*["backspace"] * len("nothing-here"), *f"id:{shmid}")
        await wait_for(pilot, lambda: "no match" not in status_line(app), "a match clears it")
        assert table.selected_id == shmid

    run_app(tmp_path, scenario)
