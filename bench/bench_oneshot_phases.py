"""Where a one-shot `shmtop list --json` (or plain `list`) spends its time, phase by phase.

Run as root: `.venv/bin/python -m bench.bench_oneshot_phases [--repeat N] [--plain]`. As
bench_oneshot, it enters a private IPC namespace, builds and starts the C workload of issue
11 (`workload -n 4000 -P 1000 -A 8 -S 1000 -K 16 -Q 1000`) and removes it afterwards; then it
runs N fresh interpreters, each doing what `run_list` does for `list --json` (or `list`)
with time.perf_counter() between the phases, and prints the median of each phase:

imports (of shmtop.cli.commands and what list imports), parse (the parser and its checks),
snapshot (the full System V + POSIX snapshot), choose (sorting), verdicts (every object
judged: the records ask the memoised verdicts after), then the records made, encoded and
written to /dev/null as `list --json` does (streamed, the cycle collector off as run_list
has it). With --split: the records made and held in lists, then encoded (not what `list`
does, and dearer: the split is the point). With --plain: the System V tables and the POSIX
ones instead, and their writing.
Without the profiler: cProfile's cost per call inflates the Python-heavy phases.
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_oneshot import WORKLOAD_ARGS, build_workload, running_workload  # noqa: E402
from bench.harness import is_root  # noqa: E402

# The child: fresh interpreter, phases timed in order; prints one JSON object of ms.
CHILD = r"""
import time
t = [("start", time.perf_counter())]
def mark(name):
    t.append((name, time.perf_counter()))
import os, sys, json
plain, split = sys.argv[1] == "plain", sys.argv[1] == "split"
from shmtop.cli import commands, list_posix
from shmtop.cli.output import _streamed_pieces, emit_streamed
from shmtop.text.documents import list_records
from shmtop.core.verdicts import judge
if plain:
    from shmtop.text import columns
mark("imports")
argv = ["list"] if plain else ["list", "--json"]
args = commands.build_parser().parse_args(argv)
commands.check_listing(args, commands.KINDS)
mark("parse")
snapshot, part = list_posix.scan(args)
mark("snapshot")
chosen = commands.choose(snapshot, args, commands.KINDS)
mark("choose")
for kind in commands.KINDS:
    for o in chosen[kind]:
        judge(o, snapshot)
mark("verdicts")
null = open(os.devnull, "w")
import gc
gc.disable()  # as run_list (cli/commands.one_shot_gc)
if plain:
    out = []
    from shmtop.core.model import Kind
    for kind in commands.KINDS:
        out.extend(columns.table_lines(Kind(kind), snapshot, chosen[kind]))
    mark("system V tables")
    import contextlib, io
    text = io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.redirect_stderr(io.StringIO()):
        list_posix.print_tables(part)
    mark("POSIX tables")
    null.write("\n".join(out))
    null.write(text.getvalue())
    mark("write")
else:
    shell, lists = list_records(snapshot, chosen)
    shell, lists = list_posix.json_parts(shell, lists, part)
    if split:
        lists = {name: list(records) for name, records in lists.items()}
        mark("records")
        data = b"".join(_streamed_pieces(shell, lists))
        mark("encode")
        null.buffer.write(data)
        null.buffer.write(b"\n")
        mark("write")
    else:
        emit_streamed(shell, lists, null)
        mark("records, encoded and written (streamed)")
print(json.dumps({b[0]: (b[1] - a[1]) * 1000 for a, b in zip(t, t[1:])}))
"""


def run_child(mode: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        check=True, capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    phases: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return phases


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plain", action="store_true", help="plain `list`, not --json")
    parser.add_argument(
        "--split",
        action="store_true",
        help="--json's records made and held, then encoded: two phases",
    )
    parser.add_argument("--empty", action="store_true", help="on the empty namespace only")
    args = parser.parse_args(argv)
    if not is_root("bench_oneshot_phases", "it makes an IPC namespace"):
        return 2
    from shmtop.core.binding import native

    compileall.compile_dir(REPO_ROOT / "shmtop", quiet=1)  # as pip leaves an install
    native.unshare(native.CLONE_NEWIPC)
    mode = "plain" if args.plain else "split" if args.split else "json"
    runs: list[dict[str, float]] = []
    if args.empty:
        runs = [run_child(mode) for _ in range(args.repeat)]
    else:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
            binary = build_workload(Path(directory))
            with running_workload(binary, WORKLOAD_ARGS):
                run_child(mode)  # warm the page cache
                runs = [run_child(mode) for _ in range(args.repeat)]
    print(f"| phase ({'list' if args.plain else 'list --json'}) | median ms | min | max |")
    print("|---|---:|---:|---:|")
    for name in runs[0]:
        values = [r[name] for r in runs]
        print(f"| {name} | {statistics.median(values):.1f} | {min(values):.1f} | "
              f"{max(values):.1f} |")  # fmt: skip
    totals = [sum(r.values()) for r in runs]
    print(f"| all phases | {statistics.median(totals):.1f} | {min(totals):.1f} | "
          f"{max(totals):.1f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
