"""Cycle-collector pauses in the interactive view, with the app's gc.freeze() and without.

Run as root: `.venv/bin/python -m bench.bench_gc [--seconds S]`. The script moves into a
private IPC namespace (as bench_oneshot does), builds and starts the C workload of issue 11
(4000 segments, 1000 C children attaching 8 each, 1000 sets of 16, 1000 queues), then runs
the app in-process and headless through Pilot on a real Collector, refreshing every 0.5 s
while keys are pressed (down, page down, a tab switch, a sort), once as the app is (it calls
gc.freeze() after the first snapshot) and once in a fresh interpreter with gc.freeze made a
no-op. gc.callbacks time every collection; the table gives, by generation, how many ran,
their median and longest pause, and the objects the collector tracked at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import is_root  # noqa: E402

KEYS = ("down", "pagedown", "2", "1", "s")


def pauses_of_a_run(seconds: float, freeze: bool) -> dict[str, Any]:
    """The app on a Collector for `seconds` (after its first snapshot): every collection's
    generation and pause in ms, and how many objects were tracked and frozen at the end."""
    from shmtop.core.snapshot.collect import Collector
    from shmtop.tui.app import ShmtopApp
    from shmtop.tui.prefs import Preferences

    if not freeze:
        gc.freeze = lambda: None  # the app calls it after the first snapshot
    pauses: list[tuple[int, float]] = []
    started: list[float] = []

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append((info["generation"], (time.perf_counter() - started.pop()) * 1000))

    async def drive() -> tuple[int, int]:
        collector = Collector()
        try:
            with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as config:
                app = ShmtopApp(
                    collector,
                    preferences=Preferences(interval=0.5),
                    preferences_path=Path(config) / "preferences.json",
                )
                async with app.run_test(size=(160, 45)) as pilot:
                    while app.polls < 1:
                        await pilot.pause(0.05)
                    gc.callbacks.append(timed)
                    end = time.monotonic() + seconds
                    n = 0
                    while time.monotonic() < end:
                        await pilot.press(KEYS[n % len(KEYS)])
                        await pilot.pause(0.1)
                        n += 1
                    gc.callbacks.remove(timed)
                    return app.polls, n
        finally:
            collector.close()

    polls, keys = asyncio.run(drive())
    return {
        "freeze": freeze,
        "polls": polls,
        "keys": keys,
        "pauses": pauses,
        "tracked": len(gc.get_objects()),
        "frozen": gc.get_freeze_count(),
    }


def summary(run: dict[str, Any]) -> list[str]:
    name = "as the app is (gc.freeze)" if run["freeze"] else "gc.freeze made a no-op"
    lines = []
    for generation in (0, 1, 2):
        ms = [p for g, p in run["pauses"] if g == generation]
        median = f"{statistics.median(ms):.2f}" if ms else "-"
        longest = f"{max(ms):.2f}" if ms else "-"
        lines.append(f"| {name} | {generation} | {len(ms)} | {median} | {longest} |")
    lines.append(
        f"| {name}: {run['polls']} refreshes, {run['keys']} keys; tracked at the end"
        f" {run['tracked']}, frozen {run['frozen']} | | | | |"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="each run, after its start")
    parser.add_argument("--child", choices=("freeze", "nofreeze"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one run, in the workload's namespace, its answer as JSON
        print(json.dumps(pauses_of_a_run(args.seconds, args.child == "freeze")))
        return 0
    if not is_root("bench_gc", "it makes an IPC namespace and reads every process's maps"):
        return 2
    from bench.bench_oneshot import WORKLOAD_ARGS, build_workload, running_workload
    from shmtop.core.binding import native

    native.unshare(native.CLONE_NEWIPC)  # before any thread or child
    runs = []
    with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
        binary = build_workload(Path(directory))
        with running_workload(binary, WORKLOAD_ARGS) as ready:
            for mode in ("freeze", "nofreeze", "freeze", "nofreeze"):
                done = subprocess.run(
                    [sys.executable, "-m", "bench.bench_gc", "--child", mode,
                     "--seconds", str(args.seconds)],
                    cwd=REPO_ROOT, capture_output=True, text=True, check=True,
                    env=dict(os.environ, SHMTOP_BENCH_CHILD="1"),
                )  # fmt: skip
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"Workload: {ready}; load average {os.getloadavg()}")
    print("| run | generation | collections | median ms | longest ms |")
    print("|---|---:|---:|---:|---:|")
    for run in runs:
        print("\n".join(summary(run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
