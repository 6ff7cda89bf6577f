"""The steady System V snapshot of this tree against another checkout's, interleaved (issues
11 and 14): `shmtop record` at 1 s and steady `--watch` lines, on the large C workload.

Run as root: `.venv/bin/python -m bench.bench_steady_ab --base DIR [--rounds 3]
[--seconds 20]`. DIR is another checkout whose native module is built in place (as
bench_oneshot_ab says). In a private IPC namespace with bench_oneshot's C workload (`workload
-n 4000 -P 1000 -A 8 -S 1000 -K 16 -Q 1000`), each round runs, for each tree in turn (each by
PYTHONPATH, on this interpreter, from /): `shmtop record FILE --interval 1` for --seconds after
its first frame (its CPU, utime + stime, % of one core: issue 14's figure), then one process
of 15 steady `--watch` lines a second apart (bench_oneshot.watch_line's work: the CPU and wall
time of each), then `ipcs -a` once (issue 11's ratio is a line's wall time over it). Prints
the medians over the rounds. The workload is removed, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import compileall
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_core import run_process  # noqa: E402
from bench.bench_oneshot import IPCS, WORKLOAD_ARGS, build_workload, running_workload  # noqa: E402
from bench.bench_record import TICKS, frames  # noqa: E402
from bench.harness import is_root  # noqa: E402
from bench.proc import cpu_ticks  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402

# Steady --watch lines a second apart, as bench_oneshot.watch_line makes them (a tree without
# output.emit_encoded writes them as it did then); prints "cpu wall" ms of each.
WATCH_LINES = r"""
import os, sys, time
from shmtop.core.snapshot.collect import Collector
from shmtop.cli import commands, output
write = getattr(output, "emit_encoded", output.emit_streamed)
collector = Collector()
records = commands.watch_records()
everything = commands.build_parser().parse_args(["list", "--json"])
commands.check_listing(everything, commands.KINDS)
with open(os.devnull, "w") as null:
    for index in range(int(sys.argv[1]) + 2):
        cpu, wall = time.process_time(), time.perf_counter()
        snapshot = collector.snapshot()
        chosen = commands.choose(snapshot, everything, commands.KINDS)
        write(*records.records(snapshot, chosen), null)
        if index >= 2:  # the first and the one after (a scan of the attach times' second)
            print((time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000)
        time.sleep(1.0)
collector.close()
"""


def recorder_cpu(tree: Path, seconds: float, directory: Path) -> float:
    """% of one core `shmtop record` of tree takes over `seconds` after its first frame."""
    path = directory / f"ab-{os.getpid()}-{time.monotonic_ns()}.rec"
    recorder = subprocess.Popen(
        [sys.executable, "-m", "shmtop", "record", str(path), "--interval", "1"],
        env={**os.environ, "PYTHONPATH": str(tree)}, cwd="/",
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while frames(path) < 1:
            if recorder.poll() is not None:
                raise RuntimeError(f"shmtop record exited {recorder.returncode}")
            time.sleep(0.05)
        ticks, begun = cpu_ticks(recorder.pid), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu_ticks(recorder.pid) - ticks, time.monotonic() - begun
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
        path.unlink(missing_ok=True)
    return 100.0 * used / TICKS / elapsed


def watch_lines(tree: Path, lines: int) -> list[tuple[float, float]]:
    done = subprocess.run(
        [sys.executable, "-c", WATCH_LINES, str(lines)], env={**os.environ,
        "PYTHONPATH": str(tree)}, cwd="/", check=True, capture_output=True, text=True,
    )  # fmt: skip
    return [(float(cpu), float(wall)) for cpu, wall in map(str.split, done.stdout.splitlines())]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (each tree once a round)")
    parser.add_argument("--seconds", type=float, default=20.0, help="recording time a round")
    args = parser.parse_args(argv)
    if not is_root("bench_steady_ab", "it makes an IPC namespace and reads every process's maps"):
        return 2
    trees = {f"base ({args.base.name})": args.base.resolve(), "this tree": REPO_ROOT}
    for tree in trees.values():  # as pip leaves an install (see bench_oneshot)
        compileall.compile_dir(tree / "shmtop", quiet=1)
    native.unshare(native.CLONE_NEWIPC)  # before any thread or child
    signal.signal(signal.SIGTERM, raise_exit)
    recorder: dict[str, list[float]] = {name: [] for name in trees}
    line_cpu: dict[str, list[float]] = {name: [] for name in trees}
    line_wall: dict[str, list[float]] = {name: [] for name in trees}
    ipcs: list[float] = []
    loads: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
            binary = build_workload(Path(directory))
            with running_workload(binary, WORKLOAD_ARGS):
                for _ in range(args.rounds):
                    for name, tree in trees.items():
                        recorder[name].append(recorder_cpu(tree, args.seconds, Path(directory)))
                        for cpu, wall in watch_lines(tree, 15):
                            line_cpu[name].append(cpu)
                            line_wall[name].append(wall)
                        ipcs.append(run_process(IPCS).seconds * 1000)
                        loads.append(os.getloadavg()[0])
    except KeyboardInterrupt:
        print("bench_steady_ab: interrupted; workload removed", file=sys.stderr)
        return 130
    ipcs_median = statistics.median(ipcs)
    print(f"Workload: workload {' '.join(WORKLOAD_ARGS)}; {args.rounds} rounds; load average "
          f"{min(loads):.1f}-{max(loads):.1f}")  # fmt: skip
    print()
    print("| tree | recorder CPU, % of a core (each round) | `--watch` line CPU ms | line wall ms"
          " | line wall / `ipcs -a` |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for name in trees:
        rounds = " / ".join(f"{value:.2f}" for value in recorder[name])
        wall = statistics.median(line_wall[name])
        print(f"| {name} | {statistics.median(recorder[name]):.2f} ({rounds}) | "
              f"{statistics.median(line_cpu[name]):.1f} | {wall:.1f} | "
              f"{wall / ipcs_median:.2f} |")  # fmt: skip
    print()
    print(f"`ipcs -a`: median {ipcs_median:.1f} ms wall ({len(ipcs)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
