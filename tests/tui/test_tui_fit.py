"""Layouts that fit 80x24, help on every screen, and keys that explain themselves (issue 13):
on the fixed snapshot (and a real segment for the hex view), driven by Pilot."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from functools import partial
from pathlib import Path

import pytest
from fake_source import FixedSource, FixedWaiters, fixed_peek
from helpers import MakeShm
from textual.pilot import Pilot
from textual.widgets import Input, SelectionList, Static
from textual.widgets._footer import FooterKey
from tui_pilot import app_running, open_object, show_tab, tables_filled, wait_for

from shmtop.core.model import Kind
from shmtop.text.columns import COLUMNS
from shmtop.text.glossary import STATUS_MEANINGS
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.screens.column_chooser import ColumnChooser
from shmtop.tui.screens.demo_guide import DemoGuide, guide_lines
from shmtop.tui.screens.help import HelpScreen
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.viewer_app import ViewerApp
from shmtop.tui.widgets.ipc_table import IpcTable
from shmtop.tui.widgets.keyed_table import KeyedTable

SMALL = (80, 24)
# What each tab keeps on screen at 80 columns: id, key, owner, its size and use, status.
MUST_SHOW = {
    Kind.SHM: ("ID", "KEY", "OWNER", "SIZE", "NATTCH", "STATUS"),
    Kind.SEM: ("ID", "KEY", "OWNER", "NSEMS", "WAIT n/z", "STATUS"),
    Kind.MSG: ("ID", "KEY", "OWNER", "MSGS", "USED/MAX", "STATUS"),
}


def fixed(
    tmp_path: Path, *, size: tuple[int, int] = SMALL, readonly: bool = False,
    preferences: Preferences | None = None,
) -> AbstractAsyncContextManager[tuple[ShmtopApp, Pilot[None]]]:  # fmt: skip
    return app_running(
        tmp_path, source=FixedSource(), waiters=FixedWaiters(), peeker=fixed_peek, size=size,
        readonly=readonly, interval=10.0, preferences=preferences,
    )  # fmt: skip


def segment_view_of(app: ViewerApp) -> SegmentViewScreen:
    screen = app.screen
    assert isinstance(screen, SegmentViewScreen)
    return screen


def laid_out(table: IpcTable) -> bool:
    return table.size.width > 0


def header(table: IpcTable) -> str:
    return table.render_line(0).text


def status_text(app: ShmtopApp) -> str:
    return str(app.screen.query_one("#status", Static).render())


# ---- 1. layouts that fit ----


@pytest.mark.asyncio
async def test_at_80_columns_every_tab_shows_its_key_columns_and_status(tmp_path: Path) -> None:
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        for key, kind in (("1", Kind.SHM), ("2", Kind.SEM), ("3", Kind.MSG)):
            await show_tab(app, pilot, key, kind)
            table = app.main_screen.table
            await wait_for(pilot, partial(laid_out, table), "the table is laid out")
            shown = header(table)
            assert len(shown) <= SMALL[0]
            for title in MUST_SHOW[kind]:
                assert title in shown, (kind, title, shown)
            free = [c.header for c in COLUMNS[kind] if c.fit is not None]
            assert table.shown[-len(free) :] == tuple(c for c in COLUMNS[kind] if c.fit), free


@pytest.mark.asyncio
async def test_right_and_left_scroll_the_table_sideways(tmp_path: Path) -> None:
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        table = app.main_screen.table
        assert "ATTACHED" not in header(table)  # the free text is last: off screen at 80
        for _ in range(12):
            await pilot.press("right")
        await wait_for(pilot, lambda: "ATTACHED" in header(table), "the last column shows")
        assert table.scroll_offset.x > 0 and not header(table).lstrip().startswith("ID")
        for _ in range(12):
            await pilot.press("left")
        await wait_for(pilot, lambda: table.scroll_offset.x == 0, "back at the left edge")
        assert header(table).split()[0].startswith("ID")


@pytest.mark.asyncio
async def test_widths_stay_the_same_across_sorts_filters_and_refreshes(tmp_path: Path) -> None:
    async with fixed(tmp_path, size=(160, 45)) as (app, pilot):
        await tables_filled(app, pilot)
        table = app.main_screen.table
        widths = list(table._widths)
        await pilot.press("greater_than_sign", "greater_than_sign", "i")
        await pilot.press("backslash", *"orphan", "enter")
        await wait_for(pilot, lambda: len(table.objects) == 1, "the filter shows one segment")
        assert table._widths == widths
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.polls >= 2, "a refresh")
        assert table._widths == widths
        free = table.shown[-1]
        assert free.key == "attached" and table._widths[-1] > free.width  # it takes the room


@pytest.mark.asyncio
async def test_f2_hides_a_column_and_the_choice_is_remembered(tmp_path: Path) -> None:
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ColumnChooser), "the chooser")
        choices = app.screen.query_one(SelectionList)
        keys = [c.key for c in COLUMNS[Kind.SHM]]
        choices.highlighted = keys.index("perms")
        await pilot.press("space", "enter")
        table = app.main_screen.table
        await wait_for(pilot, lambda: "perms" in table.hidden, "perms is hidden")
        assert "PERMS" not in header(table)
    saved = json.loads((tmp_path / "prefs.json").read_text(encoding="utf-8"))
    assert saved["hidden"] == {"shm": ["perms"]}
    async with fixed(tmp_path, preferences=Preferences.load(tmp_path / "prefs.json")) as (
        app, pilot,
    ):  # fmt: skip
        await tables_filled(app, pilot)
        assert app.main_screen.table.hidden == {"perms"}


@pytest.mark.asyncio
async def test_the_hex_view_fits_its_rows_and_hides_the_inspector_below_132_columns(
    make_shm: MakeShm,
) -> None:
    shmid = make_shm(8192)
    app = ViewerApp(shmid, poll_interval=3600, sweep=False)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the view")
        view = segment_view_of(app)
        await wait_for(pilot, lambda: view.hex_view.row_bytes == 16, "16 bytes a row at 80")
        assert not view.query_one("#inspector").display
        await pilot.press("i")  # asked for: shown, and the rows make room
        await wait_for(pilot, lambda: view.hex_view.row_bytes == 8, "8 bytes a row")
        assert view.query_one("#inspector").display
    app = ViewerApp(shmid, poll_interval=3600, sweep=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the view")
        view = segment_view_of(app)
        await wait_for(pilot, lambda: view.hex_view.row_bytes == 16, "16 bytes and the inspector")
        assert view.query_one("#inspector").display
        region = view.hex_view.region
        assert region.right <= view.query_one("#inspector").region.x
        await pilot.press("w", "w")  # auto -> 16 -> 32 bytes a row: the inspector makes room
        await wait_for(pilot, lambda: view.hex_view.row_bytes == 32, "32 bytes a row")
        assert not view.query_one("#inspector").display
        assert view.hex_view.virtual_size.width <= view.hex_view.scrollable_content_region.width


# ---- 2. help everywhere ----


async def help_of(app: ShmtopApp | ViewerApp, pilot: Pilot[None], key: str) -> str:
    under = app.screen
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), f"{key} opens the help")
    text = app.screen.query_one("#help-text", Static)
    shown = str(text.render())
    assert "pageup" not in shown and "question_mark" not in shown  # readable key names
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is under, "Escape closes the help")
    return shown


@pytest.mark.asyncio
async def test_help_on_the_main_screen_names_keys_status_words_and_columns(
    tmp_path: Path,
) -> None:
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        shown = await help_of(app, pilot, "question_mark")
        assert shown == await help_of(app, pilot, "f1")
        for words in ("PgUp", "PgDn", "F2", "d  Del  F9", "Esc", "U", "^C"):
            assert words in shown, words
        for word, _meaning in STATUS_MEANINGS:
            assert f"  {word}  " in shown, word
        for kind in Kind:
            for column in COLUMNS[kind]:
                assert column.about and column.header in shown, column.key
        # the help fits 80x24 and scrolls the rest
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        box = app.screen.query_one("VerticalScroll")
        assert box.region.right <= SMALL[0] and box.region.bottom <= SMALL[1]
        assert box.max_scroll_y > 0
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: box.scroll_y > 0, "PgDn scrolls the help")


@pytest.mark.asyncio
async def test_help_in_the_set_and_queue_views(tmp_path: Path) -> None:
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        await open_object(app, pilot, "2", 65536)
        shown = await help_of(app, pilot, "question_mark")
        assert "semaphore set view" in shown or "Signal waiter" in shown
        for words in ("Signal waiter", "k  F9", "NCNT", "ZCNT", "WAITS TO"):
            assert words in shown, words
        await pilot.press("escape")
        await open_object(app, pilot, "3", 98304)
        shown = await help_of(app, pilot, "f1")
        assert "Signal waiter" in shown and "WAITS TO" in shown


@pytest.mark.asyncio
async def test_help_in_the_hex_view_and_no_refresh_keys_there(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    shmid = make_shm(4096)
    async with app_running(tmp_path, interval=10.0, size=SMALL) as (app, pilot):
        await tables_filled(app, pilot)
        assert app.main_screen.table.move_to(shmid)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the hex view")
        view = app.screen
        shown = await help_of(app, pilot, "question_mark")
        for words in ("Go to", "Search back", "Freeze", "PgUp", "offset"):
            assert words in shown, words
        assert "Refresh now" not in shown and "Faster" not in shown
        actions = {active.binding.action for active in view.active_bindings.values()}
        assert not actions & {"poll_now", "interval(-1)", "interval(1)", "pause"}


# ---- 4. keys that explain themselves ----


@pytest.mark.asyncio
async def test_keys_that_cannot_act_say_why(tmp_path: Path) -> None:
    async with fixed(tmp_path, readonly=True) as (app, pilot):
        await tables_filled(app, pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: "read-only" in status_text(app), "d says read-only")
        await pilot.press("z", "f5")
        await wait_for(pilot, lambda: "paused" in status_text(app), "F5 says paused")
        await pilot.press("z")
        await open_object(app, pilot, "2", 65537)  # a set nobody waits on
        await pilot.press("k")
        await wait_for(pilot, lambda: "read-only" in status_text(app), "k says read-only")
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        await open_object(app, pilot, "2", 65537)
        await wait_for(pilot, lambda: app.polls >= 2, "the waiter scan")
        await pilot.press("k")
        await wait_for(pilot, lambda: "no waiter" in status_text(app), "k says no waiter")


@pytest.mark.asyncio
async def test_escape_keeps_the_tags_and_says_so_u_clears_them(tmp_path: Path) -> None:
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        table = app.main_screen.table
        await pilot.press("space", "space")
        await wait_for(pilot, lambda: len(table.tagged) == 2, "two tagged")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "U untags" in status_text(app), "Escape says so")
        assert len(table.tagged) == 2
        await pilot.press("U")
        await wait_for(pilot, lambda: "untagged 2" in status_text(app), "U says what it did")
        assert not table.tagged


@pytest.mark.asyncio
async def test_ctrl_c_quits_unless_typing(tmp_path: Path) -> None:
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        await pilot.press("slash", "x")
        box = app.main_screen.query_one("#query", Input)
        await wait_for(pilot, lambda: box.value == "x", "typing in the search box")
        await pilot.press("ctrl+c")  # the box's: copy
        await pilot.pause()
        assert app.is_running
        await pilot.press("enter", "ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, "Ctrl+C quits")


def footer_keys(app: ShmtopApp) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


@pytest.mark.asyncio
async def test_footers_name_keys_in_one_style_and_keep_quit_at_80_columns(
    tmp_path: Path,
) -> None:
    async with fixed(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        await wait_for(pilot, lambda: bool(footer_keys(app)), "the footer is drawn")
        keys = footer_keys(app)
        shown = [(k.key_display, k.description) for k in keys]
        assert ("q", "Quit") in shown and ("d", "Remove") in shown and ("?", "Help") in shown
        for display, _ in shown:  # one style: a character, F-keys, or a capitalised name
            assert len(display) == 1 or display[0].isupper(), shown
        assert max(k.region.right for k in keys) <= SMALL[0]
        await open_object(app, pilot, "2", 65536)
        await wait_for(pilot, lambda: bool(footer_keys(app)), "the set view's footer")
        shown = [(k.key_display, k.description) for k in footer_keys(app)]
        assert ("k", "Signal waiter") in shown and ("Esc", "Back") in shown


# ---- the demo's guide and labelled semaphores ----


@pytest.mark.asyncio
async def test_the_guide_shows_first_closes_on_a_key_and_help_shows_it_again(
    tmp_path: Path,
) -> None:
    app = ShmtopApp(
        FixedSource(), preferences=Preferences(interval=10.0), show_clock=False,
        preferences_path=tmp_path / "prefs.json", waiter_source=FixedWaiters(),
        peeker=fixed_peek, guide=guide_lines(["segment 32768: the ring buffer"]),
        semaphore_labels={65536: ("mutex", "empty slots", "full slots")},
    )  # fmt: skip
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DemoGuide), "the guide")
        guide = str(app.screen.query_one("#guide-text", Static).render())
        assert "the ring buffer" in guide and "Try:" in guide
        await pilot.press("d")  # closes the guide, and does nothing else
        await wait_for(pilot, lambda: app.screen is app.main_screen, "the main screen")
        await tables_filled(app, pilot)
        assert "segment 32768: the ring buffer" in await help_of(app, pilot, "question_mark")
        await open_object(app, pilot, "2", 65536)
        semaphores = app.screen.query_one("#semaphores", KeyedTable)
        await wait_for(pilot, lambda: bool(semaphores.row_count), "the semaphores")
        assert [semaphores.row_text(str(n))[0] for n in range(3)] == [
            "0 mutex", "1 empty slots", "2 full slots",
        ]  # fmt: skip
