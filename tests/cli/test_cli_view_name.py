"""`shmtop view --name NAME` (a POSIX object's hex view) and `view ID --namespace NS`: what
is wrong is said before the view starts, in one line, and off a terminal the view says it
needs one only once the object was found readable."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import hidden
import pytest
from ns_helpers import foreign_namespace

from shmtop.core.binding import native

NAME = f"/shmtop-view-name-{os.getpid()}"
NO_TERMINAL = "the viewer needs a terminal; try 'shmtop dump ID' (or dump --name NAME)"


def shmtop(*args: str) -> hidden.Result:
    return hidden.run(args, nobody=False)


@pytest.fixture
def posix_object() -> Iterator[str]:
    fd = native.shm_open(NAME, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, 4096)
        os.pwrite(fd, b"bytes to view", 0)
    finally:
        os.close(fd)
    yield NAME
    with contextlib.suppress(FileNotFoundError):
        native.shm_unlink(NAME)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "view takes a shmid or --name NAME (one of them)"),
        (("0", "--name", "/x"), "view takes a shmid or --name NAME (one of them)"),
        (("--name", "/x", "--no-attach"), "--no-attach is for a segment"),
    ],
)
def test_view_usage_errors_are_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    done = shmtop("view", *args)
    assert done.code == 2, done
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr


def test_view_of_an_unknown_name_says_so_before_the_terminal() -> None:
    done = shmtop("view", "--name", "/shmtop-no-such-object-here")
    assert done.code == 1, done
    assert "no such" in done.stderr and "terminal" not in done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")
def test_view_of_a_readable_object_only_lacks_the_terminal(posix_object: str) -> None:
    done = shmtop("view", "--name", posix_object)
    assert done.code == 2, done
    assert done.stderr.strip() == f"shmtop: {NO_TERMINAL}"


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) to make and join an IPC namespace",
)
def test_view_of_a_segment_in_another_namespace_is_looked_up_there() -> None:
    with foreign_namespace("shmtop-view-ns") as box:
        theirs = box["shm"][0]
        found = shmtop("view", str(theirs), "--namespace", "shmtop-view-ns")
        assert found.code == 2 and NO_TERMINAL in found.stderr, found  # attached there
        missing = shmtop("view", str(theirs + 1_000_000), "--namespace", "shmtop-view-ns")
        assert missing.code == 1 and "no such object" in missing.stderr, missing
        assert "terminal" not in missing.stderr
