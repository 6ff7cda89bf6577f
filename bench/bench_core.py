"""Times shmtop's snapshot and `shmtop list` against ipcs and lsof on the large workload."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import add_workload_args, is_root, run_benchmark, workload_of  # noqa: E402
from bench.report import check_table, measure_row, workload_line  # noqa: E402
from bench.stats import Check, Measure, time_calls  # noqa: E402
from bench.workload import Workload  # noqa: E402
from shmtop.core.model import Snapshot  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402

SHMTOP_LIST = [sys.executable, "-m", "shmtop", "list", "--json"]
IPCS = ["ipcs", "-a"]
LSOF = ["bash", "-c", "lsof -n | grep SYSV"]
KIB_PER_MIB = 1024
MS_FIGURES = ("median", "min", "max")  # a measure's figures in the JSON, each key + "_ms"


@dataclass(frozen=True)
class Run:
    """One finished child process."""

    seconds: float
    returncode: int
    maxrss_kib: int
    stderr_first_line: str


@dataclass
class Results:
    """Everything one run of the benchmark found."""

    workload: dict[str, int]
    sanity: dict[str, Any]
    measures: list[Measure]
    peak_rss_mib: float | None
    checks: list[Check]

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "sanity": self.sanity,
            "measures": {m.name: m.as_dict(MS_FIGURES, suffix="_ms") for m in self.measures},
            "peak_rss_mib": self.peak_rss_mib,
            "checks": [c.as_dict(with_note=False) for c in self.checks],
        }


# ---- measuring ----


def first_snapshot() -> Snapshot:
    """A snapshot from a collector that has seen nothing yet."""
    collector = Collector()
    try:
        return collector.snapshot()
    finally:
        collector.close()


def measure_steady(repeat: int) -> tuple[Measure, Snapshot]:
    """Snapshots of one warmed-up collector with nothing changed; also the warm-up snapshot.

    Attach times have 1 s resolution, so the collector trusts its last maps scan only
    once that scan began in a later second than the last attach: the warm-up is two
    snapshots a second apart, as a TUI refreshing every second would take them.
    """
    collector = Collector()
    try:
        collector.snapshot()
        time.sleep(1.0)
        warm = collector.snapshot()
        return Measure("steady snapshot", time_calls(collector.snapshot, repeat)), warm
    finally:
        collector.close()


# GNU time: its %M is the peak RSS of the command alone. wait4's ru_maxrss of a child of
# this process is not: the kernel carries the parent's high-water mark over fork and exec,
# so a command spawned by a benchmark holding snapshots "peaks" at the benchmark's size.
GNU_TIME = Path("/usr/bin/time")


def run_process(argv: Sequence[str], *, peak_rss: bool = False) -> Run:
    """Run argv with stdout to /dev/null, timing it and reading its peak RSS with wait4, or
    with peak_rss under GNU time (where there is one), whose figure is the command's own."""
    with tempfile.TemporaryFile() as stderr, tempfile.NamedTemporaryFile("r") as peak:
        measured = GNU_TIME.exists() and peak_rss
        if measured:
            argv = [str(GNU_TIME), "-f", "%M", "-o", peak.name, *argv]
        start = time.perf_counter()
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, cwd=REPO_ROOT
        )
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        first_line = stderr.readline().decode(errors="replace").strip()
        maxrss = usage.ru_maxrss
        if measured:
            figures = peak.read().split()  # "Command exited with non-zero status N" first
            maxrss = int(figures[-1]) if figures else maxrss
    return Run(seconds, child.returncode, maxrss, first_line)


def measure_command(
    name: str, argv: Sequence[str], repeat: int, *, peak_rss: bool = False
) -> tuple[Measure, list[int]]:
    """Time argv `repeat` times; stops at the first non-zero exit. Also each run's RSS in KiB
    (with peak_rss, the command's own: see GNU_TIME)."""
    measure = Measure(name)
    rss: list[int] = []
    for _ in range(repeat):
        run = run_process(argv, peak_rss=peak_rss)
        if run.returncode != 0:
            measure.error = f"exit {run.returncode}: {run.stderr_first_line or '(no stderr)'}"
            return measure, []
        measure.samples.append(run.seconds * 1000)
        rss.append(run.maxrss_kib)
    return measure, rss


def ratio(numerator: Measure, denominator: Measure) -> float | None:
    top, bottom = numerator.median, denominator.median
    if top is None or bottom is None or bottom == 0:
        return None
    return top / bottom


# ---- the sanity line ----


def sanity(snapshot: Snapshot, workload: Workload) -> dict[str, Any]:
    """Attachments the snapshot found on the workload's segments, against what it made."""
    ours = set(workload.shm_ids)
    segments = [s for s in snapshot.segments if s.id in ours]
    blind = snapshot.blind_spots
    return {
        "segments_found": len(segments),
        "segments_expected": len(workload.shm_ids),
        "attachments_found": sum(len(s.attachments) for s in segments),
        "attachments_expected": workload.children * workload.attaches_per_child,
        "nattch_total": sum(s.nattch for s in segments),
        "blind_spots": {
            "processes_scanned": blind.processes_scanned,
            "uninspected": dict(blind.uninspected),
            "attachments_missing": blind.attachments_missing,
            "other_namespace_mappings": blind.other_namespace_mappings,
        },
    }


# ---- the whole run ----


def benchmark(workload: Workload, repeat: int) -> Results:
    """Measure everything against a workload that is up."""
    first = Measure("first full snapshot", time_calls(first_snapshot, repeat))
    steady, warm = measure_steady(repeat)
    shmtop_list, rss_kib = measure_command("shmtop list --json", SHMTOP_LIST, repeat, peak_rss=True)
    ipcs, _ = measure_command("ipcs -a", IPCS, repeat)
    lsof, _ = measure_command("lsof -n | grep SYSV", LSOF, repeat)
    peak_rss_mib = max(rss_kib) / KIB_PER_MIB if rss_kib else None
    checks = [
        Check("first full snapshot / ipcs -a", ratio(first, ipcs), 3.0),
        Check("steady snapshot / ipcs -a", ratio(steady, ipcs), 0.5),
        Check("shmtop list --json / lsof", ratio(shmtop_list, lsof), 0.7),
        Check("peak RSS of shmtop list (MiB)", peak_rss_mib, 60.0),
    ]
    return Results(
        workload={**workload.sizes(), "repeat": repeat},
        sanity=sanity(warm, workload),
        measures=[first, steady, shmtop_list, ipcs, lsof],
        peak_rss_mib=peak_rss_mib,
        checks=checks,
    )


# ---- reporting ----


def sanity_lines(found: dict[str, Any]) -> list[str]:
    blind = found["blind_spots"]
    return [
        f"Sanity: attachments found {found['attachments_found']} / expected "
        f"{found['attachments_expected']} (nattch {found['nattch_total']}), segments "
        f"{found['segments_found']} / {found['segments_expected']}",
        "Blind spots: " + ", ".join(f"{key}={value}" for key, value in blind.items()),
    ]


def report(results: Results) -> str:
    """The Markdown report."""
    sizes = results.workload
    lines = [workload_line(sizes, f"repeat {sizes['repeat']}"), *sanity_lines(results.sanity), ""]
    lines += ["| measure | median ms | min | max |", "|---|---:|---:|---:|"]
    lines += [measure_row(m, spread_named=False) for m in results.measures]
    lines += [""]
    lines += [f"{m.name}: not available ({m.error})" for m in results.measures if m.error]
    rss = results.peak_rss_mib
    lines += [f"Peak RSS of shmtop list: {'n/a' if rss is None else f'{rss:.1f} MiB'}", ""]
    lines += check_table(results.checks)
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    add_workload_args(parser)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each measure")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)
    if min(args.segments, args.repeat) < 1 or min(args.children, args.sets, args.queues) < 0:
        parser.error("--segments and --repeat must be >= 1, the other sizes >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_root("bench_core", "it reads every process's maps"):
        return 2
    return run_benchmark(
        "bench_core",
        workload_of(args),
        lambda workload: benchmark(workload, args.repeat),
        report,
        json_too=args.json,
    )


if __name__ == "__main__":
    sys.exit(main())
