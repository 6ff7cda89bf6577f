"""The detail pane at 80x24 (Pilot, a real set): a set's history leaves its semaphores out
of view; the top border says how many lines are below, and J/K scroll to them and back;
another object's page starts at its top."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import MakeSem
from tui_pilot import app_running, show_tab, tables_filled, wait_for

from shmtop.core.model import Kind
from shmtop.tui.widgets.detail import SCROLL_KEYS, DetailBox, DetailPane


def in_view(box: DetailBox) -> list[str]:
    """The pane's lines the box shows now."""
    lines = str(box.query_one(DetailPane).content).splitlines()
    top = round(box.scroll_y)
    return lines[top : top + box.content_region.height]


@pytest.mark.asyncio
async def test_j_and_k_scroll_a_sets_page_to_its_semaphores_and_back(
    tmp_path: Path, make_sem: MakeSem
) -> None:
    semid, other = make_sem(3), make_sem(3)
    async with app_running(tmp_path, size=(80, 24)) as (app, pilot):
        await tables_filled(app, pilot)
        await show_tab(app, pilot, "2", Kind.SEM)
        table = app.main_screen.table
        await wait_for(pilot, lambda: semid in table.objects, "the set is listed")
        assert table.move_to(semid)
        box = app.main_screen.query_one(DetailBox)
        pane = box.query_one(DetailPane)
        await wait_for(pilot, lambda: "history (last" in str(pane.content), "its history")
        await wait_for(pilot, lambda: "below" in str(box.border_title or ""), "the hint")
        assert str(box.border_title).endswith(SCROLL_KEYS)
        assert not any(line.lstrip().startswith("NUM") for line in in_view(box))

        for _ in range(10):  # J until the end: the semaphores' table comes into view
            await pilot.press("J")
        await wait_for(pilot, lambda: box.scroll_y == box.max_scroll_y, "scrolled to the end")
        shown = in_view(box)
        assert any(line.lstrip().startswith("NUM") for line in shown)
        assert any(line.split()[:2] == ["2", "0"] for line in shown)  # sem 2, value 0
        assert "above" in str(box.border_title) and "below" not in str(box.border_title)

        for _ in range(10):
            await pilot.press("K")
        await wait_for(pilot, lambda: box.scroll_y == 0, "back at the top")
        assert in_view(box)[0].startswith(f"semaphore set {semid}")

        # Scrolled down, then another set: its page starts at its top.
        await pilot.press("J", "J")
        await wait_for(pilot, lambda: box.scroll_y > 0, "scrolled down")
        await wait_for(pilot, lambda: other in table.objects, "the other set is listed")
        assert table.move_to(other)
        await wait_for(pilot, lambda: f"semaphore set {other}" in str(pane.content), "its page")
        assert box.scroll_y == 0
        assert in_view(box)[0].startswith(f"semaphore set {other}")
