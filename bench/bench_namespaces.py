"""First snapshot with every IPC namespace (-A) vs the caller's only: the caller's namespace
holds the benchmark's workload (the large one by default), and 20 extra namespaces hold 50
segments each (issue 12: target <= 2x). Run as root:
    unshare --ipc .venv/bin/python bench/bench_namespaces.py [--segments N --children N ...]
Each figure is what a one-shot command pays: making the collector(s) (for -A: the census of
namespaces and the joined threads too) and its first snapshot. Prints figures; other load on
the machine moves them."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ns_helpers import foreign_namespace

from bench.harness import add_workload_args, is_root, workload_of
from shmtop.core.namespaces.discover import census
from shmtop.core.namespaces.snapshots import NamespaceCollectors
from shmtop.core.snapshot.collect import Collector

OBJECTS = 50


def one(make: Callable[[], Collector | NamespaceCollectors]) -> tuple[float, float]:
    """(wall, CPU of every thread) seconds of making make() and its first snapshot."""
    started, cpu = time.perf_counter(), time.process_time()
    collector = make()
    collector.snapshot()
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    collector.close()
    return elapsed, used


def ours_and(inodes: set[int]) -> NamespaceCollectors:
    """-A as the command makes it (the census of every process included), but of the
    caller's namespace and those made here only: other users of a shared machine may have
    namespaces of their own, of any size."""
    found = census()
    chosen = [ns for ns in found.namespaces if ns.current or ns.inode in inodes]
    return NamespaceCollectors(only=chosen, found=found)


def medians(rounds: int, inodes: set[int]) -> list[tuple[float, float]]:
    """[(caller's only, every namespace) wall medians, the same of CPU], alternating runs."""
    single, every = [], []
    for _ in range(rounds):
        single.append(one(Collector))
        every.append(one(lambda: ours_and(inodes)))
    return [
        (statistics.median(s[n] for s in single), statistics.median(e[n] for e in every))
        for n in (0, 1)
    ]


def lines(what: str, figures: list[tuple[float, float]]) -> list[str]:
    return [
        f"  {what} {name}: caller's only {one_ns * 1000:7.1f} ms, every namespace (-A)"
        f" {all_ns * 1000:7.1f} ms ({all_ns / one_ns:.2f}x)"
        for name, (one_ns, all_ns) in zip(("wall", "CPU "), figures, strict=True)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_workload_args(parser)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not is_root("bench_namespaces", "it makes IPC namespaces and joins them"):
        return 1
    with ExitStack() as stack:
        made = {
            stack.enter_context(foreign_namespace(objects=OBJECTS))["inode"]
            for _ in range(args.namespaces)
        }
        empty = medians(args.rounds, made)
        workload = stack.enter_context(workload_of(args))
        loaded = medians(args.rounds, made)
    print(f"{args.namespaces} extra namespaces x {OBJECTS} segments (one mapped by a member);"
          f" median of {args.rounds} one-shot first snapshots")  # fmt: skip
    sizes = workload.sizes()
    print("\n".join(lines("caller's namespace empty:", empty)))
    print("\n".join(lines(f"caller's {sizes['segments']} segs/{sizes['children']} children:",
                           loaded)))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
