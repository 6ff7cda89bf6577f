"""Run the CLI where processes are hidden: as user nobody, and under a /proc mounted hidepid.

`run(args, nobody=True)` runs `python -m shmtop args` as nobody (setpriv); with
`hidepid=True` it first enters a private mount namespace (unshare --mount
--propagation private) and mounts a fresh /proc there with hidepid=invisible,
so other users' processes (root's: the tests' own) are not even listed. The
machine's /proc is untouched: the mount dies with the namespace. Both need
root, and keep the tests' private IPC namespace (they are its children).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helpers

ROOT = Path(__file__).resolve().parent.parent
NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
_REMOUNT = 'mount -t proc -o hidepid=invisible proc /proc && exec "$@"'
HIDEPID = ("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", _REMOUNT, "sh")


@dataclass(frozen=True)
class Result:
    """One finished command: exit code and output."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self
        return json.loads(self.stdout)

    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def missing_tools() -> str | None:
    """Why these runs cannot be made here (None: they can)."""
    if os.geteuid() != 0:
        return "needs root (setpriv to nobody, mount in a private mount namespace)"
    absent = [tool for tool in ("setpriv", "unshare", "mount") if shutil.which(tool) is None]
    return f"missing {', '.join(absent)} (util-linux)" if absent else None


def command(
    args: Sequence[str], *, nobody: bool = True, hidepid: bool = False, then: Sequence[str] = ()
) -> list[str]:
    """The command line that runs `python -m shmtop args` the way asked; then: what runs
    it last (unshare --user: root of a user namespace of its own)."""
    prefix = [*(HIDEPID if hidepid else ()), *(NOBODY if nobody else ()), *then]
    return [*prefix, sys.executable, "-m", "shmtop", *args]


def run(
    args: Sequence[str], *, nobody: bool = True, hidepid: bool = False, then: Sequence[str] = ()
) -> Result:
    """Run the CLI (stdin not a terminal) as asked; wait with a bound."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "PYTHONUTF8": "1", "LC_ALL": "C"}  # fmt: skip
    done = subprocess.run(
        command(args, nobody=nobody, hidepid=hidepid, then=then), cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True, env=env, timeout=helpers.PATIENCE, check=False,
    )  # fmt: skip
    return Result(tuple(args), done.returncode, done.stdout.decode(), done.stderr.decode())


def proc_is_hidden_there() -> bool:
    """Whether, as nobody under the hidepid mount, this (root) process is really unlisted."""
    probe = subprocess.run(
        [*HIDEPID, *NOBODY, "sh", "-c", f"test -e /proc/{os.getpid()}"],
        capture_output=True, timeout=helpers.PATIENCE, check=False,
    )  # fmt: skip
    return probe.returncode == 1
