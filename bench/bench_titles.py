"""Times what reading process titles adds to the facts loop, on the large workload's children."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import add_workload_args, is_root, run_benchmark, workload_of  # noqa: E402
from bench.stats import time_calls  # noqa: E402
from bench.workload import Workload  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.snapshot.procs import SETTLE_SECONDS  # noqa: E402


@dataclass(frozen=True)
class TitleCosts:
    """Minimum and median ms of one native.process_facts call over every child, three ways."""

    processes: int
    rows: dict[str, tuple[float, float]]

    def as_dict(self) -> dict[str, Any]:
        return {"processes": self.processes, "ms_min_median": self.rows}


def measure(workload: Workload, repeat: int) -> TitleCosts:
    pids = sorted(workload.child_pids)
    time.sleep(SETTLE_SECONDS)  # as a collector would see them: settled
    known = {pid: fact.start for pid, fact in zip(pids, native.process_facts(pids), strict=True)}
    calls = {
        "facts (name, user, start time)": lambda: native.process_facts(pids),
        "facts + titles (every process new)": lambda: native.process_facts(pids, titles=True),
        "facts + titles (every title known)": lambda: native.process_facts(
            pids, titles=True, known=known
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(3):  # interleaved, so a burst of other load hits all three alike
        for name, call in calls.items():
            samples[name] += time_calls(call, repeat)
    rows = {name: (min(s), sorted(s)[len(s) // 2]) for name, s in samples.items()}
    return TitleCosts(len(pids), rows)


def report(costs: TitleCosts) -> str:
    lines = [f"native.process_facts over {costs.processes} processes", "",
             "| call | min ms | median ms |", "|---|---:|---:|"]  # fmt: skip
    lines += [f"| {name} | {low:.2f} | {mid:.2f} |" for name, (low, mid) in costs.rows.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_workload_args(parser)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not is_root("bench_titles", "the workload's children attach segments"):
        return 1
    return run_benchmark(
        "bench_titles", workload_of(args), lambda w: measure(w, args.repeat), report,
        json_too=args.json,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
