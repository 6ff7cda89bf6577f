"""The interactive view against real kernel objects and real processes (Pilot tests)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import helpers
from helpers import MakeShm, Spawn
from textual.pilot import Pilot
from textual.widgets import Input
from tui_pilot import next_polls, run_app, wait_armed, wait_for

from shmtop.ipc.model import Kind
from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.main import MainScreen
from shmtop.tui.widgets.detail import DetailPane
from shmtop.tui.widgets.ipc_table import IpcTable


async def next_poll(app: ShmtopApp, pilot: Pilot[None]) -> None:
    """Wait for a snapshot taken after this moment."""
    await next_polls(app, pilot, 2)


def segment_table(app: ShmtopApp) -> IpcTable:
    return app.main_screen.query_one("#table-shm", IpcTable)


def segment_alive(shmid: int) -> bool:
    return shmid in helpers.live_rows("shm")


def test_a_new_segment_appears_with_its_attached_child(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        shmid = make_shm()
        child = spawn(name="tui-kid", attach=[(shmid, True)])
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        await wait_for(
            pilot,
            lambda: child.pid in getattr(table.objects[shmid], "attached_pids", ()),
            "its attacher is listed",
        )
        assert f"{child.pid}(tui-kid)" in table.row_text(shmid)

    run_app(tmp_path, scenario)


def test_remove_asks_first_then_the_kernel_has_no_segment(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        assert table.move_to(shmid)
        await pilot.press("d")
        await wait_armed(app, pilot, ConfirmScreen)
        assert segment_alive(shmid), "nothing may go before the answer"
        await pilot.press("y")
        await wait_for(pilot, lambda: not segment_alive(shmid), "the kernel removed it")
        await wait_for(pilot, lambda: shmid not in table.objects, "the row went")

    run_app(tmp_path, scenario)


def test_cancel_leaves_the_segment(tmp_path: Path, make_shm: MakeShm) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        table.move_to(shmid)
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main")
        await next_poll(app, pilot)
        assert segment_alive(shmid)
        assert shmid in table.objects

    run_app(tmp_path, scenario)


def test_tagged_rows_are_removed_together(tmp_path: Path, make_shm: MakeShm) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        ids = [make_shm() for _ in range(3)]
        keep = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: all(i in table.objects for i in [*ids, keep]), "listed")
        for shmid in ids:
            table.move_to(shmid)
            await pilot.press("space")
        assert table.tagged == set(ids)
        await pilot.press("f9")
        await wait_armed(app, pilot, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: not any(segment_alive(i) for i in ids), "all removed")
        assert segment_alive(keep)

    run_app(tmp_path, scenario)


def test_readonly_removes_nothing(tmp_path: Path, make_shm: MakeShm) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        table.move_to(shmid)
        assert app.main_screen.check_action("remove", ()) is None  # greyed out
        for key in ("d", "delete", "f9", "y"):
            await pilot.press(key)
        await next_poll(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert segment_alive(shmid)

    run_app(tmp_path, scenario, readonly=True)


def test_sort_search_and_filter_keep_the_cursor_on_the_same_object(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        small, chosen, large = make_shm(4096), make_shm(8192), make_shm(3 * 4096)
        table = segment_table(app)
        await wait_for(pilot, lambda: large in table.objects, "listed")
        assert table.move_to(chosen)
        table.set_sort("size", reverse=True)
        await pilot.pause()
        assert table.selected_id == chosen
        await pilot.press("i")  # invert
        assert table.selected_id == chosen
        rows = table.ordered_ids
        assert rows.index(small) < rows.index(chosen) < rows.index(large)
        await next_poll(app, pilot)
        assert table.selected_id == chosen, "a refresh keeps the cursor"
        # A filter that keeps the chosen one keeps the cursor on it.
        await pilot.press("backslash")
        query = app.main_screen.query_one("#query", Input)
        query.value = "!orphan"
        await pilot.pause()
        await pilot.press("enter")
        assert table.filter.active
        assert table.selected_id == chosen
        # Search moves the cursor to what it finds, and it stays through refreshes.
        table.move_to(small)
        await pilot.press("slash")
        query.value = f"id:{large}"
        await pilot.pause()
        await pilot.press("enter")
        assert table.selected_id == large
        await next_poll(app, pilot)
        assert table.selected_id == large

    run_app(tmp_path, scenario)


def test_filter_hides_rows_and_escape_clears_it(tmp_path: Path, make_shm: MakeShm) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        one, other = make_shm(), make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: other in table.objects, "listed")
        await pilot.press("backslash")
        app.main_screen.query_one("#query", Input).value = f"id:{one}"
        await pilot.pause()
        assert set(table.objects) == {one}
        await pilot.press("escape")
        await pilot.pause()
        assert not table.filter.active
        assert {one, other} <= set(table.objects)

    run_app(tmp_path, scenario)


def is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf") and char != "\n"


def test_a_process_name_with_control_bytes_is_shown_safely(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        child = spawn(name="ev\x1b[41mil\x07\x9b", attach=[(shmid, True)])
        table = segment_table(app)
        await wait_for(
            pilot,
            lambda: child.pid in getattr(table.objects.get(shmid), "attached_pids", ()),
            "the child is listed",
        )
        table.move_to(shmid)
        await pilot.pause()
        shown = table.row_text(shmid)
        detail = str(app.main_screen.query_one(DetailPane).render())
        for text in (shown, detail):
            assert "␛" in text, "ESC is shown as a visible symbol"
            assert not any(is_control(char) for char in text), repr(text)
        screenshot = app.export_screenshot()
        assert "\x1b" not in screenshot and "\x07" not in screenshot

    run_app(tmp_path, scenario)


def test_tabs_switch_by_key(tmp_path: Path) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        for key, kind in (("2", Kind.SEM), ("3", Kind.MSG), ("1", Kind.SHM)):
            await pilot.press(key)
            await pilot.pause()
            assert app.main_screen.kind is kind
            assert app.focused is None, "no focus moves: the footer is not rebuilt"

    run_app(tmp_path, scenario)


def test_refresh_goes_on_at_the_default_interval_and_pauses(tmp_path: Path) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 3, "three refreshes at the default 1 s")
        await pilot.press("z")
        paused_at = app.polls
        await pilot.pause(2.5)
        assert app.polls <= paused_at + 1, "at most the refresh under way lands after a pause"
        await pilot.press("z")
        await wait_for(pilot, lambda: app.polls >= paused_at + 2, "refreshes resume")

    run_app(tmp_path, scenario, interval=1.0)
