"""How far issue 11's `list --json` <= 0.5x `lsof -n | grep SYSV` is from the C floor.

Run as root: `.venv/bin/python -m bench.bench_floor [--repeat N]`. On the C workload of
bench_oneshot (in a private IPC namespace, removed at exit, also on Ctrl-C), it times in
interleaved rounds: bench/floor.c (the work of `list --json` written plainly in C, one pass,
no caches: its header says what it reads), `python3 -c pass` (the interpreter alone),
`shmtop list --json`, `ipcs -a` and `lsof -n | grep SYSV`; and it prints the floor's own
parts (processes, shm, sem, msg, posix) from one run; the floor runs twice, reading maps
as text (as lsof does) and through PROCMAP_QUERY (as shmtop does where the kernel has it).
A Python program doing that work cannot take less than the interpreter plus the floor, so
the table ends with that sum against half of lsof.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_core import run_process  # noqa: E402
from bench.bench_oneshot import (  # noqa: E402
    IPCS,
    LIST_JSON,
    LSOF,
    PYTHON_PASS,
    WORKLOAD_ARGS,
    build_workload,
    running_workload,
)
from bench.harness import is_root  # noqa: E402
from bench.report import measure_row  # noqa: E402
from bench.stats import Measure  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402

FLOOR_SOURCE = REPO_ROOT / "bench" / "floor.c"


def build_floor(directory: Path) -> Path:
    binary = directory / "floor"
    subprocess.run(
        ["cc", "-O2", "-Wall", "-o", str(binary), str(FLOOR_SOURCE)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return binary


QUERY_FLOOR = "C floor, PROCMAP_QUERY (FLOOR_PROCMAP_QUERY=1)"


def floor_parts(binary: Path, env: Sequence[str] = ()) -> str:
    """One run of the floor with its parts' times (ms) on stderr."""
    run = subprocess.run(
        ["env", *env, str(binary), "--parts"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    return ", ".join(f"{line} ms" for line in run.stderr.splitlines() if line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each command")
    args = parser.parse_args(argv)
    if not is_root("bench_floor", "it makes an IPC namespace and reads every process's maps"):
        return 2
    for tool in ("cc", "ipcs", "lsof"):
        if shutil.which(tool) is None:
            print(f"bench_floor: needs {tool}", file=sys.stderr)
            return 2
    native.unshare(native.CLONE_NEWIPC)  # before any child: all are born in it
    signal.signal(signal.SIGTERM, raise_exit)
    commands: dict[str, list[str]] = {}
    measures: dict[str, Measure] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-floor-") as directory:
            floor = build_floor(Path(directory))
            binary = build_workload(Path(directory))
            commands = {
                "C floor (bench/floor.c)": [str(floor)],
                QUERY_FLOOR: ["env", "FLOOR_PROCMAP_QUERY=1", str(floor)],
                "`python3 -c pass`": PYTHON_PASS,
                "`shmtop list --json`": LIST_JSON,
                "`ipcs -a`": IPCS,
                "`lsof -n | grep SYSV`": LSOF,
            }
            measures = {name: Measure(name) for name in commands}
            with running_workload(binary, WORKLOAD_ARGS) as ready:
                parts = floor_parts(floor)
                query_parts = floor_parts(floor, ["FLOOR_PROCMAP_QUERY=1"])
                for _ in range(args.repeat):
                    for name, argv_ in commands.items():
                        measures[name].samples.append(run_process(argv_).seconds * 1000)
    except KeyboardInterrupt:
        print("bench_floor: interrupted; workload removed", file=sys.stderr)
        return 130
    except SystemExit as stop:
        print("bench_floor: terminated; workload removed", file=sys.stderr)
        return stop.code if isinstance(stop.code, int) else 1
    median = {name: m.median or 0.0 for name, m in measures.items()}
    floor_ms = median["C floor (bench/floor.c)"]
    python_ms = median["`python3 -c pass`"]
    lsof_ms = median["`lsof -n | grep SYSV`"]
    lines = [
        f"Workload (C children): workload {' '.join(WORKLOAD_ARGS)}; repeat {args.repeat}",
        f"Workload said: {ready}",
        f"Floor's parts (one run): {parts}",
        f"PROCMAP_QUERY floor's parts (one run): {query_parts}",
        "",
        "| measure | median ms | min | max |",
        "|---|---:|---:|---:|",
        *(measure_row(m, spread_named=False) for m in measures.values()),
        "",
        f"C floor / lsof: {floor_ms / lsof_ms:.2f}",
        f"C floor / ipcs -a: {floor_ms / median['`ipcs -a`']:.2f}",
        f"interpreter + C floor: {python_ms + floor_ms:.1f} ms = "
        f"{(python_ms + floor_ms) / lsof_ms:.2f}x lsof (issue 11's limit for list --json: 0.5)",
        f"interpreter + PROCMAP_QUERY floor: {python_ms + median[QUERY_FLOOR]:.1f} ms = "
        f"{(python_ms + median[QUERY_FLOOR]) / lsof_ms:.2f}x lsof",
        f"`shmtop list --json` / lsof: {median['`shmtop list --json`'] / lsof_ms:.2f}",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
