"""`shmtop replay` headless (Pilot) on a recording with its POSIX half: the POSIX tabs show
the recorded objects at the cursor; a file without the POSIX half says so on them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pshm_kids import NamedSemaphores, objects
from textual.widgets import Static
from tui_pilot import wait_for

from shmtop.core.posix.full import FullCollector
from shmtop.core.recording.posix_changes import PosixRecord
from shmtop.core.recording.reader import NO_POSIX, Recording
from shmtop.core.recording.writer import RecordingWriter
from shmtop.tui.prefs import Preferences
from shmtop.tui.replay_app import ReplayApp
from shmtop.tui.widgets.detail import DetailPane
from shmtop.tui.widgets.posix_table import PosixTable

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")


def names(app: ReplayApp, tab: str) -> dict[str, Any]:
    table = app.main_screen.query_one(f"#table-{tab}", PosixTable)
    rows: list[Any] = list(table.objects.values())
    return {row.obj.name: row.obj for row in rows}


def status(app: ReplayApp) -> str:
    return str(app.main_screen.query_one("#status", Static).render())


@pytest.mark.asyncio
async def test_replay_shows_the_recorded_posix_objects_at_the_cursor(tmp_path: Path) -> None:
    path = tmp_path / "posix.rec"
    sem_name = f"/shmtop-replay-sem-{os.getpid()}"
    with objects() as made, FullCollector() as full:
        name = made.make()
        sem = NamedSemaphores().open(sem_name, 1)
        try:
            with RecordingWriter(path, interval=1.0, posix=True) as writer:
                for step in range(3):
                    if step == 1:
                        sem.post()
                    if step == 2:
                        os.unlink("/dev/shm" + name)
                    snap = full.snapshot()
                    writer.add(snap.sysv, PosixRecord(snap.posix, snap.queues))
        finally:
            sem.close()
            os.unlink(f"/dev/shm/sem.{sem_name[1:]}")
    app = ReplayApp(Recording.open(path), preferences=Preferences(),
                    preferences_path=tmp_path / "prefs.json")  # fmt: skip
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, "frame 1")
        await pilot.press("4")
        await wait_for(pilot, lambda: name in names(app, "pshm"), "the object in pshm")
        assert names(app, "pshm")[name].linked
        await pilot.press("5")
        await wait_for(pilot, lambda: sem_name in names(app, "psem"), "the semaphore")
        assert names(app, "psem")[sem_name].semaphore.value == 1
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: names(app, "psem")[sem_name].semaphore.value == 2,
                       "posted, in frame 2")  # fmt: skip
        await pilot.press("right_square_bracket", "4")
        await wait_for(pilot, lambda: name not in names(app, "pshm"), "unlinked, in frame 3")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_for(pilot, lambda: name in names(app, "pshm"), "back at frame 1")
        await pilot.press("enter")  # contents are not recorded: said, nothing opened
        await wait_for(pilot, lambda: "no POSIX object contents" in status(app), "the note")


@pytest.mark.asyncio
async def test_a_recording_without_the_posix_half_says_so_on_its_tabs(tmp_path: Path) -> None:
    path = tmp_path / "sysv.rec"
    with FullCollector() as full, RecordingWriter(path, interval=1.0) as writer:
        writer.add(full.snapshot().sysv)
    app = ReplayApp(Recording.open(path), preferences=Preferences(),
                    preferences_path=tmp_path / "prefs.json")  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, "frame 1")
        await pilot.press("4")
        pane = app.main_screen.query_one(DetailPane)
        await wait_for(pilot, lambda: NO_POSIX in str(pane.render()) or NO_POSIX in
                       " ".join(str(w.render()) for w in pane.query(Static)),
                       "why the tab is empty")  # fmt: skip
