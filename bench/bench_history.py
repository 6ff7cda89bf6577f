"""Times the detail pane's history store (shmtop.core.history) and the busy rule on synthetic
snapshots: the cost of one refresh when nothing changed and when every object changed, and
the memory held after many refreshes in which everything changed. Prints; asserts nothing.

    .venv/bin/python bench/bench_history.py [--objects N] [--refreshes R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from types import MappingProxyType

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import msgspec  # noqa: E402

from shmtop.core.busy import Activity  # noqa: E402
from shmtop.core.history import HistoryStore  # noqa: E402
from shmtop.core.model import (  # noqa: E402
    BlindSpots,
    Limits,
    MessageQueue,
    Owner,
    Segment,
    Semaphore,
    SemaphoreSet,
    Snapshot,
)

OWNER = Owner(0, 0, 0, 0, 0, 0o600, "root", "root", "root", "root")
LIMITS = Limits(4096, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0)


def snapshot(objects: int, step: int, at: float) -> Snapshot:
    """objects of each kind (sets of 16), every figure moved by `step`."""
    segments = tuple(
        Segment(i, OWNER, 4096, 4096 * (1 + step % 3), 0, step % 4, 1, 1, 0, 0, 0, True)
        for i in range(objects)
    )
    sets = tuple(
        SemaphoreSet(i, OWNER, 16, 0, 0, tuple(Semaphore(n, step % 5, 0, 0, 1) for n in range(16)))
        for i in range(objects)
    )
    queues = tuple(
        MessageQueue(i, OWNER, 10 * (step % 7), step % 7, 16384, 1, 1, 0, 0, 0)
        for i in range(objects)
    )
    return Snapshot(at, segments, sets, queues, LIMITS, MappingProxyType({}), BlindSpots(), 1, 1)


def timed(call: object, runs: int) -> float:
    """Median milliseconds of call()."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=1000, help="of each kind")
    parser.add_argument("--refreshes", type=int, default=400)
    args = parser.parse_args()
    n, total = args.objects, args.objects * 3
    frames = [snapshot(n, step, 1000.0 + step) for step in range(8)]

    store = HistoryStore()
    store.record(frames[0])
    steady = timed(lambda: store.record(frames[0]), 20)  # the same objects: reused
    moving = iter(range(10**9))
    changed = timed(lambda: store.record(frames[next(moving) % 8]), 20)

    tracemalloc.start()
    held = HistoryStore()
    for step in range(args.refreshes):  # every figure changes at every refresh
        held.record(msgspec.structs.replace(frames[step % 8], taken_at=1000.0 + step))
    size, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    activity = Activity()
    ids = list(range(total))
    busy_all = timed(lambda: activity.observe(ids), 20)
    busy_none = timed(lambda: activity.observe(()), 20)

    print(f"history store, {total} objects ({n} segments, {n} sets of 16, {n} queues):")
    print(f"  record, nothing changed     {steady:8.2f} ms")
    print(f"  record, everything changed  {changed:8.2f} ms")
    print(f"  after {args.refreshes} refreshes, all changing: {held.points()} points held, "
          f"{size / 2**20:.1f} MiB traced")  # fmt: skip
    print(f"busy rule, {total} ids: all changed {busy_all:.2f} ms, none {busy_none:.3f} ms")


if __name__ == "__main__":
    main()
