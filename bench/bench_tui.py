"""Times the interactive view on the large workload: launch to first filled frame, steady CPU
and memory of `shmtop` running in tmux, and key press latency while it refreshes."""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import add_workload_args, is_root, run_benchmark, workload_of  # noqa: E402
from bench.proc import loadavg  # noqa: E402
from bench.report import check_table, measure_row, value_row, workload_line  # noqa: E402
from bench.stats import Check, Measure  # noqa: E402
from bench.tui_keys import Keys, press_keys  # noqa: E402
from bench.tui_tmux import (  # noqa: E402
    COLUMNS,
    ROWS,
    Steady,
    Tmux,
    measure_launches,
    measure_steady,
)
from bench.workload import Workload  # noqa: E402


@dataclass
class Results:
    """Everything one run of the benchmark found."""

    workload: dict[str, float]
    sanity: dict[str, Any]
    load: dict[str, str]
    launch: Measure
    steady: Steady
    keys: Keys
    checks: list[Check]

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "sanity": self.sanity,
            "load": self.load,
            "launch_ms": self.launch.as_dict(),
            "steady": self.steady.as_dict(),
            "keys": self.keys.as_dict(),
            "checks": [c.as_dict() for c in self.checks],
        }


# ---- the whole run ----


def benchmark(workload: Workload, args: argparse.Namespace) -> Results:
    """Measure everything against a workload that is up."""
    load = {"before": loadavg()}
    with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as config_home:
        tmux = Tmux(config_home)
        try:
            tmux.start()
            launch, matched_ours = measure_launches(tmux, workload, args.launches)
            steady = measure_steady(tmux, workload, args.cpu_seconds, args.warmup)
        finally:
            tmux.close()
        leftover = sorted(p for p in Path(config_home).rglob("*") if p.name != "tmux.socket")
    load["after tmux"] = loadavg()
    keys = asyncio.run(press_keys(args.presses, seed=args.seed))
    load["after keys"] = loadavg()
    # "Answered" is the first frame that shows the key's effect. The pilot's press +
    # pause also waits for three idle checks and for animations (the tab underline)
    # to end: printed above as a diagnostic, not a latency a user sees.
    frame_max = keys.frame.maximum
    checks = [
        Check("launch to first filled frame, median (s)", seconds(launch.median), 1.5),
        Check("steady CPU, % of one core", steady.cpu_percent, 10.0),
        Check("VmRSS at the end (MiB)", steady.vm_rss_mib, 150.0),
        Check(
            "key to the first frame after its action, max (ms)",
            frame_max,
            100.0,
            note="" if keys.frame.p95 is None else f"p95 {keys.frame.p95:.1f} ms",
        ),
    ]
    ours = len(workload.shm_ids)
    return Results(
        workload={
            **workload.sizes(),
            "launches": args.launches,
            "cpu_seconds": args.cpu_seconds,
            "warmup_seconds": args.warmup,
            "presses": args.presses,
        },
        sanity={
            "first_frames_showing_a_workload_row": sum(matched_ours),
            "first_frames": len(matched_ours),
            "segments_tab_at_end": steady.segments_tab,
            "workload_segments": ours,
            "key_effects_seen": keys.effects_seen,
            "presses": len(keys.latency.samples),
            "files_written_to_config_home": [str(p) for p in leftover],
        },
        load=load,
        launch=launch,
        steady=steady,
        keys=keys,
        checks=checks,
    )


def seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


# ---- reporting ----


def repeats(sizes: Mapping[str, float]) -> str:
    """What the workload line says after the workload: what was repeated, and for how long."""
    return (
        f"{sizes['launches']} launches, CPU window {sizes['cpu_seconds']:g} s after "
        f"{sizes['warmup_seconds']:g} s warm-up, {sizes['presses']} key presses; "
        f"terminal {COLUMNS}x{ROWS}"
    )


def sanity_lines(results: Results) -> list[str]:
    found, steady, keys = results.sanity, results.steady, results.keys
    busy = steady.machine_busy_percent
    ours, frames = found["first_frames_showing_a_workload_row"], found["first_frames"]
    others = " (the others: other users' segments, which sort first by id)" if ours < frames else ""
    lines = [
        f"Sanity: first frames showing a row of the workload's segments {ours} / {frames}"
        f"{others}; Segments tab at the end: {found['segments_tab_at_end'] or 'n/a'} (workload "
        f"{found['workload_segments']}); key effects seen {found['key_effects_seen']} / "
        f"{found['presses']}",
        f"Keys: {keys.overlapped} of {len(keys.latency.samples)} presses overlapped a snapshot "
        f"being applied; {keys.polls} snapshots in {keys.seconds:.1f} s of presses",
        "Load average (1/5/15 min): "
        + ", ".join(f"{when} {value}" for when, value in results.load.items())
        + (
            ""
            if busy is None
            else f"; all CPUs {busy:.0f}% busy during the CPU window (shmtop's share included)"
        ),
    ]
    if found["files_written_to_config_home"]:
        lines.append(f"Preferences written: {found['files_written_to_config_home']}")
    return lines


def key_lines(keys: Keys) -> list[str]:
    """Median and max of each key; and what the press + pause figure includes."""
    if not keys.latency.available:
        return []

    def spread(samples: list[float]) -> str:
        return f"{statistics.median(samples):.0f}/{max(samples):.0f}" if samples else "-"

    per_key = ", ".join(
        f"{key} {spread(samples)} ({spread(keys.frame_by_key.get(key, []))})"
        for key, samples in keys.by_key.items()
    )
    frames = len(keys.frame.samples)
    return [
        f"Per key, median/max ms of press + pause (of key to frame): {per_key}",
        "press + pause includes Textual's pilot waits: three idle checks of at least 20 ms "
        "each, animations (the tab underline) run to the end, and idle means the whole "
        "process, the snapshot thread included; key to frame is from the press to the "
        f"first frame composed after the key's action ({frames} of "
        f"{len(keys.latency.samples)} presses drew one).",
        "",
    ]


def report(results: Results) -> str:
    """The Markdown report."""
    steady, sizes = results.steady, results.workload
    lines = [workload_line(sizes, repeats(sizes)), *sanity_lines(results), ""]
    lines += ["| measure | median | min/p95 | max |", "|---|---:|---:|---:|"]
    lines += [measure_row(results.launch), measure_row(steady.per_second)]
    cpu_name = f"steady CPU over {steady.seconds:.0f} s, % of one core"
    lines += [value_row(cpu_name, steady.cpu_percent)]
    lines += [value_row("VmHWM at the end, MiB", steady.vm_hwm_mib)]
    lines += [value_row("VmRSS at the end, MiB", steady.vm_rss_mib)]
    lines += [measure_row(results.keys.latency), measure_row(results.keys.frame), ""]
    lines += key_lines(results.keys)
    measures = (results.launch, steady.per_second, results.keys.latency)
    lines += [f"{m.name}: not available ({m.error})" for m in measures if m.error]
    lines += check_table(results.checks, target_format="g")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    add_workload_args(parser)
    parser.add_argument("--launches", type=int, default=5, help="timed launches to first frame")
    parser.add_argument("--cpu-seconds", type=float, default=60.0, help="steady CPU window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after the first frame")
    parser.add_argument("--presses", type=int, default=60, help="timed key presses")
    parser.add_argument("--seed", type=int, default=1, help="of the random gaps between presses")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)
    if min(args.segments, args.launches, args.presses) < 1 or args.cpu_seconds < 1:
        parser.error("--segments, --launches, --presses and --cpu-seconds must be >= 1")
    if min(args.children, args.sets, args.queues) < 0 or args.warmup < 0:
        parser.error("the other sizes and --warmup must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_root("bench_tui", "shmtop reads every process's maps"):
        return 2
    try:
        subprocess.run(["tmux", "-V"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        print("bench_tui: needs tmux", file=sys.stderr)
        return 2
    return run_benchmark(
        "bench_tui",
        workload_of(args),
        lambda workload: benchmark(workload, args),
        report,
        json_too=args.json,
        removed="tmux sessions and workload removed",
        unwind_on=(signal.SIGTERM, signal.SIGHUP),  # no tmux server or shmtop may outlive us
    )


if __name__ == "__main__":
    sys.exit(main())
