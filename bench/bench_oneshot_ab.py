"""This tree against another checkout, interleaved, in CPU time: what a loaded machine blurs.

Run as root: `.venv/bin/python -m bench.bench_oneshot_ab --base DIR [--rounds N]`. DIR is
another checkout of shmtop whose native module is built in place (e.g. `git worktree add
--detach DIR REV`, then in DIR: `python -c "from shmtop.core.binding._build import
ffibuilder; ffibuilder.compile(tmpdir='/tmp/b')"` and copy /tmp/b/shmtop/core/binding/
_native.abi3.so into DIR's shmtop/core/binding/). Both trees run on this interpreter, each
by PYTHONPATH, from a neutral directory. In a private IPC namespace (as bench_oneshot):
`shmtop list --json` on the empty namespace against `python -c pass`, then on bench_oneshot's
C workload `list --json` and `list` against `ipcs -a`, a process of each tree a round; then steady
`--watch` lines, 15 a process, two processes a tree. Prints medians of the CPU time (user +
system, all threads: the other jobs of a shared machine move it far less than wall time)
and of the wall time. Wall time is what the issue's targets are in: use bench_oneshot
for those; this says what changed between two trees.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
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

from bench.bench_oneshot import WORKLOAD_ARGS, build_workload, running_workload  # noqa: E402
from bench.harness import is_root  # noqa: E402
from shmtop.core.binding import native  # noqa: E402

LIST_JSON = [sys.executable, "-m", "shmtop", "list", "--json"]
LIST_PLAIN = [sys.executable, "-m", "shmtop", "list"]
# One process's steady --watch lines (as bench_oneshot.watch_line makes them), in CPU ms.
WATCH_LINES = r"""
import argparse, os, sys, time, statistics
from shmtop.core.snapshot.collect import Collector
from shmtop.cli import commands
from shmtop.cli import output
write = getattr(output, 'emit_encoded', output.emit_streamed)  # a --watch line's writer
collector = Collector()
collector.snapshot()
time.sleep(2.1)  # attach times have whole seconds: a later scan is a steady one
records = commands.watch_records()
everything = commands.build_parser().parse_args(["list", "--json"])  # list's defaults
commands.check_listing(everything, commands.KINDS)  # as run_list: its filter, none
lines = []
with open(os.devnull, "w") as null:
    for index in range(int(sys.argv[1]) + 1):
        start = time.process_time()
        snapshot = collector.snapshot()
        chosen = commands.choose(snapshot, everything, commands.KINDS)
        write(*records.records(snapshot, chosen), null)
        if index:
            lines.append((time.process_time() - start) * 1000)
        time.sleep(0.2)
collector.close()
print(statistics.median(lines))
"""


class Samples:
    """Each measure's CPU and wall samples, in ms."""

    def __init__(self) -> None:
        self.cpu: dict[str, list[float]] = {}
        self.wall: dict[str, list[float]] = {}

    def run(self, name: str, argv: Sequence[str], tree: Path) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            argv, env={**os.environ, "PYTHONPATH": str(tree)}, cwd="/", check=True,
            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        self.cpu.setdefault(name, []).append(cpu * 1000)
        self.wall.setdefault(name, []).append(wall * 1000)

    def watch(self, name: str, tree: Path, lines: int) -> None:
        done = subprocess.run(
            [sys.executable, "-c", WATCH_LINES, str(lines)], env={**os.environ,
            "PYTHONPATH": str(tree)}, cwd="/", check=True, capture_output=True, text=True,
        )  # fmt: skip
        self.cpu.setdefault(name, []).append(float(done.stdout))

    def table(self) -> list[str]:
        lines = ["| measure | CPU median ms | CPU min | wall median ms |", "|---|---:|---:|---:|"]
        for name, cpu in self.cpu.items():
            wall = self.wall.get(name)
            shown = f"{statistics.median(wall):.1f}" if wall else ""
            lines.append(f"| {name} | {statistics.median(cpu):.1f} | {min(cpu):.1f} | {shown} |")
        return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=9, help="processes of each a measure")
    args = parser.parse_args(argv)
    if not is_root("bench_oneshot_ab", "it makes an IPC namespace and reads every process's maps"):
        return 2
    trees = {f"base ({args.base.name})": args.base.resolve(), "this tree": REPO_ROOT}
    for tree in trees.values():  # as pip leaves an install (see bench_oneshot)
        compileall.compile_dir(tree / "shmtop", quiet=1)
    native.unshare(native.CLONE_NEWIPC)
    samples = Samples()
    for _ in range(args.rounds):
        samples.run("empty namespace: `python3 -c pass`", [sys.executable, "-c", "pass"], REPO_ROOT)
        for name, tree in trees.items():
            samples.run(f"empty namespace: `list --json`, {name}", LIST_JSON, tree)
    with tempfile.TemporaryDirectory() as directory:
        binary = build_workload(Path(directory))
        with running_workload(binary, WORKLOAD_ARGS):
            time.sleep(1.5)
            for _ in range(args.rounds):
                samples.run("`ipcs -a`", ["ipcs", "-a"], REPO_ROOT)
                for name, tree in trees.items():
                    samples.run(f"`list --json`, {name}", LIST_JSON, tree)
                    samples.run(f"`list`, {name}", LIST_PLAIN, tree)
            for _ in range(2):
                for name, tree in trees.items():
                    samples.watch(f"steady `--watch` line (CPU only), {name}", tree, 15)
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("\n".join(samples.table()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
