"""SVG snapshots of the POSIX tabs on fixed scans (tests/fake_posix.py): at 80x24 the
NAME, OWNER, size, use and STATUS columns show; the unlinked object's leak is flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_posix import FixedPosix
from fake_source import FixedSource, FixedWaiters, fixed_peek
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey
from tui_pilot import tables_filled, wait_for

from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.widgets.posix_table import PosixTable

pytestmark = pytest.mark.usefixtures("utc")

SIZES = [(80, 24), (160, 45)]


def posix_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ShmtopApp:
    monkeypatch.delenv("NO_COLOR", raising=False)
    return ShmtopApp(
        FixedSource(), preferences=Preferences(interval=10.0),
        preferences_path=tmp_path / "prefs.json", show_clock=False,
        waiter_source=FixedWaiters(), peeker=fixed_peek, posix_source=FixedPosix(),
    )  # fmt: skip


async def posix_tab(app: ShmtopApp, pilot: Pilot[None], key: str, tab: str, rows: int) -> None:
    await tables_filled(app, pilot)
    polls = app.polls
    await pilot.press(key)
    # Showing a POSIX tab polls at once: wait for that refresh (the meters' history grows).
    await wait_for(pilot, lambda: app.polls > polls, "the refresh the tab asked for")
    table = app.screen.query_one(f"#table-{tab}", PosixTable)
    await wait_for(pilot, lambda: len(table.objects) == rows, f"the {tab} rows")
    # F2 applies to a POSIX tab too: the footer shows its key, not dimmed.
    await wait_for(pilot, lambda: columns_key_shown(app), "the footer's F2")


def columns_key_shown(app: ShmtopApp) -> bool:
    keys = [key for key in app.screen.query(FooterKey) if key.action == "choose_columns"]
    return bool(keys) and not any(key.has_class("-disabled") for key in keys)


@pytest.mark.parametrize("size", SIZES)
def test_posix_shm_tab(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    app = posix_app(tmp_path, monkeypatch)

    async def run_before(pilot: Pilot[None]) -> None:
        await posix_tab(app, pilot, "4", "pshm", 4)
        await pilot.press("end")  # the unlinked object: its leak in the detail pane

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_posix_queue_tab(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = posix_app(tmp_path, monkeypatch)

    async def run_before(pilot: Pilot[None]) -> None:
        await posix_tab(app, pilot, "6", "pmq", 1)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
