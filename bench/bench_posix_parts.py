"""Where the full snapshot's time goes, on bench_posix_full's workload (issue 12).

Run as root: `sudo .venv/bin/python -m bench.bench_posix_parts [--repeat N] [--profile]`
(the workload's shape is bench_posix_full's default one).
It sets up what bench_posix_full does (private IPC, mount and PID namespaces, a fresh
/dev/shm and /dev/mqueue, bench/workload.c with 1000 POSIX objects and 100 named
semaphores), then takes first and steady full snapshots (FullCollector) with the functions
below wrapped: each call's thread CPU time (time.thread_time of the thread that ran it, so
a worker's reads count once) is summed by name. Prints the median a snapshot of each, over
--repeat rounds of each kind. Nested wrapped calls count in both (a name's figure is
inclusive); "worker: NAME" is a worker thread's whole job. --profile also prints
cProfile's top functions of one first and one steady snapshot (main thread only). Other
modes, each instead of the above: --micro (the native reads alone, on every process),
--phases (a first snapshot's process CPU: make the collector, snapshot, close, drop, then
gc.collect), --loop KIND (only --repeat snapshots of that kind: for `perf record -g`),
--script FILE (run FILE with runpy on the running workload: a probe of one's own).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_oneshot import WORKLOAD_ARGS, build_workload, running_workload  # noqa: E402
from bench.bench_posix_full import cpu_seconds, private_mounts  # noqa: E402
from bench.harness import is_root  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.posix import carry, collect, content, full, mqueue  # noqa: E402
from shmtop.core.snapshot import activity, scan_parts, workers  # noqa: E402
from shmtop.core.snapshot import collect as sysv_collect  # noqa: E402

_SPENT: dict[str, float] = defaultdict(float)
_CALLS: dict[str, int] = defaultdict(int)


def _wrap(owner: Any, name: str, label: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            _SPENT[label] += time.thread_time() - start
            _CALLS[label] += 1

    static = isinstance(vars(owner).get(name), staticmethod)
    setattr(owner, name, staticmethod(timed) if static else timed)


def instrument() -> None:
    for owner, name in (
        (native, "scan_shared_maps"), (native, "scan_fds"), (native, "list_files"),
        (native, "process_facts"), (native, "ipc_namespaces"),
        (native, "read_named_semaphores"), (native, "scan_maps"), (native, "_read_shared"),
        (native, "_named"), (native, "_rows"), (sysv_collect.Collector, "_read_semaphore_values"),
        (sysv_collect.Collector, "_read_segment_rows"), (sysv_collect.Collector, "_build_segments"),
        (sysv_collect.Collector, "_lookup_processes"), (sysv_collect.Collector, "_sort_mappings"),
        (content, "semaphore_state"), (collect, "_owners"), (collect, "all_pids"),
        (collect.PosixCollector, "_build"), (collect.PosixCollector, "_processes"),
        (collect.PosixCollector, "_objects"), (collect.PosixCollector, "_mapped"),
        (collect.PosixCollector, "_list_shm_dir"), (collect.PosixCollector, "plan"),
        (collect.PosixCollector, "_object"),
        (mqueue, "take_snapshot"), (activity.TaskActivity, "refresh"),
        (full, "_parents"), (full, "_read"), (full.FullCollector, "_fd_rows"),
        (full.FullCollector, "_file_rows"), (full._SteadyRead, "__call__"),
        (carry.CarriedHalf, "merged"), (carry, "_grouped"),
        (sysv_collect.Collector, "_snapshot"), (scan_parts, "part_of"),
        (full, "_foreign_shm_devices"), (full.FullCollector, "_snapshot"),
        (full.FullCollector, "close"), (full.FullCollector, "__init__"),
    ):  # fmt: skip
        if hasattr(owner, name):
            # Modules that imported the name keep theirs: patch where it is looked up too.
            _wrap(owner, name, f"{getattr(owner, '__name__', owner)}.{name}")
    original_run = workers.Task.run

    def run(self: Any, call: Callable[..., Any], args: tuple[Any, ...]) -> None:
        start = time.thread_time()
        try:
            original_run(self, call, args)
        finally:
            label = getattr(call, "__qualname__", type(call).__qualname__)
            _SPENT[f"worker: {label}"] += time.thread_time() - start

    workers.Task.run = run  # type: ignore[method-assign]
    # full.py imported all_pids from collect by name.
    full.all_pids = collect.all_pids  # type: ignore[attr-defined]


def rounds(call: Callable[[], object], repeat: int) -> tuple[list[dict[str, float]], list[float]]:
    per: list[dict[str, float]] = []
    cpu: list[float] = []
    for _ in range(repeat):
        _SPENT.clear()
        before = cpu_seconds()
        call()
        cpu.append((cpu_seconds() - before) * 1000)
        per.append({k: v * 1000 for k, v in _SPENT.items()})
    return per, cpu


def show(title: str, per: list[dict[str, float]], cpu: list[float]) -> None:
    print(f"\n{title}: process CPU median {statistics.median(cpu):.1f} ms "
          f"(min {min(cpu):.1f})")  # fmt: skip
    names = sorted({k for d in per for k in d}, key=lambda k: -statistics.median(
        [d.get(k, 0.0) for d in per]))  # fmt: skip
    for name in names:
        values = [d.get(name, 0.0) for d in per]
        print(f"  {statistics.median(values):8.2f} ms  {name}")


def profile(call: Callable[[], object], title: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    print(f"\n--- cProfile, {title} (main thread) ---")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def measure(repeat: int, with_profile: bool) -> None:
    def first() -> None:
        with full.FullCollector() as collector:
            collector.snapshot()

    def first_sysv() -> None:
        collector = sysv_collect.Collector()
        try:
            collector.snapshot()
        finally:
            collector.close()

    steady = full.FullCollector()
    steady_sysv = sysv_collect.Collector()
    try:
        steady.snapshot()
        steady_sysv.snapshot()
        time.sleep(1.1)
        steady.snapshot()
        steady_sysv.snapshot()
        show("first System V-only snapshot", *rounds(first_sysv, repeat))
        show("first full snapshot", *rounds(first, repeat))
        show("steady System V-only snapshot", *rounds(steady_sysv.snapshot, repeat))
        show("steady full snapshot", *rounds(steady.snapshot, repeat))
        if with_profile:
            profile(first, "first full snapshot")
            profile(steady.snapshot, "steady full snapshot")
    finally:
        steady.close()
        steady_sysv.close()


def phases(repeat: int) -> None:
    """A first snapshot's process CPU by phase: make the collector, snapshot, close, drop."""
    import gc

    for title, make in (("System V", sysv_collect.Collector), ("full", full.FullCollector)):
        spent: dict[str, list[float]] = defaultdict(list)
        for _ in range(repeat):
            gc.collect()
            marks = [cpu_seconds()]
            collector = make()
            marks.append(cpu_seconds())
            snapshot = collector.snapshot()
            marks.append(cpu_seconds())
            collector.close()
            marks.append(cpu_seconds())
            del snapshot, collector
            marks.append(cpu_seconds())
            gc.collect()
            marks.append(cpu_seconds())
            for n, name in enumerate(("make", "snapshot", "close", "drop", "gc.collect")):
                spent[name].append((marks[n + 1] - marks[n]) * 1000)
        print(title + ": " + ", ".join(
            f"{name} {statistics.median(v):.1f}" for name, v in spent.items()))  # fmt: skip


def loop(kind: str, repeat: int) -> None:
    make = full.FullCollector if kind.endswith("full") else sysv_collect.Collector
    if kind.startswith("first"):
        for _ in range(repeat):
            collector = make()
            collector.snapshot()
            collector.close()
        return
    collector = make()
    collector.snapshot()
    time.sleep(1.1)
    collector.snapshot()
    for _ in range(repeat):
        collector.snapshot()
    collector.close()


def micro(repeat: int) -> None:
    """The native reads alone, on every process (medians of thread CPU, ms)."""
    pids = collect.all_pids()
    plan = collect.PosixCollector().plan()
    devices = list(plan.mounts)
    calls: dict[str, Callable[[], object]] = {
        "scan_maps (System V)": lambda: native.scan_maps(pids),
        "scan_shared_maps (both, uids)": lambda: native.scan_shared_maps(
            pids, devices, any_anonymous=True, capacity=(12000, 12000)
        ),
        "scan_file_maps (POSIX)": lambda: native.scan_file_maps(
            pids, devices, any_anonymous=True, capacity=12000
        ),
        "scan_fds": lambda: native.scan_fds(pids, devices, capacity=4000),
        "process_facts (titles)": lambda: native.process_facts(pids, titles=True),
        "ipc_namespaces": lambda: native.ipc_namespaces(pids),
        "_owners": lambda: collect._owners(pids),
        "list_files": lambda: native.list_files("/dev/shm", capacity=2000),
        "all_pids": collect.all_pids,
    }
    for name, call in calls.items():
        spent = []
        for _ in range(repeat):
            start = time.thread_time()
            call()
            spent.append((time.thread_time() - start) * 1000)
        print(f"  {statistics.median(spent):8.2f} ms  {name}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--micro", action="store_true", help="the native reads alone")
    parser.add_argument("--phases", action="store_true", help="a first snapshot's phases")
    parser.add_argument(
        "--loop",
        choices=("first-full", "first-sysv", "steady-full", "steady-sysv"),
        help="only take --repeat such snapshots (for perf record)",
    )
    parser.add_argument("--script", help="run this file (runpy) on the workload instead")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not is_root("bench_posix_parts", "it makes IPC and mount namespaces and mounts"):
        return 2
    if not args.inner:
        command = ["unshare", "--ipc", "--mount", "--propagation", "private", "--pid",
                   "--kill-child=SIGTERM", "--mount-proc", sys.executable,
                   str(Path(__file__).resolve()), "--inner",
                   *(sys.argv[1:] if argv is None else argv)]  # fmt: skip
        sys.stdout.flush()
        os.execvp(command[0], command)
    private_mounts()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, raise_exit)
    if not (args.micro or args.phases or args.loop or args.script):
        instrument()
    posix_args = ("--pshm", "1000", "--pshm-maps", "8", "--psem", "100")
    with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
        binary = build_workload(Path(directory))
        with running_workload(binary, (*WORKLOAD_ARGS, *posix_args)) as ready:
            print(ready)
            if args.script:
                import runpy

                runpy.run_path(args.script)
            elif args.loop:
                loop(args.loop, args.repeat)
            elif args.phases:
                phases(args.repeat)
            elif args.micro:
                micro(args.repeat)
            else:
                measure(args.repeat, args.profile)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
