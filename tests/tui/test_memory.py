"""The view lets go of what it no longer shows: footer keys of past screens, styles caches.

Counts of live objects after a forced collection, not timings or RSS (those are the
benchmark's: bench/bench_memory.py).
"""

from __future__ import annotations

import gc
from pathlib import Path

from helpers import MakeShm
from textual.pilot import Pilot
from tui_pilot import next_polls, run_app, wait_for

from shmtop.tui import textual_leaks
from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.widgets.footer import KeyFooter

CYCLES = 6


def alive(name: str) -> list[object]:
    gc.collect()
    return [o for o in gc.get_objects() if type(o).__name__ == name]


def test_the_styles_cache_work_around_still_finds_its_target() -> None:
    assert textual_leaks.available()  # a Textual that moved it: see shmtop/tui/textual_leaks.py


def test_opening_and_closing_views_leaves_no_footer_keys_or_styles_caches_behind(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    make_shm()

    async def cycle(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the view")
        await next_polls(app, pilot, 1)  # the view lives through a refresh
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SegmentViewScreen), "closed")
        await next_polls(app, pilot, 1)

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        # The footer's prune found Textual's watchers (else it falls back to mutate_reactive).
        assert textual_leaks.forget_closed_watchers(app.screen.query_one(KeyFooter), "compact")
        for _ in range(2):  # the footer's keys: shown, and those of the recompose before
            await cycle(app, pilot)
        caches_before = len(alive("StylesCache"))
        for _ in range(CYCLES):
            await cycle(app, pilot)

        keys = alive("FooterKey")
        shown = [k for k in keys if getattr(k, "is_attached", False)]
        # At most the keys of the one recompose before the last stay (pruned at the next).
        assert len(keys) - len(shown) <= 2 * len(shown), (len(keys), len(shown))
        # Textual's lru_cache kept about 60 a cycle (each with the lines its widget drew);
        # now at most the keys of one past recompose are extra (pruned at the next).
        assert len(alive("StylesCache")) <= caches_before + 2 * len(shown) + 10

    run_app(tmp_path, scenario)
