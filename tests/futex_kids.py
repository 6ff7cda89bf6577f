"""Children blocked in futex(2) on shared memory (tests/futex_child.c, compiled once a
session) and the fixtures that start them, kill them and unlink their semaphores."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shmtop.core.binding import native

TESTS = Path(__file__).resolve().parent
MUTEX_AT = 64  # the mutex's offset in the segment


@pytest.fixture(scope="session")
def child_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/futex_child.c compiled (the install needs a C compiler anyway)."""
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler")
    program = tmp_path_factory.mktemp("futex") / "futex_child"
    subprocess.run([compiler, "-O1", "-o", str(program), str(TESTS / "futex_child.c"),
                    "-lpthread"], check=True)  # fmt: skip
    return program


@pytest.fixture(scope="session")
def static_child_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """futex_child linked statically: its maps name no libc.so.6, so its C library (and the
    layout of its semaphores and mutexes) cannot be told from outside."""
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler")
    program = tmp_path_factory.mktemp("futex") / "futex_child_static"
    command = [compiler, "-O1", "-static", "-o", str(program), str(TESTS / "futex_child.c"),
               "-lpthread"]  # fmt: skip
    done = subprocess.run(command, check=False, capture_output=True)
    if done.returncode:
        pytest.skip(f"no static C library: {done.stderr.decode(errors='replace')[-200:]}")
    return program


class Child:
    """One futex_child, talking by lines on stdin and stdout."""

    def __init__(self, program: Path, *args: str) -> None:
        self.process = subprocess.Popen([str(program), *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def line(self) -> list[str]:
        """The next line it prints (bounded: it dies with an error rather than hang)."""
        assert self.process.stdout is not None
        text = self.process.stdout.readline().decode()
        assert text, f"futex_child {self.process.args!r} ended: {self.process.poll()}"
        return text.split()

    def tell(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def kids() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.stop()


@pytest.fixture
def sem_name() -> Iterator[str]:
    """A fresh POSIX semaphore name; unlinked at the end."""
    name = f"/shmtop-futex-{uuid.uuid4().hex[:10]}"
    yield name
    path = f"/dev/shm/sem.{name[1:]}"
    if os.path.exists(path):
        os.unlink(path)


def start(kids: list[Child], program: Path, *args: str) -> Child:
    child = Child(program, *args)
    kids.append(child)
    return child


def post(name: str) -> None:
    """sem_post on a named semaphore, through the binding (glibc's sem_open, sem_post)."""
    sem = native.NamedSemaphore(name)
    try:
        sem.post()
    finally:
        sem.close()
