"""The demo's guide fits 80x24 (Pilot): no line of it out of view, none scrolled to.

Its lines are a real demo's: `Demo().describe()` run in an IPC namespace of its own (as
`shmtop demo` runs, so its ids are as small as there), with the POSIX objects' notes
(the demo makes those only in a private /dev/shm)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_source import FixedSource, FixedWaiters, fixed_peek
from textual.containers import VerticalScroll
from textual.widgets import Static
from tui_pilot import wait_for

from shmtop.demo import posix_objects
from shmtop.demo.posix_objects import NOTES, PosixDemoObject, PosixRole, PosixWhat
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.screens.demo_guide import DemoGuide, guide_lines

DESCRIBE = """
import json
from shmtop.demo.workload import Demo
with Demo(handle_signals=False) as demo:
    print(json.dumps(demo.describe(processes=False)))
"""
POSIX: tuple[tuple[PosixWhat, str, PosixRole], ...] = (
    ("pshm", posix_objects.PRICES, "pshm-ring"), ("pshm", posix_objects.SCRATCH, "pshm-leak"),
    ("psem", posix_objects.GATE, "psem-gate"), ("pmq", posix_objects.JOBS, "pmq-jobs"),
)  # fmt: skip


def demo_lines() -> list[str]:
    """What a demo in its own IPC namespace says of its System V objects, and its POSIX ones."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs unshare(1)")
    run = subprocess.run([unshare, "--ipc", sys.executable, "-c", DESCRIBE], capture_output=True,
                         text=True, timeout=120, check=True)  # fmt: skip
    described: list[str] = json.loads(run.stdout.splitlines()[-1])
    return described + [PosixDemoObject(w, n, r, NOTES[r]).described() for w, n, r in POSIX]


@pytest.mark.asyncio
async def test_the_guide_fits_80x24_with_every_line(tmp_path: Path) -> None:
    lines = guide_lines(demo_lines(), posix=True)
    app = ShmtopApp(
        FixedSource(), preferences=Preferences(interval=10.0), show_clock=False,
        preferences_path=tmp_path / "prefs.json", waiter_source=FixedWaiters(),
        peeker=fixed_peek, guide=lines,
    )  # fmt: skip
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DemoGuide), "the guide")
        await pilot.pause()
        box = app.screen.query_one(VerticalScroll)
        assert box.max_scroll_y == 0, f"{box.max_scroll_y} rows out of view"
        shown = " ".join(str(app.screen.query_one("#guide-text", Static).render()).split())
        for line in lines:
            assert " ".join(line.split()) in shown
        assert len(lines) == 11  # 6 System V objects, 4 POSIX ones, what to try
