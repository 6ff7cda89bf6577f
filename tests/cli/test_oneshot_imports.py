"""The one-shot commands import only what they use: no TUI, no debugger, no psutil, nothing
that only costs (typing_extensions, inspect, dataclasses, ctypes).

Each command runs for real (main() with its arguments, on real objects, in the session's
private IPC namespace) in a fresh interpreter, which then lists sys.modules: a one-shot
command pays its imports at every call (bench/bench_oneshot.py has the figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from helpers import MakeMsg, MakeSem, MakeShm, Spawn

# Prefixes no one-shot command may load. A command's parser is built only for the command
# named (cli/commands.Parser): `waiters`'s limits (core/waits/settings.py) and the exporter's
# and serve's settings load for those commands alone.
FORBIDDEN = (
    "textual",
    "rich",
    "psutil",
    "shmtop.tui",
    "shmtop.demo",
    "shmtop.cli.debug",
    "shmtop.core.waits",
    "shmtop.exporter",
    "shmtop.serve",
    "shmtop.text.wait_",
    "shmtop.core.actions",
    "shmtop.core.segment",
    # What a third of the imports cost: msgspec's typing_extensions (see shmtop/__init__.py)
    # and the inspect and ast it pulls in, as dataclasses does; ctypes.
    "typing_extensions",
    "inspect",
    "ast",
    "dataclasses",
    "ctypes",
)

RUN = """
import contextlib, io, json, sys
from shmtop.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "output": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def run_main(*argv: str) -> dict[str, Any]:
    """main(argv) in a fresh interpreter: its exit code, what it printed, what it imported."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, *argv], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


def forbidden(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == f.rstrip(".") or m.startswith(f) for f in FORBIDDEN)]


@pytest.fixture
def objects(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, spawn: Spawn
) -> dict[str, int]:
    """One object of each kind; the segment attached by a child (show reads its command line)."""
    shmid = make_shm()
    spawn(name="oneshot-imp", attach=[(shmid, True)])
    return {"shm": shmid, "sem": make_sem(2), "msg": make_msg()}


@pytest.mark.parametrize(
    "argv",
    [
        ("list",),
        ("list", "--json"),
        ("list", "shm", "--sort", "size"),
        ("list", "shm", "--filter", "nattch:>0 size:>1k"),
        ("limits",),
        ("limits", "--json"),
        ("show", "shm"),
        ("show", "shm", "--json"),
        ("show", "sem"),
        ("show", "msg", "--json"),
    ],
)
def test_a_one_shot_command_imports_no_tui_debugger_or_psutil(
    objects: dict[str, int], argv: tuple[str, ...]
) -> None:
    if argv[0] == "show":  # the object of that kind made for the test
        argv = (*argv[:2], str(objects[argv[1]]), *argv[2:])
    found = run_main(*argv)
    assert found["code"] == 0
    assert found["output"].strip(), "the command printed nothing"
    if argv[0] == "show":
        assert argv[2] in found["output"]
    assert forbidden(found["modules"]) == []


def test_list_imports_the_filter_language_only_for_filter(objects: dict[str, int]) -> None:
    plain = run_main("list", "shm")
    assert plain["code"] == 0
    assert not {"shmtop.text.filtering", "shmtop.cli.list_filter"} & set(plain["modules"])
    filtered = run_main("list", "shm", "--filter", "nattch:>0")
    assert filtered["code"] == 0 and str(objects["shm"]) in filtered["output"]
    assert "shmtop.text.filtering" in filtered["modules"]


def test_the_check_would_see_the_debugger_if_it_were_imported() -> None:
    """The same check on a command that does use the debugger: it must find it."""
    found = run_main("waiters", "--json")
    assert found["code"] == 0
    assert "shmtop.cli.debug" in forbidden(found["modules"])
