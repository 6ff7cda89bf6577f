"""Memory of the interactive view over a long run: RSS every 30 s while objects churn and a
script opens and closes every view.

The app runs in-process, headless, through Textual's Pilot on a real Collector (the
same code as `shmtop`, rendering included, without a terminal). Everything runs in an
IPC namespace of its own (root), so the view sees only the benchmark's objects: a
small steady workload (bench.workload) plus a churning child that keeps creating and
removing keyed segments, semaphore sets and queues (every key new, so caches keyed by
owner see unique keys). The measured process is the app's alone: the churn runs in a
forked child.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from textual.pilot import Pilot  # noqa: E402

from bench.harness import is_root  # noqa: E402
from bench.proc import memory_mib  # noqa: E402
from bench.workload import Workload, raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402
from shmtop.tui.app import ShmtopApp  # noqa: E402
from shmtop.tui.prefs import Preferences  # noqa: E402

COLUMNS, ROWS = 160, 45
VIEW_SECONDS = 1.0  # how long each view stays open
CHURN_ALIVE = 200  # churned objects alive at a time, of each kind
FIRST_SNAPSHOT_TIMEOUT = 30.0


# ---- the churn (a child process) ----


def churn_forever(rate: float, seed: int) -> None:
    """Create and remove keyed objects, `rate` of each kind a second, keeping CHURN_ALIVE."""
    rng = random.Random(seed)
    alive: dict[str, deque[int]] = {"shm": deque(), "sem": deque(), "msg": deque()}
    makers: dict[str, Callable[[int], int]] = {
        "shm": lambda key: native.shmget(key, 4096, native.IPC_CREAT | native.IPC_EXCL | 0o600),
        "sem": lambda key: native.semget(key, 2, native.IPC_CREAT | native.IPC_EXCL | 0o600),
        "msg": lambda key: native.msgget(key, native.IPC_CREAT | native.IPC_EXCL | 0o600),
    }
    removers = {"shm": native.shm_rmid, "sem": native.sem_rmid, "msg": native.msg_rmid}
    signal.signal(signal.SIGTERM, raise_exit)
    try:
        while True:
            for kind, made in alive.items():
                with contextlib.suppress(FileExistsError):  # a key in use: the next one
                    made.append(makers[kind](rng.randint(1, 0x7FFFFFFF)))
                if len(made) > CHURN_ALIVE:
                    removers[kind](made.popleft())
            time.sleep(1 / rate)
    finally:
        for kind, made in alive.items():
            for ident in made:
                with contextlib.suppress(OSError):
                    removers[kind](ident)


def start_churn(rate: float, seed: int) -> int:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            churn_forever(rate, seed)
        except SystemExit:
            pass
        except BaseException:
            code = 1
        os._exit(code)
    return pid


def stop_churn(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    os.waitpid(pid, 0)


# ---- the scripted user ----


@dataclass
class Run:
    """What one run saw."""

    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, RSS MiB)
    actions: dict[str, int] = field(default_factory=dict)
    polls: int = 0
    footer_keys_alive: int = 0


async def open_and_close(pilot: Pilot[None], opener: list[str], closer: str) -> None:
    await pilot.press(*opener)
    await pilot.pause(VIEW_SECONDS)
    await pilot.press(closer)
    await pilot.pause(0.2)


def scripted_actions(pilot: Pilot[None]) -> list[tuple[str, Awaitable[None]]]:
    """One round of every view and cycle, as (name, coroutine)."""

    async def tabs_and_sorts() -> None:
        for key in ("1", ">", ">", "i", "2", ">", "<", "i", "3", ">", "i", "<"):
            await pilot.press(key)
        await pilot.pause(0.2)

    async def waiters() -> None:
        await pilot.press("w")
        await pilot.pause(VIEW_SECONDS + 1)  # at least one refresh with the scan
        await pilot.press("w")

    async def search() -> None:
        await pilot.press("slash", "s", "h", "m", "enter")
        await pilot.pause(0.2)

    def tab_then(kind: str) -> list[str]:
        return [kind, "home"]

    return [
        ("segment view", open_and_close(pilot, [*tab_then("1"), "enter"], "escape")),
        ("set view", open_and_close(pilot, [*tab_then("2"), "enter"], "escape")),
        ("queue view", open_and_close(pilot, [*tab_then("3"), "enter"], "escape")),
        ("waiter scan", waiters()),
        ("help", open_and_close(pilot, ["question_mark"], "escape")),
        ("palette", open_and_close(pilot, ["ctrl+p", "s", "o"], "escape")),
        ("tab and sort cycle", tabs_and_sorts()),
        ("search", search()),
        ("back to segments", pilot.press("1")),
    ]


async def drive(seconds: float, sample_every: float, run: Run) -> None:
    collector = Collector()
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as config:
            app = ShmtopApp(
                collector,
                preferences=Preferences(interval=1.0),
                preferences_path=Path(config) / "preferences.json",
            )
            async with app.run_test(size=(COLUMNS, ROWS)) as pilot:
                await play(app, pilot, seconds, sample_every, run)
    finally:
        collector.close()


async def play(
    app: ShmtopApp, pilot: Pilot[None], seconds: float, sample_every: float, run: Run
) -> None:
    deadline = time.monotonic() + FIRST_SNAPSHOT_TIMEOUT
    while app.polls < 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no snapshot within {FIRST_SNAPSHOT_TIMEOUT:.0f} s")
        await pilot.pause(0.05)
    began = time.monotonic()
    next_sample = 0.0
    while (elapsed := time.monotonic() - began) < seconds:
        for name, action in scripted_actions(pilot):
            await action
            run.actions[name] = run.actions.get(name, 0) + 1
            elapsed = time.monotonic() - began
            if elapsed >= next_sample:
                run.samples.append((elapsed, memory_mib()["VmRSS"]))
                print(f"  {elapsed:6.0f} s  RSS {run.samples[-1][1]:6.1f} MiB", flush=True)
                next_sample += sample_every
    run.samples.append((time.monotonic() - began, memory_mib()["VmRSS"]))
    run.polls = app.polls
    gc.collect()
    run.footer_keys_alive = sum(1 for o in gc.get_objects() if type(o).__name__ == "FooterKey")


# ---- report ----


def report(run: Run, warmup: float, workload: str) -> str:
    lines = [f"workload: {workload}", "", "   time   RSS MiB"]
    lines += [f"  {t:5.0f}s  {rss:7.1f}" for t, rss in run.samples]
    after = [(t, rss) for t, rss in run.samples if t >= warmup]
    if len(after) >= 2:
        start, end = after[0][1], after[-1][1]
        peak = max(rss for _, rss in after)
        lines += [
            "",
            f"after warm-up ({after[0][0]:.0f} s): RSS {start:.1f} -> {end:.1f} MiB,"
            f" growth {end - start:+.1f} MiB (peak {peak:.1f}, +{peak - start:.1f})"
            f" over {after[-1][0] - after[0][0]:.0f} s",
        ]
    lines.append(f"first sample: {run.samples[0][1]:.1f} MiB; snapshots shown: {run.polls}")
    lines.append("rounds: " + ", ".join(f"{name} {n}" for name, n in run.actions.items()))
    lines.append(
        f"footer key widgets alive at the end after gc.collect(): {run.footer_keys_alive}"
        " (those on screen included; the objects frozen at start-up are not counted)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="length of the run")
    parser.add_argument("--warmup", type=float, default=60.0, help="growth is counted after it")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--churn", type=float, default=10.0,
                        help="objects of each kind created (and removed) a second")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not is_root("bench_memory", "it makes its own IPC namespace and workload"):
        return 2
    native.unshare(native.CLONE_NEWIPC)  # before any thread or child: all of them inherit it
    workload = Workload(segments=200, children=50, semaphore_sets=50, queues=50)
    described = (
        f"{workload.segments} segments attached by {workload.children} children,"
        f" {workload.semaphore_sets} sets, {workload.queues} queues; churn: {args.churn:g} keyed"
        f" segments, sets and queues made and {args.churn:g} removed a second ({CHURN_ALIVE}"
        " of each alive); every view opened and closed in turn"
    )
    run = Run()
    signal.signal(signal.SIGTERM, raise_exit)
    with workload:
        churn = start_churn(args.churn, args.seed)
        try:
            asyncio.run(drive(args.seconds, args.sample, run))
        except KeyboardInterrupt:
            print("bench_memory: interrupted; workload removed", file=sys.stderr)
            return 130
        finally:
            stop_churn(churn)
    print(report(run, args.warmup, described))
    return 0


if __name__ == "__main__":
    sys.exit(main())
