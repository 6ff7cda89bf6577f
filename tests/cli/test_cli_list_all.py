"""Plain `shmtop list` (`list all`) and `list --json`: the POSIX tables after the System V
ones, on real objects and real mappers.

The session's /dev/shm is a private tmpfs, but a POSIX scan reads every process's maps and
sees objects other mount namespaces map: the tests assert on their own objects only, and
the empty case runs shmtop in a PID, mount and IPC namespace of its own (nothing else seen).
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
from json_schemas import validate

from shmtop.core.binding import native

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")

TESTS = Path(__file__).resolve().parent.parent
NAME = f"shmtop-listall-{os.getpid()}"
QUEUE = f"/shmtop-listall-q-{os.getpid()}"
SV_TITLES = ("Shared memory segments (", "Semaphore sets (", "Message queues (")


def shmtop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shmtop", *args], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


@pytest.fixture
def mapped() -> Iterator[tuple[str, int]]:
    """A /dev/shm object of ours, mapped read-write by a child: (its /NAME, the child's pid)."""
    path = f"/dev/shm/{NAME}"
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o640)
    os.ftruncate(fd, 8192)
    os.close(fd)
    kid = subprocess.Popen(
        [sys.executable, str(TESTS / "pshm_child.py"), path, "map-rw"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert kid.stdout is not None
        yield f"/{NAME}", json.loads(kid.stdout.readline())["pid"]
    finally:
        kid.kill()
        kid.wait()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@pytest.fixture
def queue() -> Iterator[str]:
    flags = os.O_CREAT | os.O_EXCL | os.O_RDWR
    native.mq_close(native.mq_open(QUEUE, flags, 0o640, max_messages=4, max_size=32))
    try:
        yield QUEUE
    finally:
        with contextlib.suppress(FileNotFoundError):
            native.mq_unlink(QUEUE)


@pytest.mark.parametrize("argv", [["list"], ["list", "all"]])
def test_plain_list_shows_the_posix_tables_after_system_v_with_the_mapper(
    argv: list[str], mapped: tuple[str, int], queue: str
) -> None:
    name, pid = mapped
    run = shmtop(*argv)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    titles = [i for i, line in enumerate(lines) if line.startswith(SV_TITLES)]
    shm_title = next(i for i, line in enumerate(lines) if line.startswith("POSIX shared memory ("))
    assert len(titles) == 3 and max(titles) < shm_title
    assert lines[shm_title + 1].split()[:2] == ["NAME", "OWNER"]
    row = next(line for line in lines if line.startswith(name + " "))
    assert lines.index(row) > shm_title and f"{pid} python rw" in row and "640" in row
    mq_title = next(i for i, line in enumerate(lines) if line.startswith("POSIX message queues ("))
    assert mq_title > lines.index(row)
    assert any(line.startswith(queue + " ") for line in lines[mq_title:])


def test_list_json_carries_the_posix_objects_and_validates(
    mapped: tuple[str, int], queue: str
) -> None:
    name, pid = mapped
    run = shmtop("list", "--json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    validate("list", document)
    ours = [o for o in document["posix_shm"] if o["name"] == name]
    assert len(ours) == 1 and ours[0]["in_shm_dir"] and ours[0]["size"] == 8192
    assert [(m["pid"], m["writable"]) for m in ours[0]["mappings"]] == [(pid, True)]
    assert all(o["kind"] == "psem" for o in document["posix_semaphores"])
    assert [q["name"] for q in document["posix_queues"]] == [queue]  # the session's IPC ns
    assert document["posix_scan"]["queues_listed"] is True
    assert {"segments", "semaphore_sets", "queues"} <= document.keys()


@pytest.mark.parametrize(
    "argv",
    [["all", "-A"], ["--watch", "1", "--count", "1"]],
    ids=["all-namespaces", "watch"],
)
def test_list_of_every_kind_across_namespaces_or_watched_has_the_posix_objects(
    argv: list[str], mapped: tuple[str, int]
) -> None:
    """Every kind asked for: the POSIX fields and tables, -A and --watch too (README)."""
    run = shmtop("list", "--json", *argv)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout.splitlines()[0])
    validate("list", document)
    (ours,) = [o for o in document["posix_shm"] if o["name"] == mapped[0]]
    assert [m["pid"] for m in ours["mappings"]] == [mapped[1]]
    # The caller's namespace, with -A or not, as every System V record has it.
    assert ours["namespace"]["current"] is True
    assert ours["namespace"]["inode"] == os.stat("/proc/self/ns/ipc").st_ino
    if "--watch" not in argv:
        plain = shmtop("list", *argv)
        assert plain.returncode == 0, plain.stderr
        assert "POSIX shared memory (" in plain.stdout and mapped[0] in plain.stdout


def test_list_of_one_system_v_kind_stays_system_v(mapped: tuple[str, int]) -> None:
    run = shmtop("list", "shm", "--json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    validate("list", document)
    assert not any(key.startswith("posix_") for key in document)
    plain = shmtop("list", "shm", "-A")
    assert plain.returncode == 0, plain.stderr
    assert "POSIX" not in plain.stdout and mapped[0] not in plain.stdout


def test_list_user_filters_the_posix_objects_too(mapped: tuple[str, int]) -> None:
    run = shmtop("list", "--user", "54321")  # no object of ours is that uid's
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "POSIX shared memory: none of user 54321" in lines
    assert mapped[0] not in run.stdout


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_an_empty_dev_shm_is_one_line_per_kind_not_an_empty_table() -> None:
    """In namespaces of its own (a fresh tmpfs on /dev/shm, only its own processes in /proc,
    an IPC namespace without queues), shmtop sees no POSIX object at all."""
    script = 'mount -t tmpfs shmtop-empty /dev/shm && exec "$@"'
    run = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "--ipc", "sh", "-c", script, "sh",
         sys.executable, "-m", "shmtop", "list"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    posix = lines[
        lines.index("POSIX shared memory: none (no object in /dev/shm, none mapped or open)") :
    ]
    assert [line for line in posix if line] == [
        "POSIX shared memory: none (no object in /dev/shm, none mapped or open)",
        "POSIX named semaphores: none",
        "POSIX message queues: none",
    ]
