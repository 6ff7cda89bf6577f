"""The segment's content view marks the futex word a thread is blocked on (a real
process-shared mutex in the segment, held by one child, waited on by another)."""

from __future__ import annotations

from pathlib import Path

from futex_kids import MUTEX_AT, Child, start
from helpers import MakeShm
from textual.pilot import Pilot
from tui_pilot import run_app, text_of, wait_for

from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.segment_view import SegmentViewScreen


def test_the_content_view_marks_the_mutex_word_a_thread_waits_on(
    tmp_path: Path, child_program: Path, kids: list[Child], make_shm: MakeShm
) -> None:
    shmid = make_shm(4096)
    holder = start(kids, child_program, "mutex-hold", str(shmid), str(MUTEX_AT))
    assert holder.line()[0] == "locked"
    waiter = start(kids, child_program, "mutex-wait", str(shmid), str(MUTEX_AT))
    assert waiter.line()[0] == "ready"

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        table = app.main_screen.table
        await wait_for(pilot, lambda: shmid in table.objects, f"shm {shmid} is listed")
        assert table.move_to(shmid)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the view")
        view = app.screen
        assert isinstance(view, SegmentViewScreen)
        word = frozenset(range(MUTEX_AT, MUTEX_AT + 4))
        await wait_for(pilot, lambda: view.hex_view.waited == word, "the word is marked")
        assert f"blocked on +{MUTEX_AT:#x} (1 thread)" in text_of(app, "#summary")
        waiter.stop()  # killed: nobody sleeps on the word any more
        await wait_for(pilot, lambda: not view.hex_view.waited, "the mark goes")
        assert "blocked on" not in text_of(app, "#summary")

    run_app(tmp_path, scenario)
