"""CPU of the view's refresh feed on the large workload: System V + POSIX as the poll
worker asks them, before (a Collector and a PosixSource, each reading every process on its
own) and after (tui/full_feed.py: one FullCollector read a refresh).

`sudo .venv/bin/python bench/bench_tui_feed.py [--rounds N] [--pshm K]` (in an IPC
namespace of its own). Each refresh: source.snapshot(), then posix.snapshot(shown), as
app.collect() calls them, with a POSIX tab shown (a POSIX scan each refresh) and without
(the view reused for IDLE_SECONDS: System V alone). CPU ms of this process (every thread),
medians over N steady refreshes; feeds interleaved round by round (a loaded machine moves
both alike). --pshm K: K /dev/shm objects mapped by this process (unlinked at the end).
"""

from __future__ import annotations

import argparse
import functools
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

from bench.bench_exporter_parts import pshm_objects, unlink_pshm  # noqa: E402
from bench.bench_remove import private_namespace  # noqa: E402
from bench.harness import add_workload_args, is_root, run_benchmark, workload_of  # noqa: E402
from bench.proc import loadavg  # noqa: E402
from bench.workload import Workload  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402
from shmtop.tui.full_feed import FullFeed  # noqa: E402
from shmtop.tui.posix_source import PosixSource  # noqa: E402

Refresh = Callable[[bool], object]


@dataclass
class Results:
    text: str
    medians: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"medians_ms": self.medians}


def cpu_ms(call: Callable[[], object]) -> float:
    start = time.process_time()
    call()
    return 1000.0 * (time.process_time() - start)


def benchmark(workload: Workload, rounds: int, pshm: int) -> Results:
    maps = pshm_objects(pshm)
    collector, posix, feed = Collector(), PosixSource(), FullFeed()
    try:
        feeds: dict[str, Refresh] = {
            "before (Collector + PosixSource)":
                lambda shown: (collector.snapshot(), posix.snapshot(shown)),
            "after (FullFeed)":
                lambda shown: (feed.system_v.snapshot(), feed.posix.snapshot(shown)),
        }  # fmt: skip
        times: dict[str, list[float]] = {}
        for shown in (True, False):
            for refresh in feeds.values():  # first snapshots; then shown known to the feed
                refresh(shown)
                refresh(shown)
            for _ in range(rounds):
                for name, refresh in feeds.items():
                    label = f"{name}, POSIX tab {'shown' if shown else 'not shown'}"
                    times.setdefault(label, []).append(cpu_ms(functools.partial(refresh, shown)))
    finally:
        collector.close()
        posix.close()
        feed.close()
        del maps
        unlink_pshm(pshm)
    lines = [f"{workload.sizes()}, pshm {pshm}, {rounds} rounds, load {loadavg()}", "",
             "| refresh | CPU ms median | min | max |", "|---|---:|---:|---:|"]  # fmt: skip
    for label, values in times.items():
        lines.append(f"| {label} | {statistics.median(values):.1f} | {min(values):.1f} |"
                     f" {max(values):.1f} |")  # fmt: skip
    return Results("\n".join(lines), {k: statistics.median(v) for k, v in times.items()})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_workload_args(parser)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pshm", type=int, default=100)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_root("bench_tui_feed", "it reads every process's maps"):
        return 2
    private_namespace()
    return run_benchmark(
        "bench_tui_feed", workload_of(args),
        lambda workload: benchmark(workload, args.rounds, args.pshm),
        lambda results: results.text, json_too=False,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
