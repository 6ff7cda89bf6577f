"""The POSIX hex view marks the futex word threads are blocked on, as the segment view does:
a real child blocked in sem_wait on a named semaphore (glibc's value word, offset 0)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from futex_kids import Child, start
from tui_pilot import app_running, text_of, wait_for

from shmtop.tui.posix_source import PosixSource
from shmtop.tui.screens.posix_view import PosixObjectScreen
from shmtop.tui.widgets.hex_view import HexView
from shmtop.tui.widgets.posix_table import PosixTable

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root"),
]


async def test_the_hex_view_marks_the_word_a_sem_wait_sleeps_on(
    tmp_path: Path, child_program: Path, kids: list[Child], sem_name: str
) -> None:
    waiter = start(kids, child_program, "semwait", sem_name)
    assert waiter.line()[0] == "ready"
    source = PosixSource()
    try:
        async with app_running(tmp_path, posix=source, size=(160, 45)) as (app, pilot):
            await pilot.press("5")  # the named semaphores' tab
            table = app.screen.query_one("#table-psem", PosixTable)

            def row() -> Any:
                rows: list[Any] = list(table.objects.values())
                return next((r for r in rows if getattr(r, "obj", None) and r.obj.name == sem_name),
                            None)  # fmt: skip

            await wait_for(pilot, lambda: row() is not None, f"{sem_name} is listed")
            assert table.move_to(row().id)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, PosixObjectScreen), "the view")
            view = app.screen
            assert isinstance(view, PosixObjectScreen)
            hex_view = view.query_one("#hex", HexView)
            word = frozenset(range(4))  # sem_t's value, the futex word of sem_wait
            await wait_for(pilot, lambda: hex_view.waited == word, "the word is marked")
            assert "blocked on +0x0 (1 thread)" in text_of(app, "#summary")
            waiter.stop()  # killed: nobody sleeps on the word any more
            await wait_for(pilot, lambda: not hex_view.waited, "the mark goes")
            assert "blocked on" not in text_of(app, "#summary")
    finally:
        source.close()
