"""Every key is reachable from the command palette, on a fixed snapshot."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fake_source import FixedSource

from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences


def test_the_palette_lists_the_keys_and_runs_them(tmp_path: Path) -> None:
    async def main() -> None:
        app = ShmtopApp(
            FixedSource(), preferences=Preferences(interval=10.0), show_clock=False,
            preferences_path=tmp_path / "prefs.json",
        )  # fmt: skip
        async with app.run_test(size=(120, 40)) as pilot:
            while app.polls < 1:
                await pilot.pause(0.05)
            titles = {command.title for command in app.get_system_commands(app.screen)}
            assert {"Remove", "Waiters", "Filter", "Pause", "Faster", "Help", "Quit"} <= titles
            assert not app.paused
            await pilot.press("ctrl+p")
            await pilot.pause(0.3)
            for key in "Pause":
                await pilot.press(key)
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert app.paused, "the palette ran the Pause command"

    asyncio.run(main())
