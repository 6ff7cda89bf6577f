"""The exporter's reading with every IPC namespace (-A) vs the caller's only: the caller's
namespace holds the benchmark's workload (the large one by default), 20 extra namespaces hold 50
segments each. Run as root:
    unshare --ipc .venv/bin/python bench/bench_exporter_namespaces.py [--namespaces N ...]
A reading is what a scrape past the interval pays: the System V snapshot(s), the waiter
scan(s) and the POSIX scan(s) (--posix-interval 0), then the encoding of the metrics. The
first reading and the median of the steady ones after it are printed, wall and CPU (every
thread); other load on the machine moves them."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ns_helpers import foreign_namespace

from bench.harness import add_workload_args, is_root, workload_of
from shmtop.exporter.exposition import Exposition
from shmtop.exporter.namespace_source import EveryNamespace
from shmtop.exporter.posix_source import PosixSource
from shmtop.exporter.source import SnapshotSource

OBJECTS = 50


def readings(every: EveryNamespace | None, rounds: int) -> tuple[list[float], list[float]]:
    """(wall, CPU) seconds of each reading and its encoding: the first, then steady ones."""
    source = SnapshotSource(0.0, posix=PosixSource(0.0), every=every)
    exposition = Exposition(source, 100_000)
    walls, cpus = [], []
    try:
        for _ in range(rounds + 1):
            started, cpu = time.perf_counter(), time.process_time()
            body = exposition.text()
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            assert b"shmtop_up 1.0" in body, body[:400]
    finally:
        source.close()
    return walls, cpus


def line(what: str, single: list[float], every: list[float]) -> str:
    first = f"first {single[0] * 1000:7.1f} vs {every[0] * 1000:7.1f} ms"
    one, many = statistics.median(single[1:]), statistics.median(every[1:])
    steady = f"steady {one * 1000:7.1f} vs {many * 1000:7.1f} ms ({many / one:.2f}x)"
    return f"  {what}: {first}; {steady}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_workload_args(parser)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if not is_root("bench_exporter_namespaces", "it makes IPC namespaces and joins them"):
        return 1
    with ExitStack() as stack:
        made = {
            stack.enter_context(foreign_namespace(objects=OBJECTS))["inode"]
            for _ in range(args.namespaces)
        }
        workload = stack.enter_context(workload_of(args))
        mine = readings(None, args.rounds)
        # Only the caller's namespace and those made here: other users of a shared machine
        # may have namespaces of their own, of any size.
        every = EveryNamespace(0.0, lambda ns: ns.current or ns.inode in made)
        theirs = readings(every, args.rounds)
    sizes = workload.sizes()
    print(f"caller's {sizes['segments']} segments/{sizes['children']} children, "
          f"{args.namespaces} extra namespaces x {OBJECTS} segments; exporter readings,"
          f" caller's only vs -A, {args.rounds} steady")  # fmt: skip
    print(line("wall", mine[0], theirs[0]))
    print(line("CPU ", mine[1], theirs[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
