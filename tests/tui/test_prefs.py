"""Preferences through the app: the remembered sort is applied and kept, a bad file gives one
warning, an unknown theme is refused before the TUI starts (on a file alone:
tests/unit/test_prefs_file.py)."""

from __future__ import annotations

import contextlib
import inspect
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from helpers import MakeShm
from textual.notifications import SeverityLevel
from textual.pilot import Pilot
from tui_pilot import PATIENCE, wait_for

from shmtop.core.model import Kind
from shmtop.core.snapshot.collect import Collector
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences

REMEMBERED = {"theme": "textual-light", "interval": 2.0,
              "sort": {"shm": ["size", True], "sem": ["nsems", False]}}  # fmt: skip


class NotingApp(ShmtopApp):
    """The app, noting every notification it shows (to count the warnings)."""

    # A relative CSS_PATH is found next to the module of the class: keep the app's own file.
    CSS_PATH = str(Path(inspect.getfile(ShmtopApp)).parent / str(ShmtopApp.CSS_PATH))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[tuple[str, SeverityLevel]] = []

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.notes.append((message, kwargs.get("severity", "information")))
        super().notify(message, *args, **kwargs)


@contextlib.asynccontextmanager
async def started_with(path: Path) -> AsyncIterator[tuple[NotingApp, Pilot[None]]]:
    """The app on a real Collector with the preferences of this file, after its first refresh."""
    collector = Collector()
    app = NotingApp(
        collector, preferences=Preferences.load(path), preferences_path=path, show_clock=False
    )
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
            yield app, pilot
    finally:
        collector.close()


@pytest.mark.asyncio
async def test_the_remembered_sort_is_applied_at_start_and_kept_by_the_next_save(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    path = tmp_path / "preferences.json"
    path.write_text(json.dumps(REMEMBERED), encoding="utf-8")
    sizes = {make_shm(size): size for size in (4096, 3 * 4096, 2 * 4096)}

    async with started_with(path) as (app, pilot):
        tables = {t.kind: t for t in app.main_screen.tables()}
        shm = tables[Kind.SHM]
        assert (shm.sort_key, shm.sort_reverse) == ("size", True)
        assert (tables[Kind.SEM].sort_key, tables[Kind.SEM].sort_reverse) == ("nsems", False)
        assert (tables[Kind.MSG].sort_key, tables[Kind.MSG].sort_reverse) == ("id", False)
        await wait_for(pilot, lambda: set(sizes) <= set(shm.objects), "the segments shown")
        ours = [i for i in shm.ordered_ids if i in sizes]
        assert [sizes[i] for i in ours] == sorted(sizes.values(), reverse=True)
        assert app.theme == "textual-light" and app.interval == 2.0
        await pilot.press("plus")  # a change of something else saves everything
        await wait_for(pilot, lambda: app.interval == 1.0, "the faster refresh")
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["sort"]["shm"] == ["size", True]
    assert saved["sort"]["sem"] == ["nsems", False]
    assert saved["interval"] == 1.0 and saved["theme"] == "textual-light"


@pytest.mark.asyncio
async def test_a_sort_changed_in_the_view_is_what_the_next_start_applies(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    path = tmp_path / "preferences.json"
    make_shm()

    async with started_with(path) as (_app, pilot):
        await pilot.press("greater_than_sign", "i")  # next column (key), inverted
    assert json.loads(path.read_text(encoding="utf-8"))["sort"]["shm"] == ["key", True]

    async with started_with(path) as (app, _pilot):
        table = app.main_screen.table
        assert (table.sort_key, table.sort_reverse) == ("key", True)


@pytest.mark.asyncio
async def test_a_deeply_nested_file_gives_the_defaults_and_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    prefs = Preferences.load(path)
    assert prefs == Preferences()
    assert prefs.problem is not None and "nested too deep" in prefs.problem

    async with started_with(path) as (app, _pilot):
        warnings = [n for n, severity in app.notes if severity == "warning"]
        assert warnings == [prefs.problem]


def run_shmtop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shmtop", *args], capture_output=True, text=True,
        timeout=PATIENCE, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


def test_an_unknown_theme_is_refused_with_the_list_of_themes() -> None:
    for args in (("--theme", "nosuch"), ("demo", "--theme", "nosuch")):
        done = run_shmtop(*args)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert "nosuch" in lines[0] and "textual-dark" in lines[0] and "textual-light" in lines[0]
        assert "demo:" not in done.stderr  # refused before the demo made anything
