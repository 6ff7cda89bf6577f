"""`shmtop list|show|rm pmq` in a subprocess, on real queues and real child processes
(`list pmq --json` is validated in test_json_contract).

The session's IPC namespace is private (conftest): its queues are the session's only;
each test unlinks what it made. No mqueue fs is mounted in the session's mount
namespace: the commands read the queues through a detached mount.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import wait_until

from shmtop.core.binding import native

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's fds: root")

TESTS = Path(__file__).resolve().parent.parent
PREFIX = f"/shmtop-cli-pmq-{os.getpid()}-"
HOSTILE = PREFIX + "\x1b]2;pwned\x07\x1b[41m"
SAFE_HOSTILE = PREFIX + "\u241b]2;pwned\u2407\u241b[41m"


def shmtop(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "shmtop", *args], capture_output=True,
                          timeout=60, check=False)  # fmt: skip


@pytest.fixture
def queues() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        with contextlib.suppress(FileNotFoundError):
            native.mq_unlink(name)


def make(made: list[str], name: str, max_messages: int = 4, max_size: int = 32) -> str:
    flags = os.O_CREAT | os.O_EXCL | os.O_RDWR
    native.mq_close(native.mq_open(name, flags, 0o640, max_messages=max_messages,
                                   max_size=max_size))  # fmt: skip
    made.append(name)
    return name


@pytest.fixture
def kids() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for kid in started:
        kid.kill()
        kid.wait()


def start(kids: list[subprocess.Popen[bytes]], *args: str) -> dict[str, int]:
    kid = subprocess.Popen([sys.executable, str(TESTS / "pmq_child.py"), *args],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    kids.append(kid)
    assert kid.stdout is not None
    said: dict[str, int] = json.loads(kid.stdout.readline())
    return said


def row_of(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(name + " "))


def test_list_pmq_shows_counts_holders_and_waiters_and_renders_hostile_names_safely(
    queues: list[str], kids: list[subprocess.Popen[bytes]]
) -> None:
    hostile = make(queues, HOSTILE)
    empty = make(queues, PREFIX + "empty")
    sender = start(kids, hostile, "w", "send:abc", "send:defgh")
    receiver = start(kids, empty, "r", "receive")
    wait_until(lambda: f"{receiver['pid']} python" in row_of(
        shmtop("list", "pmq").stdout.decode(), PREFIX + "empty"), "the child blocks")  # fmt: skip
    run = shmtop("list", "pmq")
    assert run.returncode == 0, run.stderr
    out = run.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out
    lines = out.splitlines()
    assert lines[0].startswith("POSIX message queues (2; read through a detached mount")
    assert lines[1].split() == ["NAME", "OWNER", "PERMS", "MSGS", "MSGSIZE", "QSIZE", "LAST",
                                "OP", "STATUS", "NOTIFY", "SENDERS", "RECEIVERS", "HELD",
                                "BY"]  # fmt: skip
    row = row_of(out, SAFE_HOSTILE).split()
    assert row[1:6] == ["root", "640", "2/4", "32B", "8B"]
    assert row[-2:] == [str(sender["pid"]), "python"]  # the holder; nobody waits on it
    waiting = row_of(out, PREFIX + "empty").split()
    assert waiting[3] == "0/4"
    assert waiting[-4:] == [str(receiver["pid"]), "python", str(receiver["pid"]), "python"]


def test_show_pmq_names_the_blocked_receiver_with_its_thread_and_fd(
    queues: list[str], kids: list[subprocess.Popen[bytes]]
) -> None:
    name = make(queues, PREFIX + "show")
    kid = start(kids, name, "r", "receive")
    wait_until(lambda: "receiving (queue empty)" in shmtop("show", "pmq", "--name", name)
               .stdout.decode(), "the child blocks")  # fmt: skip
    run = shmtop("show", "pmq", "--name", name)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.decode().splitlines()
    assert lines[0] == f"POSIX message queue {name}"
    assert "  messages   0 queued of 4, at most 32 bytes each" in lines
    assert "  receivers  1 blocked thread" in lines
    assert any(line.split()[:5] == [str(kid["pid"]), "python", "thread", f"{kid['pid']},", "fd"]
               and line.split()[5] == f"{kid['fd']}:" for line in lines)  # fmt: skip
    assert f"    {kid['pid']} python" in "\n".join(lines)
    missing = shmtop("show", "pmq", "--name", PREFIX + "none")
    assert missing.returncode == 1 and b"no such object" in missing.stderr


def test_rm_pmq_plans_asks_removes_and_refuses_what_is_gone(
    queues: list[str], kids: list[subprocess.Popen[bytes]]
) -> None:
    name = make(queues, HOSTILE)
    kid = start(kids, name, "rw", "send:kept")
    dry = shmtop("rm", "pmq", "--name", name, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    plan = dry.stdout.decode().splitlines()
    assert plan[0].split() == ["NAME", "OWNER", "QUEUED", "EVIDENCE"]
    assert plan[1].startswith(SAFE_HOSTILE) and "1 message, 4B" in plan[1]
    assert f"held by {kid['pid']} (fd {kid['fd']})" in plan[1]
    unasked = shmtop("rm", "pmq", "--name", name)  # no terminal, no --yes
    assert unasked.returncode == 2
    native.mq_close(native.mq_open(name, os.O_RDONLY))  # still there
    done = shmtop("rm", "pmq", "--name", name, "--yes")
    assert done.returncode == 0, done.stderr
    said = done.stdout.decode()
    assert "\x1b" not in said and f"pmq {SAFE_HOSTILE}: unlinked" in said
    with pytest.raises(FileNotFoundError):
        native.mq_open(name, os.O_RDONLY)
    again = shmtop("rm", "pmq", "--name", name, "--yes")  # unlinked, still held: refused
    assert again.returncode == 1 and b"already unlinked" in again.stderr
    missing = shmtop("rm", "pmq", "--name", PREFIX + "none", "--yes")
    assert missing.returncode == 1 and b"no such object" in missing.stderr


def test_pmq_takes_names_only_and_its_own_sort_columns() -> None:
    listing = shmtop("list", "pmq", "--sort", "nattch")  # a segment's column, not a queue's
    assert listing.returncode == 2
    assert listing.stderr.decode().splitlines() == [
        "shmtop: cannot sort by 'nattch'; columns: held, lastop, msgs, msgsize, name, owner,"
        " perms, qsize, status, waiting"
    ]
    watching = shmtop("list", "pmq", "--json", "--watch", "1", "--sort", "size")
    assert watching.returncode == 2 and b"cannot sort by 'size'" in watching.stderr
    by_id = shmtop("rm", "pmq", "3")
    assert by_id.returncode == 2 and b"rm pmq takes --name NAME" in by_id.stderr
    show = shmtop("show", "pmq", "3")
    assert show.returncode == 2 and b"show pmq takes --name NAME" in show.stderr


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv")
def test_without_cap_sys_admin_and_no_mount_list_pmq_says_why_nothing_was_listed() -> None:
    run = subprocess.run(
        ["setpriv", "--bounding-set", "-sys_admin", sys.executable, "-m", "shmtop", "list",
         "pmq"], capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stdout.decode().splitlines() == ["POSIX message queues: none could be listed"]
    assert b"reading one needs CAP_SYS_ADMIN" in run.stderr
