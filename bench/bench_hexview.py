"""Times the segment view on a huge sparse segment: first frame, PageDown, End, RSS, search."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Input  # noqa: E402

from bench.proc import memory_mib  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.segment.segment_reader import SegmentReader  # noqa: E402
from shmtop.tui.viewer_app import ViewerApp  # noqa: E402
from shmtop.tui.widgets.hex_view import HexView  # noqa: E402

GIB = 1 << 30
NEEDLE = b"\x5a\xa5SHMTOP"  # 8 bytes, written once near the end
PAGE_DOWNS = 20
PATIENCE = 60.0


@dataclass
class Figure:
    name: str
    target: str
    value: float | None
    unit: str
    passed: Callable[[float], bool]
    note: str = ""

    def row(self) -> str:
        if self.value is None:
            return f"| {self.name} | {self.target} | not measured | MISS | {self.note} |"
        verdict = "PASS" if self.passed(self.value) else "MISS"
        shown = f"{self.value:.0f}" if self.value >= 100 else f"{self.value:.3g}"
        return f"| {self.name} | {self.target} | {shown} {self.unit} | {verdict} | {self.note} |"


def rss_mib() -> float:
    return memory_mib()["VmRSS"]


def fill(shmid: int, pieces: Sequence[tuple[int, bytes]]) -> None:
    """Write a few pieces through a read-write attachment, then detach."""
    with native.attached(shmid, readonly=False) as address:
        for offset, data in pieces:
            native.memory(address, offset + len(data))[offset : offset + len(data)] = data


async def wait_until(condition: Callable[[], bool], what: str) -> float:
    """Yield to the app until condition holds; returns when (perf_counter)."""
    deadline = time.perf_counter() + PATIENCE
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"gave up waiting until {what}")
        await asyncio.sleep(0.0005)
    return time.perf_counter()


async def keypress_ms(pilot: Pilot[None], view: HexView, key: str, want: int) -> float:
    """From the key press to the end of the first frame of the hex view at its new top row."""
    frames: list[tuple[float, int]] = []
    view.on_render = lambda when, row: frames.append((when, row))
    started = time.perf_counter()
    await pilot.press(key)
    await wait_until(lambda: any(row == want for _, row in frames), f"a frame after {key}")
    view.on_render = None
    return (next(when for when, row in frames if row == want) - started) * 1000


async def measure_view(shmid: int, size: int, needle_at: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    baseline = peak = rss_mib()
    started = time.perf_counter()
    app = ViewerApp(shmid)
    async with app.run_test(size=(160, 45)) as pilot:
        view = await _first_view(app)
        await wait_until(lambda: view.first_render_at is not None, "the first frame")
        assert view.first_render_at is not None
        figures["first_frame_s"] = view.first_render_at - started
        figures["rss_after_first_frame"] = rss_mib() - baseline
        height = view.scrollable_content_region.height
        downs = []
        for _ in range(PAGE_DOWNS):
            expected = min(int(view.scroll_offset.y) + height, view.max_scroll_y)
            downs.append(await keypress_ms(pilot, view, "pagedown", expected))
            peak = max(peak, rss_mib())
        figures["pagedown_ms"] = statistics.median(downs)
        figures["pagedown_max_ms"] = max(downs)
        figures["end_ms"] = await keypress_ms(pilot, view, "end", view.max_scroll_y)
        figures["home_ms"] = await keypress_ms(pilot, view, "home", 0)
        prompt = app.screen.query_one("#prompt", Input)
        await pilot.press("slash")
        prompt.value = "x:" + NEEDLE.hex()
        searched = time.perf_counter()
        await pilot.press("enter")
        found = await wait_until(lambda: view.cursor == needle_at, "the search to find it")
        figures["search_ui_gbps"] = needle_at / (found - searched) / 1e9
        await pilot.press("home")
        jumped = time.perf_counter()
        await pilot.press("right_square_bracket")
        region = await wait_until(lambda: view.cursor == size // 4, "the next non-zero region")
        figures["region_jump_ms"] = (region - jumped) * 1000
        peak = max(peak, rss_mib())
        await pilot.press("q")
    figures["rss_growth_mib"] = peak - baseline
    figures["size"] = size
    return figures


async def _first_view(app: ViewerApp) -> HexView:
    while True:
        found = app.screen.query(HexView)
        if found:
            return found.first()
        await asyncio.sleep(0.0005)


def search_gbps(shmid: int, needle_at: int, runs: int = 3) -> float:
    """Headless: the reader's find over the whole segment, best of runs."""
    best = 0.0
    with SegmentReader.attach(shmid) as reader:
        for _ in range(runs):
            started = time.perf_counter()
            assert reader.find(NEEDLE, 0) == needle_at
            best = max(best, needle_at / (time.perf_counter() - started) / 1e9)
    return best


def report(figures: dict[str, float], headless_gbps: float) -> str:
    size_gib = figures["size"] / GIB
    rows = [
        Figure("open the view to a first frame", "<= 0.5 s", figures["first_frame_s"], "s",
               lambda v: v <= 0.5),
        Figure("PageDown (median of 20)", "<= 30 ms", figures["pagedown_ms"], "ms",
               lambda v: v <= 30, f"max {figures['pagedown_max_ms']:.1f} ms"),
        Figure("jump to the end", "<= 100 ms", figures["end_ms"], "ms", lambda v: v <= 100),
        Figure("jump to the start", "-", figures["home_ms"], "ms", lambda v: True),
        Figure("RSS growth of the viewer", "<= 20 MiB", figures["rss_growth_mib"], "MiB",
               lambda v: v <= 20,
               f"{figures['rss_after_first_frame']:.1f} MiB of it by the first frame"),
        Figure("search, 8 bytes near the end (reader)", ">= 1 GB/s", headless_gbps, "GB/s",
               lambda v: v >= 1.0, "SegmentReader.find, best of 3"),
        Figure("search, 8 bytes near the end (keys)", ">= 1 GB/s",
               figures["search_ui_gbps"], "GB/s", lambda v: v >= 1.0, "/ then Enter, to cursor"),
        Figure(f"] over {size_gib / 4:.2g} GiB of zeros", "-", figures["region_jump_ms"], "ms",
               lambda v: True),
    ]  # fmt: skip
    head = [
        f"Segment: {size_gib:.3g} GiB, sparse (a few written pages), attached read-only; "
        "headless 160x45, sweep on.",
        "",
        "| measure | target | measured | result | note |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(head + [row.row() for row in rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gib", type=float, default=4.0, help="segment size (default 4)")
    args = parser.parse_args(argv)
    size = int(args.size_gib * GIB)
    needle_at = size - 4096 + 17
    shmid = native.shmget(native.IPC_PRIVATE, size, native.IPC_CREAT | 0o600)
    try:
        fill(shmid, [(0, b"start of the segment"), (size // 4, b"a quarter in"),
                     (size // 2 + 123, bytes(range(256))), (needle_at, NEEDLE)])  # fmt: skip
        headless = search_gbps(shmid, needle_at)
        figures = asyncio.run(measure_view(shmid, size, needle_at))
        print(report(figures, headless))
    finally:
        native.shm_rmid(shmid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
