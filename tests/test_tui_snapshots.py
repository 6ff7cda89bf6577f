"""SVG snapshots of the main screen on a fixed snapshot, at two terminal sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_source import FixedSource

from shmtop.prefs import Preferences
from shmtop.tui.app import ShmtopApp

pytestmark = pytest.mark.usefixtures("utc")


def fixed_app(tmp_path: Path) -> ShmtopApp:
    return ShmtopApp(
        FixedSource(), preferences=Preferences(interval=10.0),
        preferences_path=tmp_path / "prefs.json", show_clock=False,
    )  # fmt: skip


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_main_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(tmp_path), terminal_size=size, press=["wait:400"])


def test_semaphores_tab(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(fixed_app(tmp_path), terminal_size=(120, 32), press=["wait:400", "2"])


def test_confirm_removal(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        fixed_app(tmp_path), terminal_size=(120, 32), press=["wait:400", "down", "d"]
    )
