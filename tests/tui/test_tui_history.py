"""History in the detail pane, the busy mark, and the status words' theme colours (Pilot)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from fake_source import FixedSource
from helpers import MakeMsg, MakeSem
from textual.pilot import Pilot
from textual.theme import Theme
from tui_pilot import app_running, show_tab, tables_filled, wait_for

from shmtop.core.binding import native
from shmtop.core.busy import BUSY_WINDOW
from shmtop.core.model import Kind, MessageQueue
from shmtop.text.sparkline import SPARK_BLOCKS
from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.help import HelpScreen
from shmtop.tui.status_colours import STATUS_COLOURS, variable
from shmtop.tui.widgets.detail import DetailPane
from shmtop.tui.widgets.ipc_table import BUSY_MARK, IpcTable

QUIET = 10.0  # the slowest interval: the test's own refreshes are the ones that count


async def refresh(app: ShmtopApp, pilot: Pilot[None], shown: Callable[[], bool], what: str) -> None:
    """Ask for a refresh now and wait until the tables show what the kernel now holds."""
    seen = app.polls
    app.request_poll()
    await wait_for(pilot, lambda: app.polls > seen and shown(), what)


def holds(get: Callable[[], int], expected: int) -> Callable[[], bool]:
    return lambda: get() == expected


def detail_text(app: ShmtopApp) -> str:
    return str(app.main_screen.query_one(DetailPane).content)


def row_text(table: IpcTable, ident: int) -> str:
    """The row as drawn, mark included."""
    y = 1 + table.ordered_ids.index(ident) - int(table.scroll_offset.y)
    return table.render_line(y).text


@pytest.mark.asyncio
async def test_a_queue_whose_depth_changes_shows_history_points(
    tmp_path: Path, make_msg: MakeMsg
) -> None:
    msqid = make_msg()
    async with app_running(tmp_path, interval=QUIET) as (app, pilot):
        await tables_filled(app, pilot)
        await show_tab(app, pilot, "3", Kind.MSG)
        table = app.main_screen.table
        assert table.move_to(msqid)

        def depth() -> int:
            queue = table.objects[msqid]
            assert isinstance(queue, MessageQueue)
            return queue.qnum

        for count in (1, 2, 3):
            native.msgsnd(msqid, 1, b"x" * 8)
            await refresh(app, pilot, holds(depth, count), f"{count} queued")
        await wait_for(pilot, lambda: "0..3, now 3" in detail_text(app), "the history line")
        page = detail_text(app).splitlines()
        at = next(i for i, line in enumerate(page) if line.startswith("history (last "))
        lines = page[at + 1 :]
        messages = next(line for line in lines if line.lstrip().startswith("messages "))
        spark = messages.split()[1]
        assert set(spark) <= set(SPARK_BLOCKS) and len(set(spark.strip())) >= 2
        assert "0B..24B, now 24B" in next(
            line for line in lines if line.lstrip().startswith("bytes")
        )
        series = app.main_screen.history.series(Kind.MSG, msqid)
        assert series is not None and [v for _, v in series.values(0)] == [0, 1, 2, 3]
    # the store forgets what vanishes: checked headless in tests/unit/test_history_store.py


@pytest.mark.asyncio
async def test_an_object_changed_every_refresh_is_busy_not_highlighted(
    tmp_path: Path, make_sem: MakeSem
) -> None:
    every, once = make_sem(1), make_sem(1)
    async with app_running(tmp_path, interval=QUIET) as (app, pilot):
        await tables_filled(app, pilot)
        await show_tab(app, pilot, "2", Kind.SEM)
        table = app.main_screen.table

        def value(ident: int) -> int:
            semaphores = table.objects[ident].semaphores  # type: ignore[union-attr]
            assert semaphores is not None
            return semaphores[0].value

        for step in range(1, BUSY_WINDOW + 1):
            native.sem_setval(every, 0, step)
            await refresh(app, pilot, holds(partial(value, every), step), f"value {step}")
        assert table.busy(every)
        assert not table.highlighted(every)  # changed at this very refresh, yet not bold
        assert row_text(table, every).startswith(BUSY_MARK)
        assert not table.busy(once) and not row_text(table, once).startswith(BUSY_MARK)
        # A one-off change is highlighted (and the busy one still is not).
        native.sem_setval(once, 0, 7)
        native.sem_setval(every, 0, 99)
        await refresh(app, pilot, lambda: value(once) == 7 and value(every) == 99, "both moved")
        assert table.highlighted(once) and not table.busy(once)
        assert table.busy(every) and not table.highlighted(every)
        # The help says what the mark means.
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        assert isinstance(app.screen, HelpScreen)
        help_text = app.screen.text
        assert "Marks, highlights and history:" in help_text
        assert f"  {BUSY_MARK}" in help_text and "busy: changed in more than half" in help_text


def status_colours(app: ShmtopApp) -> dict[str, object]:
    table = app.main_screen.table
    return {
        word: table.get_component_rich_style(f"ipc-table--{variable(word)}").color
        for word in STATUS_COLOURS
    }


@pytest.mark.asyncio
async def test_theme_switch_keeps_status_colours_distinct(tmp_path: Path) -> None:
    async with app_running(tmp_path, source=FixedSource(), interval=QUIET) as (app, pilot):
        await tables_filled(app, pilot)
        table = app.main_screen.table
        for theme in sorted(app.available_themes):
            app.theme = theme
            await pilot.pause()
            colours = status_colours(app)
            assert None not in colours.values(), theme
            assert len(set(colours.values())) == len(colours), (theme, colours)
            assert table.rich_style.color not in colours.values(), theme
        # The dest row (segment 32770 of the fixed snapshot) draws the word in its colour.
        app.theme = "textual-dark"
        await pilot.pause()
        y = 1 + table.ordered_ids.index(32770)
        dest = [s for s in table.render_line(y) if s.text == "dest"]
        assert dest and dest[0].style is not None
        assert dest[0].style.color == status_colours(app)["dest"]
        # A theme may set the variable itself: the colour comes from it.
        app.register_theme(Theme("status-test", primary="#0178D4",
                                 variables={variable("dest"): "#123456"}))  # fmt: skip
        app.theme = "status-test"
        await pilot.pause()
        colour = status_colours(app)["dest"]
        assert colour is not None and colour.triplet is not None  # type: ignore[attr-defined]
        assert colour.triplet.hex == "#123456"  # type: ignore[attr-defined]
