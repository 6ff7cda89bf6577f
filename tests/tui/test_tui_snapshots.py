"""SVG snapshots of the main screen on a fixed snapshot, at two terminal sizes, in colour
and with NO_COLOR (Textual's monochrome filter then runs over every line drawn); the help
and the hex view (on fixed bytes) at the same two sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_source import FIXED_SHMID, FixedReader, FixedSource, FixedWaiters, fixed_peek
from textual.pilot import Pilot
from tui_pilot import open_with_waiters, show_tab, tables_filled, wait_for

from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.screens import segment_view
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.help import HelpScreen
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.viewer_app import ViewerApp

pytestmark = pytest.mark.usefixtures("utc")


def fixed_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, no_color: bool = False
              ) -> ShmtopApp:  # fmt: skip
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made, as `shmtop` does
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    return ShmtopApp(
        FixedSource(), preferences=Preferences(interval=10.0),
        preferences_path=tmp_path / "prefs.json", show_clock=False,
        waiter_source=FixedWaiters(), peeker=fixed_peek,
    )  # fmt: skip


SIZES = [(80, 24), (160, 45)]  # at 80x24 the STATUS column shows


@pytest.mark.parametrize("size", SIZES)
def test_main_screen(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    app = fixed_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=size, run_before=lambda pilot: tables_filled(app, pilot))


@pytest.mark.parametrize("size", SIZES)
def test_main_screen_no_color(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    app = fixed_app(tmp_path, monkeypatch, no_color=True)
    assert snap_compare(app, terminal_size=size, run_before=lambda pilot: tables_filled(app, pilot))


@pytest.mark.parametrize("size", SIZES)
def test_help(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    app = fixed_app(tmp_path, monkeypatch)

    async def run_before(pilot: Pilot[None]) -> None:
        await tables_filled(app, pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def fixed_stat() -> native.ShmStat:
    return native.ShmStat(FIXED_SHMID, 0x5EED, 0, 0, 0, 0, 0o640, FixedReader().size,
                          0, 0, 0, 4200, 4200, 2)  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
def test_hex_view(
    snap_compare: Any, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """16 bytes a row at 80 columns, and 16 next to the inspector at 160."""
    monkeypatch.setattr(native, "shm_stat", lambda shmid: fixed_stat())
    monkeypatch.setattr(segment_view, "attachers_line", lambda shmid: "4200 (writer) rw")
    monkeypatch.setattr(segment_view, "user_name", lambda uid: "root")
    reader: Any = FixedReader()
    app = ViewerApp(FIXED_SHMID, reader=reader, poll_interval=3600, sweep=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the view")
        view = app.screen
        assert isinstance(view, SegmentViewScreen)
        line = view.query_one("#read-path")
        await wait_for(pilot, lambda: "4200 (writer)" in str(line.render()), "the attachers")
        await pilot.press("down", "right")  # the cursor on 0x11 (the inspector reads it)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_semaphores_tab(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = fixed_app(tmp_path, monkeypatch)

    async def run_before(pilot: Pilot[None]) -> None:
        await tables_filled(app, pilot)
        await show_tab(app, pilot, "2", Kind.SEM)

    assert snap_compare(app, terminal_size=(120, 32), run_before=run_before)


def test_set_view_no_color(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fixed_app(tmp_path, monkeypatch, no_color=True)

    async def run_before(pilot: Pilot[None]) -> None:
        await open_with_waiters(app, pilot, "2", 65536, (4301,))  # the first set of its tab

    assert snap_compare(app, terminal_size=(130, 32), run_before=run_before)


async def ask_removal(pilot: Pilot[Any], *, armed: bool) -> None:
    """The question about segment 32769 (two attachers, one with an escape in its name)."""
    app = pilot.app
    assert isinstance(app, ShmtopApp)
    await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
    table = app.main_screen.table
    await wait_for(pilot, lambda: 32769 in table.objects, "the fixed snapshot is shown")
    assert table.move_to(32769)
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    if armed:
        await wait_for(pilot, lambda: screen.armed, "the question takes answers")
    await pilot.pause()


def test_confirm_removal(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ask_removal(pilot, armed=True)

    app = fixed_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(120, 32), run_before=run_before)


def test_confirm_removal_while_arming(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Yes is greyed out and the dialog says keys are ignored for now."""
    monkeypatch.setattr(ConfirmScreen, "arm_delay", 3600.0)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ask_removal(pilot, armed=False)

    app = fixed_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(120, 32), run_before=run_before)
