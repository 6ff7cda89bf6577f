"""Search and filter like htop (issue 13, item 3), on real segments: n/F3/N with wrapping,
the match marked, unknown terms refused, comparisons, tag every row shown, empty results."""

from __future__ import annotations

from pathlib import Path

import helpers
import pytest
from helpers import MakeShm, Spawn
from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_pilot import app_running, wait_armed, wait_for

from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.widgets.ipc_table import IpcTable


def segment_table(app: ShmtopApp) -> IpcTable:
    return app.main_screen.query_one("#table-shm", IpcTable)


def status(app: ShmtopApp) -> str:
    return str(app.main_screen.query_one("#status", Static).content)


async def type_query(app: ShmtopApp, pilot: Pilot[None], opener: str, text: str) -> Input:
    """Open the search (slash) or filter (backslash) box and type text into it."""
    await pilot.press(opener)
    box = app.main_screen.query_one("#query", Input)
    box.value = text
    await pilot.pause()
    return box


def marked_text(table: IpcTable, ident: int) -> str:
    """The text of a row drawn in the search's match style (the row must be on screen)."""
    y = table.ordered_ids.index(ident) + 1 - int(table.scroll_offset.y)
    match = table.get_component_rich_style("ipc-table--match").bgcolor
    return "".join(s.text for s in table.render_line(y) if s.style and s.style.bgcolor == match)


@pytest.mark.asyncio
async def test_search_next_previous_and_wrap_in_a_table(tmp_path: Path, make_shm: MakeShm) -> None:
    made = {make_shm(mode=0o604) for _ in range(3)}
    other = make_shm()
    async with app_running(tmp_path) as (app, pilot):
        table = segment_table(app)
        await wait_for(pilot, lambda: made | {other} <= set(table.objects), "listed")
        first, second, third = [i for i in table.ordered_ids if i in made]
        await pilot.press("home")
        await type_query(app, pilot, "slash", "perms:604")
        await pilot.press("enter")
        assert table.selected_id == first
        assert "search 'perms:604' (n next, N previous)" in status(app)
        await pilot.press("n")
        assert table.selected_id == second
        await pilot.press("f3")
        assert table.selected_id == third and "wrapped" not in status(app)
        await pilot.press("n")
        assert table.selected_id == first
        assert "search wrapped to the top" in status(app)
        await pilot.press("N")
        assert table.selected_id == third
        assert "search wrapped to the bottom" in status(app)
        await pilot.press("N")
        assert table.selected_id == second
        await pilot.press("escape")  # ends the search: no reminder, no marks, n says so
        assert "search '" not in status(app)
        await pilot.press("n")
        assert table.selected_id == second and "nothing searched yet" in status(app)


@pytest.mark.asyncio
async def test_the_whole_match_is_marked_in_the_row(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm()
    child = spawn(name="[b]marked", attach=[(shmid, False)])
    async with app_running(tmp_path) as (app, pilot):
        table = segment_table(app)
        await wait_for(
            pilot,
            lambda: child.pid in getattr(table.objects.get(shmid), "attached_pids", ()),
            "the segment and its attacher are listed",
        )
        await type_query(app, pilot, "slash", "[B]MARK")
        await pilot.press("enter")
        assert table.selected_id == shmid
        # The markup-like name is drawn as typed, the match whole and case folded.
        assert "[b]marked" in table.row_text(shmid)
        assert marked_text(table, shmid) == "[b]mark"
        await type_query(app, pilot, "slash", str(shmid))
        await pilot.press("enter")
        assert str(shmid) in marked_text(table, shmid)


@pytest.mark.asyncio
async def test_an_unknown_filter_term_is_refused_with_the_valid_ones(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    shmid = make_shm()
    async with app_running(tmp_path) as (app, pilot):
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "listed")
        box = await type_query(app, pilot, "backslash", "foo:bar")
        line = status(app)
        assert "unknown term foo: (fields: user: key: id: nattch: size: age:" in line
        assert "\n" not in line
        assert not table.filter.active and shmid in table.objects, "the rows stay"
        await pilot.press("enter")
        assert box.has_class("-open"), "Enter keeps the box open on a refused term"
        box.value = f"id:{shmid}"
        await pilot.pause()
        await pilot.press("enter")
        assert not box.has_class("-open") and set(table.objects) == {shmid}
        assert f"filter: id:{shmid}" in status(app)


@pytest.mark.asyncio
async def test_comparisons_in_the_filter(tmp_path: Path, make_shm: MakeShm, spawn: Spawn) -> None:
    small, large = make_shm(4096), make_shm(2 << 20)
    used = make_shm(8192, mode=0o640)
    spawn(name="cmp-kid", attach=[(used, False)])
    async with app_running(tmp_path) as (app, pilot):
        table = segment_table(app)
        await wait_for(pilot, lambda: table.objects.get(used, None) is not None, "listed")
        await wait_for(pilot, lambda: getattr(table.objects[used], "nattch", 0) > 0, "attached")
        mine = {small, large, used}
        for expression, kept in [
            ("size:>1M", {large}),
            ("size:<=8k", {small, used}),
            ("nattch:>0", {used}),
            ("nattch:=0 size:<1M", {small}),
            ("perms:0640", {used}),
            ("perms:600", {small, large}),
        ]:
            await type_query(app, pilot, "backslash", expression)
            await pilot.press("enter")
            assert set(table.objects) & mine == kept, expression


@pytest.mark.asyncio
async def test_tag_every_row_the_filter_shows_then_remove_them(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    made = {make_shm(mode=0o604) for _ in range(3)}
    keep = make_shm()
    async with app_running(tmp_path) as (app, pilot):
        table = segment_table(app)
        await wait_for(pilot, lambda: made | {keep} <= set(table.objects), "listed")
        await type_query(app, pilot, "backslash", "perms:604")
        await pilot.press("enter")
        await pilot.press("T")
        assert table.tagged == made
        assert "3 tagged" in status(app)
        await pilot.press("d")
        question = await wait_armed(app, pilot, ConfirmScreen)
        assert isinstance(question, ConfirmScreen)
        assert question.question.startswith("Remove 3 segments?")
        listed = [line for line in question.plan if line.startswith("shm ")]
        assert sorted(int(line.split()[1]) for line in listed) == sorted(made)
        await pilot.press("y")
        await wait_for(
            pilot, lambda: not made & set(helpers.live_rows("shm")), "the kernel removed them"
        )
        await wait_for(pilot, lambda: not made & set(table.objects), "their rows went")
        assert keep in helpers.live_rows("shm")


@pytest.mark.asyncio
async def test_an_empty_result_says_so_and_how_to_clear_it(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    shmid = make_shm()
    async with app_running(tmp_path) as (app, pilot):
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "listed")
        assert table.empty_text() is None
        await type_query(app, pilot, "backslash", "perms:777")
        await pilot.press("enter")
        assert not table.objects
        note = "no segment matches the filter 'perms:777': \\ then Esc clears it"
        assert table.empty_text() == note
        assert table.render_line(1).text.strip() == note
        await pilot.press("space")
        assert "the filter hides every object" in status(app)
        await pilot.press("backslash", "escape")
        await wait_for(pilot, lambda: shmid in table.objects, "the rows are back")
        assert table.empty_text() is None
