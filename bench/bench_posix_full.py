"""Cost of the full snapshot (System V + POSIX shm + named semaphores + queues) against the
System V-only one, on issue 12's shape: the large workload plus POSIX objects.

Run as root: `sudo .venv/bin/python -m bench.bench_posix_full [--repeat N] [--pshm-maps M]`.
The script runs itself again under `unshare --ipc --mount --pid --fork --mount-proc`, as
PID 1 of namespaces of its own, with a fresh tmpfs on /dev/shm and a fresh mqueue fs on
/dev/mqueue (the namespace's, empty): the workload's objects live there alone, every scan
sees the workload's processes only (not the other jobs of a shared machine, whose number
would move every figure), and everything goes with the namespaces when the script exits,
even if it is killed. It builds bench/workload.c with
`cc -O2`, starts `workload -n 4000 -P 1000 -A 8 -S 1000 -K 16 -Q 1000 --pshm 1000
--pshm-maps M --psem 100` (1000 C children that attach 8 segments, map M of the 1000 POSIX
objects, every second read-only, and open one of the 100 named semaphores), and measures in
interleaved rounds:

- the System V-only snapshot (shmtop.core.snapshot Collector: what `shmtop list --json`
  takes), first (a new Collector) and steady (a reused one);
- the full snapshot: the same plus POSIX shm, named semaphores and queues, as `shmtop list`
  takes it (core/posix/full.FullCollector: one read of every process's maps for both
  kinds, one of its fds for shm and queues), first (a new one) and steady (a reused one);
- for scale, a first POSIX shm + psem scan alone (a new PosixCollector: `list pshm`).

Prints medians of wall time and of CPU time (user + system of this process's threads, which
other jobs on the machine move less), the ratios and PASS/MISS against issue 12's figures
(first <= 1.3x, steady <= 1.2x), then stops the workload (it unlinks what it made).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_oneshot import WORKLOAD_ARGS, build_workload, running_workload  # noqa: E402
from bench.harness import is_root  # noqa: E402
from bench.report import check_table  # noqa: E402
from bench.stats import Check  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.model import Snapshot  # noqa: E402
from shmtop.core.posix.collect import PosixCollector  # noqa: E402
from shmtop.core.posix.full import FullCollector  # noqa: E402
from shmtop.core.posix.model import PosixKind, PosixSnapshot  # noqa: E402
from shmtop.core.posix.mqueue import MqSnapshot  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402

FIRST_LIMIT, STEADY_LIMIT = 1.3, 1.2


def in_namespaces(argv: Sequence[str]) -> None:
    """Become unshare running this script again, with --inner, as PID 1 of new IPC, mount
    and PID namespaces. A SIGTERM or Ctrl-C that ends unshare sends the script SIGTERM
    (--kill-child), which unwinds it: the workload is stopped; and should the script die
    anyway, every process of the namespace dies with it, its objects with the namespaces."""
    command = ["unshare", "--ipc", "--mount", "--propagation", "private", "--pid",
               "--kill-child=SIGTERM", "--mount-proc", sys.executable,
               str(Path(__file__).resolve()), "--inner", *argv]  # fmt: skip
    sys.stdout.flush()
    os.execvp(command[0], command)


def private_mounts() -> None:
    """In our mount namespace (private mounts): a fresh /dev/shm and /dev/mqueue."""
    native.mount("bench", "/dev/shm", "tmpfs")
    os.chmod("/dev/shm", 0o1777)
    os.makedirs("/dev/mqueue", exist_ok=True)
    native.mount("mqueue", "/dev/mqueue", "mqueue")  # this IPC namespace's queues


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process
    return usage.ru_utime + usage.ru_stime


@dataclass
class Figure:
    """Wall and CPU milliseconds of one measure, a sample a round."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def time(self, call: Callable[[], object]) -> None:
        cpu, wall = cpu_seconds(), time.perf_counter()
        call()
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((cpu_seconds() - cpu) * 1000)


class Full:
    """The full snapshot: System V, POSIX shm and semaphores, POSIX queues, from one read of
    every process's maps and fds (core/posix/full.py, what `shmtop list` takes)."""

    def __init__(self) -> None:
        self.collector = FullCollector()

    def snapshot(self) -> tuple[Snapshot, PosixSnapshot, MqSnapshot]:
        return self.collector.snapshot()

    def close(self) -> None:
        self.collector.close()


def first_sysv() -> None:
    collector = Collector()
    try:
        collector.snapshot()
    finally:
        collector.close()


def first_full() -> None:
    full = Full()
    try:
        full.snapshot()
    finally:
        full.close()


def first_posix_only() -> None:
    with PosixCollector() as collector:
        collector.snapshot()


def sanity(full: Full) -> str:
    sysv, posix, queues = full.snapshot()
    shm = [o for o in posix.objects if o.kind is PosixKind.SHM]
    sem = [o for o in posix.objects if o.kind is PosixKind.SEM]
    return (
        f"segments={len(sysv.segments)}"
        f" attachments={sum(len(s.attachments) for s in sysv.segments)}"
        f" pshm={len(shm)} pshm_mappings={sum(len(o.mappings) for o in shm)}"
        f" psem={len(sem)} psem_mappings={sum(len(o.mappings) for o in sem)}"
        f" pmq={len(queues.queues)} processes={posix.scanned} reader={posix.reader}"
        f" same_as_separate_scans={same_as_separate(sysv, posix)}"
    )


def same_as_separate(sysv: Snapshot, posix: PosixSnapshot) -> bool:
    """Whether the shared scan found what a Collector and a PosixCollector of their own find
    (the workload is idle: the same attachments and mappings)."""
    alone = Collector()
    try:
        segments = alone.snapshot().segments
    finally:
        alone.close()
    with PosixCollector() as collector:
        objects = collector.snapshot().objects
    return [s.attachments for s in segments] == [s.attachments for s in sysv.segments] and [
        (o.inode, o.mappings, o.holders, o.semaphore) for o in objects
    ] == [(o.inode, o.mappings, o.holders, o.semaphore) for o in posix.objects]


def measure(repeat: int) -> tuple[dict[str, Figure], str]:
    figures = {name: Figure() for name in (
        "first System V-only snapshot (new Collector)",
        "first full snapshot (new FullCollector)",
        "  of which POSIX shm + psem alone (new PosixCollector)",
        "steady System V-only snapshot (reused Collector)",
        "steady full snapshot (reused FullCollector)",
    )}  # fmt: skip
    names = list(figures)
    steady_sysv, steady_full = Collector(), Full()
    try:
        steady_sysv.snapshot()
        found = sanity(steady_full)
        time.sleep(1.1)  # attach times have 1 s resolution: as a 1 s --watch sees them
        steady_sysv.snapshot()
        steady_full.snapshot()
        for _ in range(repeat):
            figures[names[0]].time(first_sysv)
            figures[names[1]].time(first_full)
            figures[names[2]].time(first_posix_only)
            figures[names[3]].time(steady_sysv.snapshot)
            figures[names[4]].time(steady_full.snapshot)
    finally:
        steady_sysv.close()
        steady_full.close()
    return figures, found


def ratio(top: list[float], bottom: list[float]) -> float:
    return statistics.median(top) / statistics.median(bottom)


def report(ready: str, found: str, figures: dict[str, Figure], repeat: int) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"Workload said: {ready}",
        f"Sanity (full snapshot; processes: all of the private PID namespace): {found}",
        f"repeat {repeat}, interleaved; load average at the end: {load}",
        "",
        "| measure | wall median ms | min | max | CPU median ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, figure in figures.items():
        lines.append(
            f"| {name} | {statistics.median(figure.wall):.1f} | {min(figure.wall):.1f} "
            f"| {max(figure.wall):.1f} | {statistics.median(figure.cpu):.1f} |"
        )
    first_sysv_f, first_full_f, _, steady_sysv_f, steady_full_f = figures.values()
    lines.append("")
    lines += check_table([
        Check("first full / first System V-only (wall)",
              ratio(first_full_f.wall, first_sysv_f.wall), FIRST_LIMIT),
        Check("steady full / steady System V-only (wall)",
              ratio(steady_full_f.wall, steady_sysv_f.wall), STEADY_LIMIT),
        Check("first full / first System V-only (CPU)",
              ratio(first_full_f.cpu, first_sysv_f.cpu), FIRST_LIMIT),
        Check("steady full / steady System V-only (CPU)",
              ratio(steady_full_f.cpu, steady_sysv_f.cpu), STEADY_LIMIT),
    ])  # fmt: skip
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds of every measure")
    parser.add_argument("--pshm", type=int, default=1000, help="POSIX shm objects")
    parser.add_argument("--pshm-maps", type=int, default=8, help="of them each child maps")
    parser.add_argument("--psem", type=int, default=100, help="named semaphores")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_root("bench_posix_full", "it makes IPC and mount namespaces and mounts"):
        return 2
    for tool in ("cc", "unshare"):
        if shutil.which(tool) is None:
            print(f"bench_posix_full: needs {tool}", file=sys.stderr)
            return 2
    if not args.inner:
        in_namespaces(sys.argv[1:] if argv is None else argv)
    private_mounts()
    # unshare ignores SIGINT while it waits, so we start with it ignored: take Ctrl-C back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, raise_exit)  # unwinds like Ctrl-C: the finally blocks run
    posix_args = ("--pshm", str(args.pshm), "--pshm-maps", str(args.pshm_maps),
                  "--psem", str(args.psem))  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
            binary = build_workload(Path(directory))
            with running_workload(binary, (*WORKLOAD_ARGS, *posix_args)) as ready:
                figures, found = measure(args.repeat)
    except KeyboardInterrupt:
        print("bench_posix_full: interrupted; workload removed", file=sys.stderr)
        return 130
    except SystemExit as stop:
        print("bench_posix_full: terminated; workload removed", file=sys.stderr)
        return stop.code if isinstance(stop.code, int) else 1
    print(report(ready, found, figures, args.repeat))
    left = os.listdir("/dev/shm")
    if left:
        print(f"bench_posix_full: left in the private /dev/shm: {len(left)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
