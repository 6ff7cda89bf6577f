"""Checks that `list --json` writes the same bytes as a git revision's code, on one snapshot.

Run as root: `.venv/bin/python -m bench.check_documents [--against REV]` (default main). The
script moves into a private IPC namespace, starts the C workload of bench_oneshot (issue 11's
shape) plus a few odd objects (a removed attached segment, a set never operated on, a queue
with a message), takes one snapshot and encodes its list document twice: with this tree's
text/documents.py and core/verdicts.py, streamed as `list --json` writes it (cli/output.py),
and with REV's (loaded from `git show` as modules of their own, everything else shared) as
one document in one encode() call. It also encodes the steady `--watch` line of this tree
(text/watch_records.py) on the same snapshot. Prints the sizes and the first difference;
exits 1 if any output differs. The JSON is a contract (schema/): a change that is meant to
be faster must leave every byte as it was.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_oneshot import WORKLOAD_ARGS, build_workload, running_workload  # noqa: E402
from bench.harness import is_root  # noqa: E402
from shmtop.core.binding import native  # noqa: E402


def old_module(name: str, path: str, revision: str, rewrite: dict[str, str]) -> types.ModuleType:
    """REV's version of path as a module called name, its imports rewritten as told."""
    source = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "show", f"{revision}:{path}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    for old, new in rewrite.items():
        source = source.replace(old, new)
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)
    return module


def first_difference(a: bytes, b: bytes) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return f"at byte {at}: {a[max(at - 80, 0) : at + 80]!r}\n   vs {b[max(at - 80, 0) : at + 80]!r}"


def odd_objects() -> list[tuple[str, int]]:
    """A removed segment still attached (by us), a set never operated on, a queue with a
    message: the records' rarer branches."""
    made: list[tuple[str, int]] = []
    shmid = native.shmget(0, 4096, 0o600 | native.IPC_CREAT)
    made.append(("shm", shmid))
    native.shmat(shmid)
    native.shm_rmid(shmid)
    semid = native.semget(0, 3, 0o000 | native.IPC_CREAT)
    made.append(("sem", semid))
    msqid = native.msgget(0, 0o600 | native.IPC_CREAT)
    made.append(("msg", msqid))
    native.msgsnd(msqid, 1, b"hello")
    return made


def encoded(shell: object, lists: object) -> bytes:
    from shmtop.cli.output import _streamed_pieces

    return b"".join(_streamed_pieces(shell, lists))  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--against", default="main", help="the git revision to compare with")
    args = parser.parse_args(argv)
    if not is_root("check_documents", "it makes an IPC namespace and reads every process's maps"):
        return 2
    old_verdicts = old_module("_old_verdicts", "shmtop/core/verdicts.py", args.against, {})
    old_documents = old_module(
        "_old_documents", "shmtop/text/documents.py", args.against,
        {"from shmtop.core.verdicts import": "from _old_verdicts import"},
    )  # fmt: skip
    assert old_verdicts is not None
    native.unshare(native.CLONE_NEWIPC)
    from shmtop.cli import commands
    from shmtop.cli.commands import watch_records
    from shmtop.cli.output import encode
    from shmtop.core.snapshot.collect import Collector
    from shmtop.text import documents

    everything = commands.build_parser().parse_args(["list", "--json"])  # list's defaults
    commands.check_listing(everything, commands.KINDS)  # as run_list: its filter, none
    with tempfile.TemporaryDirectory() as directory:
        binary = build_workload(Path(directory))
        with running_workload(binary, WORKLOAD_ARGS):
            odd_objects()  # die with the namespace
            collector = Collector()
            try:
                collector.snapshot()
                time.sleep(1.1)
                snapshot = collector.snapshot()
            finally:
                collector.close()
    chosen = commands.choose(snapshot, everything, commands.KINDS)
    new = encoded(*documents.list_records(snapshot, chosen))
    old = encode(old_documents.list_document(snapshot, chosen))  # whole, in one call
    watched = encoded(*watch_records().records(snapshot, chosen))
    old_show = old_documents.show_document
    shown = [
        (encode(documents.show_document(o, snapshot)), encode(old_show(o, snapshot)))
        for kind in commands.KINDS for o in chosen[kind][-50:]
    ]  # fmt: skip
    print(
        f"segments={len(snapshot.segments)} sets={len(snapshot.semaphore_sets)} "
        f"queues={len(snapshot.queues)}: {len(new)} bytes ({args.against}: {len(old)})"
    )
    failed = False
    for name, mine in (("list --json", new), ("--watch line", watched)):
        if mine != old:
            failed = True
            print(f"{name} DIFFERS from {args.against} {first_difference(mine, old)}")
        else:
            print(f"{name}: identical to {args.against}")
    if any(a != b for a, b in shown):
        failed = True
        print("show --json DIFFERS")
    else:
        print(f"show --json of {len(shown)} objects: identical to {args.against}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
