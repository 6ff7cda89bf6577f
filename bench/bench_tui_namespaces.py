"""What a refresh of the view costs across IPC namespaces (`shmtop -A`, the A key) against
the caller's namespace alone, once both are steady: the caller's namespace holds the
benchmark's workload (the large one by default), 20 extra namespaces hold 50 segments each.
Run as root:
    unshare --ipc .venv/bin/python bench/bench_tui_namespaces.py [--segments N ...]
Figures: the poll worker's snapshot(s) of a steady refresh (Collector.snapshot vs the
NamespaceFeed's, with and without a census that refresh), and the UI thread's rows across
namespaces (tui/namespace_main.NamespaceState): made anew (all changed), steady, and with
every table a new tuple of the same objects (what a refresh in which some object of each
kind changed costs at most); with `w`, the caller's waiter scan and the other namespaces'
(one inside each, in its joined thread).
Prints medians; other load on the machine moves them."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
from ns_helpers import foreign_namespace

from bench.harness import add_workload_args, is_root, workload_of
from shmtop.core.model import Kind
from shmtop.core.namespaces.snapshots import AllNamespaces, NamespaceView
from shmtop.core.snapshot.collect import Collector
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.namespace_main import NamespaceState

OBJECTS = 50


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median (wall, CPU of every thread) ms of call()."""
    walls, cpus = [], []
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def refreshes(members: list[int], rounds: int) -> dict[str, tuple[float, float]]:
    """The namespaces counted are the caller's and those made here (members: a PID of
    each), not other users' of a shared machine; the maps scan is of every process."""
    pids = [os.getpid(), *members]
    collector = Collector()
    feed = NamespaceFeed(every=True, census_seconds=3600.0, pids=lambda: pids)
    counted = NamespaceFeed(every=True, census_seconds=0.0, pids=lambda: pids)
    try:
        for warm in (collector.snapshot, lambda: feed.snapshot(collector),
                     lambda: counted.snapshot(collector)):  # fmt: skip
            warm()
            warm()
        figures = {
            "caller's only": timed(collector.snapshot, rounds),
            "-A, steady": timed(lambda: feed.snapshot(collector), rounds),
            "-A, with a census": timed(lambda: counted.snapshot(collector), rounds),
        }
        _, seen = feed.snapshot(collector)
        assert seen is not None
        # `w`: the caller's waiter scan, and one made inside each other namespace (its
        # joined thread, a scanner of its own: namespace_views.py) on top of it.
        scanner = WaiterScanner()
        others = [v.namespace.inode for v in seen.views if not v.namespace.current]
        for _ in range(2):
            scanner.scan()
            feed.probe(others, ())
        figures["w: caller's scan"] = timed(scanner.scan, rounds)
        figures["w: others' scans"] = timed(lambda: feed.probe(others, ()), rounds)
        figures["rows (UI), all changed"] = timed(lambda: rows(fresh(seen)), rounds)
        state = NamespaceState()
        state.update(seen)
        figures["rows (UI), steady"] = timed(lambda: rows_steady(state, seen), rounds)
        figures["rows (UI), tables new"] = timed(lambda: rows_steady(state, fresh(seen)), rounds)
        return figures
    finally:
        collector.close()
        feed.close()
        counted.close()


def anew(objects: tuple[Any, ...]) -> tuple[Any, ...]:
    """Another tuple of the same objects (tuple(t) would be t itself)."""
    return tuple(list(objects))  # noqa: C414


def fresh(seen: AllNamespaces) -> AllNamespaces:
    """The same namespaces with every table a new tuple (as if every object changed)."""
    views = tuple(
        NamespaceView(v.namespace, msgspec.structs.replace(
            v.snapshot, segments=anew(v.snapshot.segments),
            semaphore_sets=anew(v.snapshot.semaphore_sets), queues=anew(v.snapshot.queues)))
        if v.snapshot is not None else v
        for v in seen.views
    )  # fmt: skip
    return AllNamespaces(views, seen.unplaced)


def rows(seen: AllNamespaces) -> int:
    state = NamespaceState()
    state.update(seen)
    return sum(len(state.rows(kind)) for kind in Kind)


def rows_steady(state: NamespaceState, seen: AllNamespaces) -> int:
    state.update(seen)
    return sum(len(state.rows(kind)) for kind in Kind)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_workload_args(parser)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if not is_root("bench_tui_namespaces", "it makes IPC namespaces and joins them"):
        return 1
    with ExitStack() as stack:
        made = [
            stack.enter_context(foreign_namespace(objects=OBJECTS))["pid"]
            for _ in range(args.namespaces)
        ]
        workload = stack.enter_context(workload_of(args))
        figures = refreshes(made, args.rounds)
    sizes = workload.sizes()
    print(f"caller's {sizes['segments']} segs/{sizes['children']} children + {args.namespaces}"
          f" namespaces x {OBJECTS} segments; median of {args.rounds}")  # fmt: skip
    base = figures["caller's only"]
    for name, (wall, cpu) in figures.items():
        ratio = "" if name.startswith(("rows", "w:")) else f" ({wall / base[0]:.2f}x wall)"
        print(f"  {name:24} wall {wall:7.1f} ms  CPU {cpu:7.1f} ms{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
