"""Key press latency in the headless app, on a real collector, while it refreshes."""

from __future__ import annotations

import asyncio
import inspect
import random
import signal
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from textual.actions import ActionParseResult
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen

from bench.stats import Measure
from bench.tui_tmux import COLUMNS, FIRST_FRAME_TIMEOUT, ROWS
from shmtop.core.model import Kind
from shmtop.core.snapshot.collect import Collector
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences

KEYS = ("down", "down", "pagedown", "2", "1", ">", "<", "i")
KEY_GAP_SECONDS = 0.1  # up to this much idle time (random, seeded) between two presses


@dataclass
class Keys:
    """Key presses in the headless app while it refreshes."""

    latency: Measure = field(default_factory=lambda: Measure("key press + pause, ms", spread="p95"))
    frame: Measure = field(
        default_factory=lambda: Measure("key to the first frame after its action, ms", spread="p95")
    )
    by_key: dict[str, list[float]] = field(default_factory=dict)  # press + pause, per key
    frame_by_key: dict[str, list[float]] = field(default_factory=dict)
    overlapped: int = 0  # presses during which a snapshot was applied
    effects_seen: int = 0  # presses whose effect (cursor, tab, sort) was seen afterwards
    polls: int = 0  # snapshots applied while the keys were pressed
    seconds: float = 0.0

    def add(self, key: str, latency_ms: float, frame_ms: float | None) -> None:
        self.latency.samples.append(latency_ms)
        self.by_key.setdefault(key, []).append(latency_ms)
        if frame_ms is not None:
            self.frame.samples.append(frame_ms)
            self.frame_by_key.setdefault(key, []).append(frame_ms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency.as_dict(),
            "frame_ms": self.frame.as_dict(),
            "latency_ms_by_key": self.by_key,
            "frame_ms_by_key": self.frame_by_key,
            "presses": len(self.latency.samples),
            "overlapped_a_snapshot": self.overlapped,
            "effects_seen": self.effects_seen,
            "snapshots_during_presses": self.polls,
            "seconds": self.seconds,
        }


class TimedApp(ShmtopApp):
    """ShmtopApp that notes when each action ends and when each frame is composed."""

    # A relative CSS_PATH is found next to the module of the class: keep the app's own file.
    CSS_PATH = str(Path(inspect.getfile(ShmtopApp)).parent / str(ShmtopApp.CSS_PATH))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actions_done: list[float] = []
        self.frames: list[float] = []

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        try:
            return await super().run_action(action, default_namespace, namespaces)
        finally:
            self.actions_done.append(time.perf_counter())

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        # Called with the compositor's update once it is rendered (headless: not written out).
        if renderable is not None:
            self.frames.append(time.perf_counter())
        super()._display(screen, renderable)


def frame_after(app: TimedApp, start: float) -> float | None:
    """When the first frame after the key's action (or after the key) was composed."""
    since = max((t for t in app.actions_done if t >= start), default=start)
    return next((t for t in app.frames if t >= since), None)


async def press_keys(presses: int, seed: int) -> Keys:
    """Press KEYS in turn in the headless app on a real collector, timing each press.

    SIGTERM and SIGHUP cancel the presses, so that Textual shuts the app down in order;
    then they end the run like elsewhere (SystemExit), the workload's teardown included.
    """
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    caught: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP)}

    def stop(signum: int) -> None:
        caught.append(signum)
        task.cancel()

    for signum in previous:
        loop.add_signal_handler(signum, stop, signum)
    keys = Keys()
    collector = Collector()
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as config:
            app = TimedApp(
                collector,
                preferences=Preferences(interval=1.0),
                preferences_path=Path(config) / "preferences.json",
            )
            async with app.run_test(size=(COLUMNS, ROWS)) as pilot:
                await press_in(app, pilot, keys, presses, random.Random(seed))
    except (RuntimeError, OSError) as error:
        keys.latency.error = str(error)
    except asyncio.CancelledError:
        if caught:
            raise SystemExit(128 + caught[0]) from None
        raise
    finally:
        collector.close()
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)  # this leaves SIG_DFL: put ours back
            signal.signal(signum, handler)
    return keys


async def press_in(
    app: TimedApp, pilot: Pilot[None], keys: Keys, presses: int, gaps: random.Random
) -> None:
    """After the first snapshot, press and time the keys, a random gap after each."""
    deadline = time.monotonic() + FIRST_FRAME_TIMEOUT
    while app.polls < 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no snapshot within {FIRST_FRAME_TIMEOUT:.0f} s")
        await pilot.pause(0.05)
    first_poll, began = app.polls, time.monotonic()
    for number in range(presses):
        key = KEYS[number % len(KEYS)]
        before = effect_state(app)
        polls = app.polls
        start = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()
        end = time.perf_counter()
        frame = frame_after(app, start)
        frame_ms = None if frame is None or frame > end else (frame - start) * 1000
        keys.add(key, (end - start) * 1000, frame_ms)
        keys.overlapped += app.polls != polls
        keys.effects_seen += took_effect(key, before, effect_state(app))
        app.actions_done.clear()
        app.frames.clear()
        await asyncio.sleep(gaps.uniform(0, KEY_GAP_SECONDS))
    keys.polls = app.polls - first_poll
    keys.seconds = time.monotonic() - began


@dataclass(frozen=True)
class EffectState:
    """What the keys change: the tab, the cursor's row and object, the sort."""

    kind: Kind
    selected: int | None
    at_last_row: bool
    sort_key: str
    sort_reverse: bool


def effect_state(app: ShmtopApp) -> EffectState:
    table = app.main_screen.table
    last = table.cursor_row >= len(table.ordered_ids) - 1
    return EffectState(
        app.main_screen.kind, table.selected_id, last, table.sort_key, table.sort_reverse
    )


def took_effect(key: str, before: EffectState, after: EffectState) -> bool:
    if key in ("down", "pagedown"):  # at the last row there is nowhere to go
        return after.selected != before.selected or before.at_last_row
    if key in ("1", "2"):
        return after.kind is (Kind.SHM if key == "1" else Kind.SEM)
    if key in (">", "<"):
        return after.sort_key != before.sort_key
    return after.sort_reverse != before.sort_reverse  # "i"
