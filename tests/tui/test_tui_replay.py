"""`shmtop replay` headless (Pilot): a recording of real objects, stepped through by key."""

from __future__ import annotations

from pathlib import Path

import helpers
import pytest
from helpers import MakeSem, MakeShm, Spawn
from textual.widgets import Input, Static
from tui_pilot import open_object, text_of, wait_for

from shmtop.core.model import Snapshot
from shmtop.core.recording.reader import Recording
from shmtop.core.recording.writer import RecordingWriter
from shmtop.core.snapshot.collect import Collector
from shmtop.text.units import clock
from shmtop.tui.prefs import Preferences
from shmtop.tui.refusals import replay_refusal
from shmtop.tui.replay_app import NOT_RECORDED, ReplayApp, ReplaySemaphoreSetScreen
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.widgets.ipc_table import IpcTable


def status(app: ReplayApp) -> str:
    return str(app.main_screen.query_one("#status", Static).render())


def shown_ids(app: ReplayApp) -> set[int]:
    return set(app.main_screen.query_one("#table-shm", IpcTable).objects)


def recorded(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> tuple[Path, list[Snapshot], int, int]:
    """Three snapshots: one segment; a second one, attached; the first removed."""
    collector = Collector()
    try:
        first = make_shm()
        taken = [collector.snapshot()]
        second = make_shm()
        child = spawn(name="replay-kid", attach=[(second, True)])
        taken.append(collector.snapshot())
        helpers.remove("shm", first)
        taken.append(collector.snapshot())
        child.stop()
    finally:
        collector.close()
    path = tmp_path / "three.rec"
    with RecordingWriter(path, interval=1.0, keyframe_every=2) as writer:
        for snapshot in taken:
            writer.add(snapshot)
    return path, taken, first, second


@pytest.mark.asyncio
async def test_replay_shows_the_recording_and_steps_through_it(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    path, taken, first, second = recorded(tmp_path, make_shm, spawn)
    app = ReplayApp(Recording.open(path), preferences=Preferences(),
                    preferences_path=tmp_path / "prefs.json")  # fmt: skip
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1 and first in shown_ids(app), "frame 1")
        assert second not in shown_ids(app)
        await wait_for(pilot, lambda: "RECORDING three.rec" in status(app), "the indicator")
        assert clock(taken[0].taken_at) in status(app) and "snapshot 1/3" in status(app)
        assert "RECORDING" in app.sub_title and "not live" in app.sub_title

        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: shown_ids(app) >= {first, second}, "frame 2")
        await wait_for(pilot, lambda: "snapshot 2/3" in status(app), "its status")
        assert clock(taken[1].taken_at) in status(app)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: first not in shown_ids(app), "frame 3: the first gone")
        assert second in shown_ids(app)  # removed from the kernel since, shown as recorded
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: first in shown_ids(app), "back to frame 2")
        assert app.snapshot == taken[1]

        # Removal refuses, in the status line, and asks nothing.
        app.main_screen.query_one("#table-shm", IpcTable).move_to(first)
        await pilot.press("d")
        await wait_for(pilot, lambda: "nothing can be removed" in status(app), "the refusal")
        assert "a recording" in status(app)
        assert not isinstance(app.screen, ConfirmScreen)

        # g jumps to a moment in --at's words.
        await pilot.press("g")
        await wait_for(pilot, lambda: bool(app.screen.query(Input)), "the jump box")
        app.screen.query_one(Input).value = "start"
        await pilot.press("enter")
        await wait_for(pilot, lambda: second not in shown_ids(app), "back at the start")
        assert app.snapshot == taken[0] and "snapshot 1/3" in status(app)


@pytest.mark.asyncio
async def test_replay_opens_a_recorded_set_and_refuses_what_is_live(
    tmp_path: Path, make_shm: MakeShm, make_sem: MakeSem
) -> None:
    shmid, semid = make_shm(), make_sem(3)
    collector = Collector()
    try:
        taken = collector.snapshot()
    finally:
        collector.close()
    path = tmp_path / "one.rec"
    with RecordingWriter(path, interval=1.0) as writer:
        writer.add(taken)
    app = ReplayApp(Recording.open(path), preferences=Preferences(),
                    preferences_path=tmp_path / "prefs.json")  # fmt: skip
    async with app.run_test(size=(160, 48)) as pilot:
        # Enter on a segment: its contents are not recorded, and nothing live is opened.
        await wait_for(pilot, lambda: shmid in shown_ids(app), "the segment")
        assert app.main_screen.table.move_to(shmid)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "no segment contents" in status(app), "the refusal")
        assert app.screen is app.main_screen
        # A set's view opens on the recorded snapshot; its waiters are not recorded.
        await open_object(app, pilot, "2", semid)
        view = app.screen
        assert isinstance(view, ReplaySemaphoreSetScreen) and view.ident == semid
        await wait_for(pilot, lambda: NOT_RECORDED in text_of(app, "#waiter-notes"), "the note")
        assert view.why_not("signal") == replay_refusal("signal")


@pytest.mark.asyncio
async def test_z_plays_the_recording_to_its_end_and_stops(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    path, taken, _, _ = recorded(tmp_path, make_shm, spawn)
    app = ReplayApp(Recording.open(path), preferences=Preferences(interval=0.25),
                    preferences_path=tmp_path / "prefs.json")  # fmt: skip
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, "the first frame")
        assert app.paused and app.cursor.index == 0
        await pilot.press("plus")
        assert app.speed == 2.0
        await pilot.press("z")  # the recording spans less than a tick: one reaches its end
        await wait_for(pilot, lambda: app.paused and app.snapshot == taken[-1], "the end")
        await wait_for(pilot, lambda: "end of the recording" in status(app), "it says so")
        assert "snapshot 3/3" in status(app)


def table_state(app: ReplayApp) -> dict[str, list[tuple[int, str]]]:
    """Every System V table's rows as drawn (plain text), in order."""
    return {
        str(table.kind): [(ident, table.row_text(ident)) for ident in table.ordered_ids]
        for table in app.main_screen.tables()
    }


@pytest.mark.asyncio
async def test_a_step_redraws_the_changed_rows_and_shows_what_a_fresh_open_shows(
    tmp_path: Path, make_shm: MakeShm, make_sem: MakeSem, spawn: Spawn
) -> None:
    still, attached = make_shm(), make_shm()
    make_sem(2)
    collector = Collector()
    try:
        taken = [collector.snapshot()]
        child = spawn(name="step-kid", attach=[(attached, True)])
        taken.append(collector.snapshot())
        child.stop()
    finally:
        collector.close()
    path = tmp_path / "step.rec"
    with RecordingWriter(path, interval=1.0) as writer:
        for snapshot in taken:
            writer.add(snapshot)
    prefs = tmp_path / "prefs.json"
    app = ReplayApp(Recording.open(path), preferences=Preferences(), preferences_path=prefs)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1 and attached in shown_ids(app), "frame 1")
        sets_before = app.main_screen.query_one("#table-sem", IpcTable).snapshot
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: "snapshot 2/2" in status(app), "frame 2")
        segments = app.main_screen.query_one("#table-shm", IpcTable)
        assert {i for i in segments.objects if segments.highlighted(i)} == {attached}
        assert not segments.highlighted(still)
        sets = app.main_screen.query_one("#table-sem", IpcTable)
        assert sets_before is not None and sets.snapshot is not None
        assert sets.snapshot.semaphore_sets is sets_before.semaphore_sets  # untouched kind
        assert not any(sets.highlighted(i) for i in sets.objects)
        stepped = table_state(app)
    fresh = ReplayApp(Recording.open(path), at=taken[1].taken_at, preferences=Preferences(),
                      preferences_path=prefs)  # fmt: skip
    async with fresh.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: fresh.polls >= 1, "the fresh open")
        await wait_for(pilot, lambda: "snapshot 2/2" in status(fresh), "at frame 2")
        assert table_state(fresh) == stepped
    assert any(attached == ident and "step-kid" in text for ident, text in stepped["shm"])
