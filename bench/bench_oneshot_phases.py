"""Where a one-shot `shmtop list --json` (or plain `list`) spends its time, phase by phase.

Run as root: `.venv/bin/python -m bench.bench_oneshot_phases [--repeat N] [--plain]`. As
bench_oneshot, it enters a private IPC namespace, builds and starts the C workload of issue
11 (`workload -n 4000 -P 1000 -A 8 -S 1000 -K 16 -Q 1000`) and removes it afterwards; then it
runs N fresh interpreters, each doing what `run_list` does for `list --json` (or `list`)
with time.perf_counter() between the phases, and prints the median of each phase:

imports (of shmtop.cli.commands and what list imports), parse (the parser and its checks),
snapshot (the full System V + POSIX snapshot), choose (sorting), verdicts (every object
judged: the records ask the memoised verdicts after), records (every Struct made, held in
lists), encode (the document's bytes), write (to /dev/null). With --plain: table instead of
records + encode, the text lines. Holding the records is not what `list` does (it streams
them), so records + encode is a little more than the streamed time; the split is the point.
Without the profiler: cProfile's cost per call inflates the Python-heavy phases.
"""

from __future__ import annotations

import argparse
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
plain = sys.argv[1] == "plain"
from shmtop.cli import commands, list_posix
from shmtop.cli.output import _streamed_pieces
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
null = open(os.devnull, "wb")
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
    null.write("\n".join(out).encode())
    null.write(text.getvalue().encode())
    mark("write")
else:
    shell, lists = list_records(snapshot, chosen)
    shell, lists = list_posix.json_parts(shell, lists, part)
    lists = {name: list(records) for name, records in lists.items()}
    mark("records")
    data = b"".join(_streamed_pieces(shell, lists))
    mark("encode")
    null.write(data)
    null.write(b"\n")
    mark("write")
print(json.dumps({b[0]: (b[1] - a[1]) * 1000 for a, b in zip(t, t[1:])}))
"""


def run_child(plain: bool) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "plain" if plain else "json"],
        check=True, capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    phases: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return phases


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plain", action="store_true", help="plain `list`, not --json")
    parser.add_argument("--empty", action="store_true", help="on the empty namespace only")
    args = parser.parse_args(argv)
    if not is_root("bench_oneshot_phases", "it makes an IPC namespace"):
        return 2
    from shmtop.core.binding import native

    native.unshare(native.CLONE_NEWIPC)
    runs: list[dict[str, float]] = []
    if args.empty:
        runs = [run_child(args.plain) for _ in range(args.repeat)]
    else:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
            binary = build_workload(Path(directory))
            with running_workload(binary, WORKLOAD_ARGS):
                run_child(args.plain)  # warm the page cache and the .pyc files
                runs = [run_child(args.plain) for _ in range(args.repeat)]
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
