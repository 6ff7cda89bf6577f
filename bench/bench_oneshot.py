"""Times the one-shot `shmtop list` and `list --json` against ipcs and lsof on a C workload.

Run as root: `.venv/bin/python -m bench.bench_oneshot [--repeat N]`. The script moves itself
into a private IPC namespace first (unshare(CLONE_NEWIPC), before any thread or child), so
the workload, every command it times and its in-process snapshots see only the workload's
objects; the namespace and whatever is left in it go when the script exits, even if killed.
It byte-compiles shmtop (as pip does on install), builds bench/workload.c with `cc -O2` in
a temporary directory, measures on the empty namespace, starts `workload -n 4000 -P 1000
-A 8 -S 1000 -K 16 -Q 1000` (C children: short maps, unlike bench_core's Python children),
measures again in interleaved rounds, stops the workload (SIGTERM: it ends its children and
removes its objects; also on Ctrl-C and SIGTERM to this script) and prints one table of
medians and the targets of issue 11.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_core import ratio, run_process  # noqa: E402
from bench.harness import is_root  # noqa: E402
from bench.report import check_table, measure_row  # noqa: E402
from bench.stats import Check, Measure  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.model import Snapshot  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402
from shmtop.text.watch_records import WatchRecords  # noqa: E402

WORKLOAD_SOURCE = REPO_ROOT / "bench" / "workload.c"
# The shape of issue 11: 4000 segments, 1000 C children attaching 8 each (every second
# read-only), 1000 sets of 16 semaphores, 1000 queues of 2 messages.
WORKLOAD_ARGS = ("-n", "4000", "-P", "1000", "-A", "8", "-S", "1000", "-K", "16", "-Q", "1000")
READY_TIMEOUT = 120.0
KIB_PER_MIB = 1024
FIRST = "first full snapshot, in-process (new Collector)"


def shmtop_command() -> list[str]:
    """The `shmtop` a user runs: the venv's console script, else python -m shmtop."""
    script = Path(sys.executable).with_name("shmtop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shmtop"]


SHMTOP = shmtop_command()
LIST_JSON = [*SHMTOP, "list", "--json"]
LIST_PLAIN = [*SHMTOP, "list"]
PYTHON_PASS = [sys.executable, "-c", "pass"]
IPCS = ["ipcs", "-a"]
LSOF = ["bash", "-c", "lsof -n | grep SYSV"]


# ---- the workload ----


def build_workload(directory: Path) -> Path:
    """cc -O2 bench/workload.c into directory; the binary's path."""
    binary = directory / "workload"
    subprocess.run(
        ["cc", "-O2", "-Wall", "-o", str(binary), str(WORKLOAD_SOURCE)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return binary


@contextmanager
def running_workload(binary: Path, args: Sequence[str]) -> Iterator[str]:
    """The workload up (its READY line), and stopped and cleaned up afterwards whatever happens.

    Its own process group, so a Ctrl-C reaches only us and the stop is ours to make: SIGTERM
    makes it kill and reap its children and IPC_RMID everything; SIGKILL if it hangs (its
    children die with it, PR_SET_PDEATHSIG; the objects die with our namespace at our exit).
    """
    child = subprocess.Popen(
        [str(binary), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until READY, or "" if it died
        if not line.startswith("READY"):
            raise RuntimeError(f"workload did not start (exit {child.wait()})")
        yield line.strip()
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if child.stdout is not None:
            child.stdout.close()


def leftovers() -> dict[str, int]:
    """Objects still in our namespace (0 of each once the workload is gone)."""
    return {
        "segments": len(native.shm_stat_all()),
        "semaphore_sets": len(native.sem_table()),
        "queues": len(native.msg_table()),
    }


# ---- measuring ----


def first_snapshot() -> Snapshot:
    """A snapshot from a collector that has seen nothing yet."""
    collector = Collector()
    try:
        return collector.snapshot()
    finally:
        collector.close()


def watch_line(collector: Collector, records: WatchRecords, out: TextIO) -> None:
    """One line of `list --json --watch` as cli/commands.watch_list makes it: a snapshot of
    the reused collector, sorted as `list` sorts, its document encoded (each record kept
    from the line before while it holds: text/watch_records.py) and written."""
    from shmtop.cli import commands, output

    write = getattr(output, "emit_encoded", output.emit_streamed)  # (a tree before it)

    snapshot = collector.snapshot()
    everything = commands.build_parser().parse_args(["list", "--json"])  # list's defaults
    commands.check_listing(everything, commands.KINDS)  # as run_list: its filter, none
    chosen = commands.choose(snapshot, everything, commands.KINDS)
    write(*records.records(snapshot, chosen), out)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


@dataclass
class Timings:
    """The measures of one benchmark, each a name and its samples in ms."""

    measures: dict[str, Measure]
    rss_kib: list[int]

    def add(self, name: str, milliseconds: float) -> None:
        self.measures.setdefault(name, Measure(name)).samples.append(milliseconds)

    def command(self, name: str, argv: Sequence[str], *, rss: bool = False) -> None:
        run = run_process(argv, peak_rss=rss)
        measure = self.measures.setdefault(name, Measure(name))
        if run.returncode != 0 and measure.error is None:
            measure.error = f"exit {run.returncode}: {run.stderr_first_line or '(no stderr)'}"
        measure.samples.append(run.seconds * 1000)
        if rss:
            self.rss_kib.append(run.maxrss_kib)


def measure_empty(timings: Timings, repeat: int) -> None:
    """`shmtop list --json` against `python -c pass` on the empty namespace, interleaved."""
    for _ in range(repeat):
        timings.command("empty namespace: `shmtop list --json`", LIST_JSON)
        timings.command("empty namespace: `python3 -c pass`", PYTHON_PASS)


def measure_loaded(timings: Timings, repeat: int) -> dict[str, Any]:
    """Every measure on the workload, one of each a round (the machine's noise spreads over
    all of them alike); what the first snapshot found, for the sanity line."""
    found = first_snapshot()
    collector = Collector()
    try:
        # Attach times have 1 s resolution: the scan is trusted once it began in a later
        # second than the last attach, as a watch at a 1 s interval would see it.
        collector.snapshot()
        time.sleep(1.1)
        from shmtop.cli.commands import watch_records

        records = watch_records()
        with open(os.devnull, "w", encoding="utf-8") as null:
            watch_line(collector, records, null)
            for _ in range(repeat):
                timings.command("`shmtop list --json`, whole process", LIST_JSON, rss=True)
                timings.command("`shmtop list`, whole process", LIST_PLAIN)
                timings.command("`ipcs -a`", IPCS)
                timings.command("`lsof -n | grep SYSV`", LSOF)
                timings.add(FIRST, timed(first_snapshot))
                timings.add(
                    "steady `--watch` line (reused Collector: snapshot + JSON)",
                    timed(lambda: watch_line(collector, records, null)),
                )
    finally:
        collector.close()
    return {
        "segments": len(found.segments),
        "attachments": sum(len(s.attachments) for s in found.segments),
        "nattch": sum(s.nattch for s in found.segments),
        "semaphore_sets": len(found.semaphore_sets),
        "queues": len(found.queues),
        "processes_scanned": found.blind_spots.processes_scanned,
    }


def checks(timings: Timings) -> list[Check]:
    m = timings.measures
    json_list = m["`shmtop list --json`, whole process"]
    plain = m["`shmtop list`, whole process"]
    ipcs, lsof = m["`ipcs -a`"], m["`lsof -n | grep SYSV`"]
    rss = max(timings.rss_kib) / KIB_PER_MIB if timings.rss_kib else None
    return [
        Check("`list --json` / `lsof -n \\| grep SYSV`", ratio(json_list, lsof), 0.5),
        Check("`list --json` / `ipcs -a`", ratio(json_list, ipcs), 5.0),
        Check("`list` / `lsof -n \\| grep SYSV`", ratio(plain, lsof), 0.5),
        Check("`list` / `ipcs -a`", ratio(plain, ipcs), 5.0),
        Check(
            "first full snapshot / `ipcs -a`",
            ratio(m[FIRST], ipcs),
            2.0,
        ),
        Check(
            "steady `--watch` line / `ipcs -a`",
            ratio(m["steady `--watch` line (reused Collector: snapshot + JSON)"], ipcs),
            0.5,
        ),
        Check("peak RSS of `list --json` (MiB)", rss, 40.0),
        Check(
            "empty: `list --json` / `python3 -c pass`",
            ratio(
                m["empty namespace: `shmtop list --json`"],
                m["empty namespace: `python3 -c pass`"],
            ),
            3.0,
        ),
    ]


# ---- the whole run ----


def report(ready: str, found: dict[str, Any], timings: Timings, repeat: int) -> str:
    lines = [
        f"Workload (C children): workload {' '.join(WORKLOAD_ARGS)}; repeat {repeat}",
        f"Workload said: {ready}",
        "Sanity (first snapshot): " + ", ".join(f"{k}={v}" for k, v in found.items()),
        "",
        "| measure | median ms | min | max |",
        "|---|---:|---:|---:|",
    ]
    lines += [measure_row(m, spread_named=False) for m in timings.measures.values()]
    rss = max(timings.rss_kib) / KIB_PER_MIB if timings.rss_kib else None
    lines += [f"| peak RSS of `shmtop list --json`, MiB | {rss or 0:.1f} | | |", ""]
    lines += [f"{m.name}: failed ({m.error})" for m in timings.measures.values() if m.error]
    lines += check_table(checks(timings))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each measure")
    parser.add_argument("--json", action="store_true", help="print the samples as JSON too")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_root("bench_oneshot", "it makes an IPC namespace and reads every process's maps"):
        return 2
    for tool in ("cc", "ipcs", "lsof"):
        if shutil.which(tool) is None:
            print(f"bench_oneshot: needs {tool}", file=sys.stderr)
            return 2
    # As pip leaves an installed package: compiled. Under PYTHONDONTWRITEBYTECODE a checkout
    # would be compiled again at every start, which is not what a user's shmtop pays.
    compileall.compile_dir(REPO_ROOT / "shmtop", quiet=1)
    # Before any thread or child: all of them are born in the new namespace.
    native.unshare(native.CLONE_NEWIPC)
    signal.signal(signal.SIGTERM, raise_exit)  # unwinds like Ctrl-C: the finally blocks run
    timings = Timings({}, [])
    try:
        measure_empty(timings, args.repeat)
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
            binary = build_workload(Path(directory))
            with running_workload(binary, WORKLOAD_ARGS) as ready:
                found = measure_loaded(timings, args.repeat)
    except KeyboardInterrupt:
        print("bench_oneshot: interrupted; workload removed", file=sys.stderr)
        return 130
    except SystemExit as stop:
        print("bench_oneshot: terminated; workload removed", file=sys.stderr)
        return stop.code if isinstance(stop.code, int) else 1
    left = leftovers()
    print(report(ready, found, timings, args.repeat))
    if any(left.values()):
        print(f"bench_oneshot: left in the namespace: {left}", file=sys.stderr)
    if args.json:
        samples = {name: m.samples for name, m in timings.measures.items()}
        print(json.dumps({"samples_ms": samples, "rss_kib": timings.rss_kib}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
