"""`shmtop list --json --watch` run as a child, its JSON Lines read one at a time."""

from __future__ import annotations

import os
import select
import subprocess
import sys

import helpers
from paths import ROOT


def watch(*args: str) -> subprocess.Popen[bytes]:
    """`shmtop list --json ARGS`, its stdout unbuffered here: a line read leaves the next in
    the pipe, for communicate() to read."""
    return subprocess.Popen(
        [sys.executable, "-m", "shmtop", "list", "--json", *args], cwd=ROOT, bufsize=0,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUTF8": "1"},
    )  # fmt: skip


def read_line(process: subprocess.Popen[bytes]) -> bytes:
    """The next line the watch flushed, waited for with a bound."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], helpers.PATIENCE)
    assert ready, "no line in time"
    return process.stdout.readline()


def finish(process: subprocess.Popen[bytes]) -> tuple[int, bytes, bytes]:
    """Its exit code and the rest of its output; killed if it outlives the bound."""
    try:
        out, err = process.communicate(timeout=helpers.PATIENCE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err
