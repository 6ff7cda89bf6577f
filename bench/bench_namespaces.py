"""First snapshot with every IPC namespace (-A) vs the caller's only, with 20 extra
namespaces of 50 segments each (issue 12: target <= 2x). Run as root:
    unshare --ipc .venv/bin/python bench/bench_namespaces.py
Prints figures; other load on the machine moves them."""

from __future__ import annotations

import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ns_helpers import foreign_namespace

from shmtop.core.namespaces.snapshots import NamespaceCollectors
from shmtop.core.snapshot.collect import Collector

NAMESPACES, OBJECTS, ROUNDS = 20, 50, 5


def first(make: type[Collector] | type[NamespaceCollectors]) -> float:
    collector = make()
    started = time.perf_counter()
    collector.snapshot()
    elapsed = time.perf_counter() - started
    collector.close()
    return elapsed


def main() -> None:
    with ExitStack() as stack:
        for _ in range(NAMESPACES):
            stack.enter_context(foreign_namespace(objects=OBJECTS))
        single = [first(Collector) for _ in range(ROUNDS)]
        every = [first(NamespaceCollectors) for _ in range(ROUNDS)]
    one, all_ = statistics.median(single), statistics.median(every)
    print(f"{NAMESPACES} extra namespaces x {OBJECTS} segments, median of {ROUNDS} first snapshots")
    print(f"  caller's namespace only: {one * 1000:8.1f} ms")
    print(f"  every namespace (-A):    {all_ * 1000:8.1f} ms  ({all_ / one:.2f}x)")


if __name__ == "__main__":
    main()
