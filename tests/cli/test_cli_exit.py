"""How the program ends (shmtop.cli:script): a one-shot command leaves without tearing down
its heap (cli/output.leave), its output whole and its exit code kept; the others, and any
run under a tracer, end through the interpreter's exit (its atexit handlers run)."""

from __future__ import annotations

import json
import subprocess
import sys

import helpers
from helpers import MakeShm

# The program as the console script runs it, with an atexit handler that says it ran.
PROGRAM = """
import atexit, sys
atexit.register(lambda: print("atexit ran", file=sys.stderr))
if sys.argv[1] == "traced":
    sys.settrace(lambda *_: None)
from shmtop.cli import script
sys.argv = ["shmtop", *sys.argv[2:]]
script()
"""


def program(*argv: str, traced: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, "traced" if traced else "plain", *argv],
        check=False, capture_output=True, text=True, timeout=helpers.PATIENCE,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_one_shot_list_leaves_at_once_with_its_whole_output(make_shm: MakeShm) -> None:
    shmid = make_shm()
    done = program("list", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # all of it, flushed before the exit
    assert shmid in [s["id"] for s in document["segments"]]
    assert "atexit ran" not in done.stderr


def test_a_one_shot_error_keeps_its_code_and_line() -> None:
    done = program("show", "shm", "2147483000")
    assert done.returncode == 1
    assert done.stderr.startswith("shmtop: shm 2147483000: no such object")
    assert "atexit ran" not in done.stderr


def test_other_commands_and_traced_runs_end_through_the_interpreter() -> None:
    usage = program("list", "--bogus")  # argparse's exit, before any command ran
    assert usage.returncode == 2 and "atexit ran" in usage.stderr
    traced = program("limits", "--json", traced=True)
    assert traced.returncode == 0 and json.loads(traced.stdout)["schema_version"]
    assert "atexit ran" in traced.stderr


def test_a_watch_runs_with_the_cycle_collector_and_ends_through_the_interpreter() -> None:
    probe = PROGRAM.replace(
        "script()",
        "import gc\n"
        "from shmtop.cli import commands\n"
        "plain = commands.watch_list\n"
        "def watched(*args):\n"
        "    print('gc on' if gc.isenabled() else 'gc off', file=sys.stderr)\n"
        "    return plain(*args)\n"
        "commands.watch_list = watched\n"
        "script()",
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "plain", "list", "--json", "--watch", "0.1", "--count",
         "2"],
        check=False, capture_output=True, text=True, timeout=helpers.PATIENCE,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2
    assert "gc on" in done.stderr and "atexit ran" in done.stderr
