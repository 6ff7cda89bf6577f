"""POSIX shm objects and the child processes that map them, for the native POSIX tests.

Objects are made with shm_open and sem_open through the binding (native.shm_open,
native.NamedSemaphore: the calls programs make) under a prefix of this test run's own;
children run tests/pshm_child.py (its actions: map-ro, map-rw, hold, shmat-ro:SHMID,
shmat-rw:SHMID, ...). Each test module has thin fixtures around them (shm, kids) that
clean up.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shmtop.core.binding import native
from shmtop.core.posix.model import SHM_DIR

PREFIX = f"shmtop-test-{os.getpid()}-"
_count = itertools.count()
TESTS = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE")
# A command prefix that runs a child as nobody, with no capability.
AS_NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
             "--inh-caps=-all", "--bounding-set=-all"]  # fmt: skip


def next_number() -> int:
    """A number no other object of this run has (for names made by hand)."""
    return next(_count)


class Objects:
    """Makes /dev/shm objects with shm_open; unlinks whatever is left of them at the end."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def make(self, size: int = 3 * PAGE, data: bytes = b"", mode: int = 0o600) -> str:
        name = f"/{PREFIX}{next_number()}"
        fd = native.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode)
        self.names.append(name)
        try:
            os.ftruncate(fd, size)
            if data:
                os.pwrite(fd, data, 0)
        finally:
            os.close(fd)
        return name

    def cleanup(self) -> None:
        for name in self.names:
            with contextlib.suppress(FileNotFoundError):
                native.shm_unlink(name)


@contextmanager
def objects() -> Iterator[Objects]:
    """Objects, all unlinked at the end (and none of this run's left in /dev/shm)."""
    made = Objects()
    try:
        yield made
    finally:
        made.cleanup()
    left = [n for n in os.listdir(SHM_DIR) if n.startswith(PREFIX)]
    assert not left, f"objects left in /dev/shm: {left}"


def path_of(name: str) -> str:
    return SHM_DIR + name


def key_of(name: str) -> tuple[int, int]:
    """The object's identity (device, inode), as the scans join on it."""
    info = os.stat(path_of(name))
    return info.st_dev, info.st_ino


class Kid:
    """A child process running tests/pshm_child.py (or the C mapper); ended by PID."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # bounded: the child dies with an error
        assert line, f"child {command} failed: {self.process.wait()}"
        self.line = line.decode()

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@contextmanager
def children() -> Iterator[list[Kid]]:
    """A list to start Kids into; each is killed at the end."""
    started: list[Kid] = []
    try:
        yield started
    finally:
        for kid in started:
            kid.stop()


def start(kids: list[Kid], name: str, *actions_: str) -> tuple[int, list[list[int]]]:
    """A Python child doing actions on /dev/shm{name}; its pid and mapped ranges."""
    kid = Kid([sys.executable, str(TESTS / "pshm_child.py"), path_of(name), *actions_])
    kids.append(kid)
    said = json.loads(kid.line)
    return said["pid"], said["maps"]


class NamedSemaphores:
    """glibc's sem_open family through the binding (native.NamedSemaphore)."""

    def open(self, name: str, value: int) -> native.NamedSemaphore:
        """A new semaphore (O_CREAT | O_EXCL) at value; the caller closes it."""
        return native.NamedSemaphore(name, os.O_CREAT | os.O_EXCL, 0o600, value)
