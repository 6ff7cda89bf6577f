"""A POSIX mapper's name and start are read again once FACTS_KEPT_FOR has passed, even while
its maps read the same bytes (a pid reused by a forked sibling reads the same bytes too)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from pshm_kids import objects, path_of

from shmtop.core.posix import collect, full
from shmtop.core.posix.full import FullCollector
from shmtop.core.posix.model import PosixSnapshot

# Maps the file, says so, renames itself (PR_SET_NAME) when told, says so, waits for EOF.
CHILD = r"""
import ctypes, mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
held = mmap.mmap(fd, 4096)
os.close(fd)
libc = ctypes.CDLL(None)
libc.prctl(1, 9)  # PR_SET_PDEATHSIG: dies with the test
print("mapped", flush=True)
sys.stdin.readline()
libc.prctl(15, b"shmtop-renamed")  # PR_SET_NAME
print("renamed", flush=True)
sys.stdin.read()
"""


def _start(path: str) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, path],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdout is not None and child.stdout.readline() == "mapped\n"
    return child


@pytest.fixture
def mappers() -> Iterator[tuple[subprocess.Popen[str], subprocess.Popen[str]]]:
    """Two mappers of one object, of an even and an odd pid: one in each half of the full
    scan (core/posix/full.py splits the processes by pid parity)."""
    with objects() as made:
        path = path_of(made.make(4096))
        started: list[subprocess.Popen[str]] = []
        try:
            while len(started) < 8:  # bounded: pids of both parities come within a few
                started.append(_start(path))
                parities = {c.pid % 2: c for c in started}
                if len(parities) == 2:
                    yield parities[0], parities[1]
                    break
            else:
                pytest.fail("eight children, all of one pid parity")
        finally:
            for child in started:
                child.kill()
                child.wait()


def _command(snapshot: PosixSnapshot, pid: int) -> str:
    return snapshot.processes[pid].command


def test_a_mapper_renamed_under_the_same_maps_is_read_again(
    mappers: tuple[subprocess.Popen[str], subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    child, other = mappers
    # These two alone are scanned: no other process's maps move, so both halves of the scan
    # read the same bytes and the POSIX join is reused (what a steady snapshot does).
    monkeypatch.setattr(full, "all_pids", lambda: sorted((child.pid, other.pid)))
    with FullCollector() as collector:
        first = collector.snapshot().posix
        assert _command(first, child.pid) != "shmtop-renamed"
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline() == "renamed\n"
        monkeypatch.setattr(collect, "FACTS_KEPT_FOR", 0.0, raising=False)  # the gap passed
        later = collector.snapshot().posix
    assert _command(later, child.pid) == "shmtop-renamed"
    assert _command(later, other.pid) == _command(first, other.pid)
