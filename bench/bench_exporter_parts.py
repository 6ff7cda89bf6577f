"""Where an exporter reading's CPU goes, part by part, on the large workload.

`sudo .venv/bin/python bench/bench_exporter_parts.py [--rounds N] [--pshm K]` (in an IPC
namespace of its own). A steady reading is what `shmtop exporter` takes each --interval:
the snapshot (System V, and the POSIX scan when it is due), the waiter scan, then the
families and their encoding (OpenMetrics + gzip, kept lines reused as the exporter does).
Each part is timed in CPU seconds of this process (every thread: the collectors' workers
too) over N steady readings, taken as the exporter takes them: the medians, in ms.

--pshm K adds K POSIX shared memory objects in /dev/shm (prefix shmtop-bench-parts-),
each mapped by this process, so the POSIX side has objects to judge and encode; they are
unlinked at the end.
"""

from __future__ import annotations

import argparse
import mmap
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from prometheus_client.exposition import choose_encoder  # noqa: E402

from bench.bench_exporter import PROMETHEUS_ACCEPT  # noqa: E402
from bench.bench_remove import private_namespace  # noqa: E402
from bench.harness import add_workload_args, is_root, run_benchmark, workload_of  # noqa: E402
from bench.proc import loadavg  # noqa: E402
from bench.workload import Workload  # noqa: E402
from shmtop.exporter.exposition import Exposition  # noqa: E402
from shmtop.exporter.source import SnapshotSource  # noqa: E402

PREFIX = "shmtop-bench-parts-"


def cpu() -> float:
    """CPU seconds of this process, every thread."""
    return time.process_time()


class Timed:
    """CPU ms of each named part, over the rounds."""

    def __init__(self) -> None:
        self.parts: dict[str, list[float]] = {}

    def wrap(self, name: str, call: Callable[[], object]) -> Callable[[], object]:
        def timed() -> object:
            start = cpu()
            try:
                return call()
            finally:
                self.parts.setdefault(name, []).append(1000.0 * (cpu() - start))

        return timed


def instrument(source: SnapshotSource, timed: Timed) -> None:
    """Time the source's parts where it calls them (this tree's, or an older one's: a
    Collector and a PosixSource.read of their own)."""
    parts = (
        ("_collector", "snapshot", "System V snapshot"),
        ("_posix", "read", "POSIX scan (its own)"),
        ("_posix", "with_sysv", "System V snapshot + POSIX (one full read when due)"),
        ("_scanner", "scan", "waiter scan"),
    )
    for attribute, method, name in parts:
        part = getattr(source, attribute, None)
        if part is not None and hasattr(part, method):
            setattr(part, method, timed.wrap(name, getattr(part, method)))


def pshm_objects(count: int) -> list[mmap.mmap]:
    maps = []
    for n in range(count):
        path = f"/dev/shm/{PREFIX}{n}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, 4096)
            maps.append(mmap.mmap(fd, 4096))
        finally:
            os.close(fd)
    return maps


def unlink_pshm(count: int) -> None:
    for n in range(count):
        Path(f"/dev/shm/{PREFIX}{n}").unlink(missing_ok=True)


@dataclass
class Parts:
    text: str
    medians: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"medians_ms": self.medians}


def benchmark(workload: Workload, rounds: int, posix_interval: float, pshm: int) -> Parts:
    maps = pshm_objects(pshm)
    try:
        source = SnapshotSource(0.0)
        posix = getattr(source, "_posix", None)
        if posix is not None and hasattr(posix, "interval"):
            posix.interval = posix_interval
        exposition = Exposition(source)
        encoder, content_type = choose_encoder(PROMETHEUS_ACCEPT)
        try:
            for _ in range(2):  # the first readings (cold collectors) are not the steady state
                exposition.scrape(PROMETHEUS_ACCEPT, "gzip")
            timed = Timed()
            instrument(source, timed)
            whole: list[float] = []
            encoding: list[float] = []
            for _ in range(rounds):
                start = cpu()
                reading = source.reading()
                middle = cpu()
                exposition._snapshot_part(reading, encoder, content_type, True)
                end = cpu()
                whole.append(1000.0 * (end - start))
                encoding.append(1000.0 * (end - middle))
        finally:
            source.close()
    finally:
        del maps
        unlink_pshm(pshm)
    lines = [f"{workload.sizes()}, pshm {pshm}, {rounds} rounds, load {loadavg()}", "",
             "| part | CPU ms median | min | max |", "|---|---:|---:|---:|"]  # fmt: skip
    rows = {**timed.parts, "families + encoding (judging, kept lines, gzip)": encoding,
            "whole reading": whole}  # fmt: skip
    for name, values in rows.items():
        lines.append(f"| {name} | {statistics.median(values):.1f} | {min(values):.1f} |"
                     f" {max(values):.1f} |")  # fmt: skip
    median = statistics.median(whole)
    lines += ["", f"at one reading every 5 s: {median / 50.0:.2f} % of a core"]
    return Parts("\n".join(lines), {name: statistics.median(v) for name, v in rows.items()})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_workload_args(parser)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument(
        "--posix-interval",
        type=float,
        default=0.0,
        help="the separate POSIX scan's reuse (trees that have one)",
    )
    parser.add_argument("--pshm", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_root("bench_exporter_parts", "it reads every process's maps"):
        return 2
    private_namespace()
    return run_benchmark(
        "bench_exporter_parts", workload_of(args),
        lambda workload: benchmark(workload, args.rounds, args.posix_interval, args.pshm),
        lambda parts: parts.text, json_too=False,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
