"""Times a steady System V snapshot with the semaphore count skip on and off (issues 11, 14).

Run as root: `.venv/bin/python -m bench.bench_steady [--repeat N]`. Like bench_oneshot it
moves into a private IPC namespace, builds bench/workload.c and starts `workload -n 4000
-P 1000 -A 8 -S 1000 -K 16 -Q 1000`. Then, in rounds a second apart (a `--watch` at its 1 s
interval, nothing changed), each of three reused Collectors takes a snapshot: the skip on
as shipped; on, vouching for the processes whose syscall files even root cannot read (a
sandbox's own init: SHMTOP_ACTIVITY_VOUCHED, see core/snapshot/activity.py); and off
(SHMTOP_SEM_COUNT_SKIP=0, every GETNCNT/GETZCNT as before). It prints the CPU (all our
threads) and wall medians of a snapshot and of a `--watch` line (snapshot + JSON) for each,
how often the task evidence was complete, `ipcs -a` for the ratio, and the parts: a task
refresh, a read of every count, one syscall file against one semctl.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from statistics import median

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_core import run_process  # noqa: E402
from bench.bench_oneshot import (  # noqa: E402
    IPCS,
    WORKLOAD_ARGS,
    build_workload,
    running_workload,
    watch_line,
)
from bench.harness import is_root  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.snapshot import activity  # noqa: E402
from shmtop.core.snapshot.activity import Activity, TaskActivity  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402

MODES = ("skip on", "skip on, vouched", "skip off")


def closed_pids() -> list[int]:
    """Processes whose syscall files we cannot read (as root: only a sandbox's own)."""
    closed = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/syscall", "rb") as file:
                    file.read()
            except PermissionError:
                closed.append(int(name))
            except OSError:
                pass
    return closed


def make_collector(mode: str, vouched: Sequence[int]) -> Collector:
    os.environ[activity.SKIP_VARIABLE] = "0" if mode == "skip off" else "1"
    os.environ[activity.VOUCHED_VARIABLE] = ",".join(map(str, vouched)) if "vouched" in mode else ""
    return Collector()


def recording(collector: Collector, seen: list[Activity]) -> None:
    """Keep every Activity the collector's task refresh reports in seen."""
    tasks = collector._sem_activity
    if tasks is None:
        return
    refresh = tasks.refresh

    def kept(max_reads: int = 1 << 30) -> Activity:
        report = refresh(max_reads)
        seen.append(report)
        return report

    tasks.refresh = kept  # type: ignore[method-assign]


def cpu_and_wall(call: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    call()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def parts(sets: list[tuple[int, int]], repeat: int) -> list[str]:
    """The pieces: a task refresh, every count read, a syscall file against a semctl."""
    tasks = TaskActivity(semops=True)
    tasks.refresh()
    refresh, every, syscall, semctl = [], [], [], []
    paths = [
        f"/proc/{pid}/task/{pid}/syscall"
        for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
    ]
    readable = []
    for path in paths:
        try:
            with open(path, "rb") as file:
                file.read()
            readable.append(path)
        except OSError:
            pass
    readable = readable[:500]
    for _ in range(repeat):
        time.sleep(0.2)
        refresh.append(cpu_and_wall(tasks.refresh)[1])
        every.append(cpu_and_wall(lambda: native.sem_values_flat(sets))[1])
        start = time.perf_counter()
        for path in readable:
            try:
                with open(path, "rb") as file:
                    file.read()
            except OSError:
                pass  # ended meanwhile
        syscall.append((time.perf_counter() - start) * 1e6 / max(1, len(readable)))
        semid, _ = sets[0]
        start = time.perf_counter()
        for _ in range(2000):
            native.sem_getval(semid, 0)
        semctl.append((time.perf_counter() - start) * 1e6 / 2000)
    return [
        f"task refresh ({tasks.tasks} tasks, semops): median {median(refresh):.1f} ms wall",
        f"every value/count/pid read (sem_values_flat, {sum(n for _, n in sets)} semaphores): "
        f"median {median(every):.1f} ms wall",
        f"one syscall file (open, read, close; from Python): median {median(syscall):.1f} us;"
        f" one semctl GETVAL (from Python): median {median(semctl):.2f} us",
    ]


def measure(repeat: int) -> list[str]:
    vouched = closed_pids()
    collectors = {mode: make_collector(mode, vouched) for mode in MODES}
    seen: dict[str, list[Activity]] = {mode: [] for mode in MODES}
    snapshot_cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    snapshot_wall: dict[str, list[float]] = {mode: [] for mode in MODES}
    line_wall: dict[str, list[float]] = {mode: [] for mode in MODES}
    line_cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    ipcs: list[float] = []
    from shmtop.cli.commands import watch_records

    records = {mode: watch_records() for mode in MODES}
    try:
        for mode, collector in collectors.items():
            collector.snapshot()
            recording(collector, seen[mode])
        time.sleep(1.1)
        with open(os.devnull, "w", encoding="utf-8") as null:
            for mode, collector in collectors.items():
                watch_line(collector, records[mode], null)
            for _ in range(repeat):
                for mode, collector in collectors.items():
                    time.sleep(1.0)
                    cpu, wall = cpu_and_wall(collector.snapshot)
                    snapshot_cpu[mode].append(cpu)
                    snapshot_wall[mode].append(wall)
                for mode, collector in collectors.items():
                    time.sleep(1.0)
                    line = partial(watch_line, collector, records[mode], null)
                    cpu, wall = cpu_and_wall(line)
                    line_cpu[mode].append(cpu)
                    line_wall[mode].append(wall)
                ipcs.append(run_process(IPCS).seconds * 1000)
        sets = [(row.id, row.nsems) for row in native.sem_table()]
    finally:
        for collector in collectors.values():
            collector.close()
    lines = [
        f"Workload: workload {' '.join(WORKLOAD_ARGS)}; repeat {repeat}; closed pids {vouched}",
        "",
        "| mode | snapshot CPU ms | snapshot wall ms | `--watch` line CPU ms | line wall ms"
        " | line / `ipcs -a` | evidence complete |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for mode in MODES:
        reports = seen[mode]
        complete = sum(r.complete for r in reports)
        reasons = sorted({r.why or "" for r in reports if not r.complete} - {""})
        evidence = f"{complete}/{len(reports)}" + (f" ({'; '.join(reasons)})" if reasons else "")
        lines.append(
            f"| {mode} | {median(snapshot_cpu[mode]):.1f} | {median(snapshot_wall[mode]):.1f} | "
            f"{median(line_cpu[mode]):.1f} | {median(line_wall[mode]):.1f} | "
            f"{median(line_wall[mode]) / median(ipcs):.2f} | "
            f"{evidence if reports else 'n/a'} |"
        )
    lines += ["", f"`ipcs -a`: median {median(ipcs):.1f} ms wall", ""]
    lines += parts(sets, repeat)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds (a second apart each)")
    args = parser.parse_args(argv)
    if not is_root("bench_steady", "it makes an IPC namespace and reads every process's /proc"):
        return 2
    for tool in ("cc", "ipcs"):
        if shutil.which(tool) is None:
            print(f"bench_steady: needs {tool}", file=sys.stderr)
            return 2
    native.unshare(native.CLONE_NEWIPC)  # before any thread or child
    signal.signal(signal.SIGTERM, raise_exit)
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
            binary = build_workload(Path(directory))
            with running_workload(binary, WORKLOAD_ARGS):
                lines = measure(args.repeat)
    except KeyboardInterrupt:
        print("bench_steady: interrupted; workload removed", file=sys.stderr)
        return 130
    except SystemExit as stop:
        print("bench_steady: terminated; workload removed", file=sys.stderr)
        return stop.code if isinstance(stop.code, int) else 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
