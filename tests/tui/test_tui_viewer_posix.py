"""What `shmtop view --name NAME` runs: the viewer app on a POSIX object's hex view (read
with pread, never mapped), showing the bytes written into the object, live."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static
from tui_pilot import wait_for

from shmtop.cli.posix import Scope, named
from shmtop.core.binding import native
from shmtop.tui.screens.posix_view import PosixObjectScreen
from shmtop.tui.viewer_app import ViewerApp
from shmtop.tui.widgets.hex_view import HexView

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root"),
]
NAME = f"/shmtop-viewer-posix-{os.getpid()}"


@pytest.fixture
def posix_object() -> Iterator[int]:
    fd = native.shm_open(NAME, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.ftruncate(fd, 4096)
    os.pwrite(fd, b"first words", 0)
    yield fd
    os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        native.shm_unlink(NAME)


async def test_the_viewer_shows_a_posix_objects_bytes_and_follows_them(
    tmp_path: Path, posix_object: int
) -> None:
    scope = Scope.here()
    [obj] = named(scope.shown, NAME)
    app = ViewerApp.of(PosixObjectScreen(scope.reach(obj), scope.acting))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PosixObjectScreen), "the view")
        hex_view = app.screen.query_one(HexView)

        def first_row() -> str:
            return hex_view.render_line(0).text if hex_view.size.height else ""

        await wait_for(pilot, lambda: "first words" in first_row(), "the bytes")
        assert NAME in str(app.screen.query_one("#summary", Static).content)
        os.pwrite(posix_object, b"later words", 0)
        await wait_for(pilot, lambda: "later words" in first_row(), "the new bytes")
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, "the viewer ends with its view")
