"""Every key is reachable from the command palette, on a fixed snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_source import FixedSource
from textual.command import CommandList, CommandPalette
from tui_pilot import app_running, wait_for

from shmtop.tui.app import ShmtopApp


def highlighted_command(app: ShmtopApp) -> str | None:
    """The text of the palette's highlighted hit (None: no palette, no hit highlighted)."""
    if not isinstance(app.screen, CommandPalette):
        return None
    hits = app.screen.query_one(CommandList)
    if hits.highlighted is None:
        return None
    prompt = hits.get_option_at_index(hits.highlighted).prompt
    return str(getattr(prompt, "plain", prompt))


@pytest.mark.asyncio
async def test_the_palette_lists_the_keys_and_runs_them(tmp_path: Path) -> None:
    async with app_running(tmp_path, source=FixedSource(), interval=10.0) as (app, pilot):
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Remove", "Waiters", "Filter", "Pause", "Faster", "Help", "Quit"} <= titles
        assert not app.paused
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"Pause")
        await wait_for(
            pilot, lambda: (highlighted_command(app) or "").startswith("Pause"), "Pause as a hit"
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.paused, "the palette ran the Pause command")
        assert not isinstance(app.screen, CommandPalette)
