"""Cost of a steady `shmtop list --json --watch` line of every kind (System V and POSIX, one
FullCollector: cli/watch_all.py) against the System V-only line the watch printed before
(one Collector), on bench_posix_full's workload.

Run as root: `sudo .venv/bin/python -m bench.bench_watch_all [--repeat N]`. Like
bench_posix_full it runs itself again as PID 1 of new IPC, mount and PID namespaces with a
fresh /dev/shm and /dev/mqueue, starts `workload -n 4000 -P 1000 -A 8 -S 1000 -K 16 -Q 1000
--pshm 1000 --pshm-maps 8 --psem 100`, and then, in interleaved rounds 1 s apart (a watch
at its 1 s interval, nothing changed), times one line of each: the snapshot of the reused
collector and its document encoded (records kept from the line before while they hold)
and written to /dev/null. Prints wall and CPU medians (CPU: every thread of this process)
and the ratio of the lines; a FullCollector reads every process again at least every
READ_ALL_EVERY seconds (core/posix/full.py), so about one round in ten is such a line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_oneshot import WORKLOAD_ARGS, build_workload, running_workload  # noqa: E402
from bench.bench_posix_full import Figure, private_mounts  # noqa: E402
from bench.harness import is_root  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.cli import commands, watch_all  # noqa: E402
from shmtop.cli.output import emit_streamed  # noqa: E402
from shmtop.core.posix.full import FullCollector  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402
from shmtop.text.watch_records import WatchRecords  # noqa: E402


def in_namespaces(argv: Sequence[str]) -> None:
    """Become unshare running this script again with --inner, as bench_posix_full does."""
    command = ["unshare", "--ipc", "--mount", "--propagation", "private", "--pid",
               "--kill-child=SIGTERM", "--mount-proc", sys.executable,
               str(Path(__file__).resolve()), "--inner", *argv]  # fmt: skip
    sys.stdout.flush()
    os.execvp(command[0], command)


def listing() -> argparse.Namespace:
    """list --json --watch 1's arguments, checked as run_list checks them (no filter)."""
    args = commands.build_parser().parse_args(["list", "--json", "--watch", "1"])
    commands.check_listing(args, commands.KINDS)
    return args


def sysv_line(collector: Collector, records: WatchRecords, out: TextIO) -> Callable[[], None]:
    """The line the watch printed before: System V only (cli/commands.watch_list then)."""
    args = listing()

    def line() -> None:
        snapshot = collector.snapshot()
        chosen = commands.choose(snapshot, args, commands.KINDS)
        emit_streamed(*records.records(snapshot, chosen), out)

    return line


def every_line(collector: FullCollector, out: TextIO) -> Callable[[], None]:
    """The line it prints now: every kind (cli/watch_all.Lines, as the watch makes it)."""
    lines = watch_all.Lines(listing(), commands.KINDS, collector)
    return lambda: lines.line(1, out)


def measure(repeat: int) -> dict[str, Figure]:
    names = ("steady System V-only line (Collector)", "steady every-kind line (FullCollector)",
             "  for scale: a steady full snapshot alone (another FullCollector)")  # fmt: skip
    figures = {name: Figure() for name in names}
    sysv, full, alone = Collector(), FullCollector(), FullCollector()
    with open(os.devnull, "w", encoding="utf-8") as out:
        try:
            lines: tuple[Callable[[], object], ...] = (
                     sysv_line(sysv, commands.watch_records(), out),
                     every_line(full, out), alone.snapshot,
            )  # fmt: skip
            for line in lines:  # the first lines: first snapshots, not measured
                line()
            for _ in range(repeat):
                time.sleep(1.0)  # as a 1 s --watch: attach times have 1 s resolution
                for name, line in zip(names, lines, strict=True):
                    figures[name].time(line)
        finally:
            sysv.close()
            full.close()
            alone.close()
    return figures


def profile(repeat: int) -> str:
    """--profile: where a steady every-kind line's time goes (cProfile, by cumulative time)."""
    import cProfile
    import io
    import pstats

    full = FullCollector()
    with open(os.devnull, "w", encoding="utf-8") as out:
        try:
            line = every_line(full, out)
            line()
            profiler = cProfile.Profile()
            for _ in range(repeat):
                time.sleep(1.0)
                profiler.runcall(line)
        finally:
            full.close()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
    return text.getvalue()


def report(ready: str, figures: dict[str, Figure], repeat: int) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"Workload said: {ready}",
        f"repeat {repeat}, interleaved, 1 s apart; load average at the end: {load}",
        "",
        "| line | wall median ms | min | max | CPU median ms | min |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, figure in figures.items():
        lines.append(
            f"| {name} | {statistics.median(figure.wall):.1f} | {min(figure.wall):.1f} "
            f"| {max(figure.wall):.1f} | {statistics.median(figure.cpu):.1f} "
            f"| {min(figure.cpu):.1f} |"
        )
    sysv, every, _ = figures.values()
    lines.append("")
    cpu = statistics.median(every.cpu) / statistics.median(sysv.cpu)
    wall = statistics.median(every.wall) / statistics.median(sysv.wall)
    lines.append(f"every-kind / System V-only line: CPU {cpu:.2f}x, wall {wall:.2f}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=15, help="rounds, 1 s apart")
    parser.add_argument("--profile", action="store_true",
                        help="profile the every-kind line instead (cProfile)")  # fmt: skip
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not is_root("bench_watch_all", "it makes IPC and mount namespaces and mounts"):
        return 2
    for tool in ("cc", "unshare"):
        if shutil.which(tool) is None:
            print(f"bench_watch_all: needs {tool}", file=sys.stderr)
            return 2
    if not args.inner:
        in_namespaces(sys.argv[1:] if argv is None else argv)
    private_mounts()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, raise_exit)  # unwinds: the workload is stopped
    posix_args = ("--pshm", "1000", "--pshm-maps", "8", "--psem", "100")
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
            binary = build_workload(Path(directory))
            with running_workload(binary, (*WORKLOAD_ARGS, *posix_args)) as ready:
                if args.profile:
                    print(profile(args.repeat))
                    return 0
                figures = measure(args.repeat)
    except KeyboardInterrupt:
        print("bench_watch_all: interrupted; workload removed", file=sys.stderr)
        return 130
    except SystemExit as stop:
        print("bench_watch_all: terminated; workload removed", file=sys.stderr)
        return stop.code if isinstance(stop.code, int) else 1
    print(report(ready, figures, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
