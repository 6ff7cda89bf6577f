"""POSIX message queues and children blocked on them (tests/pmq_child.py), for the waiter
tests: queues made with mq_open and unlinked at the end, children killed by PID."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shmtop.core.binding import native

TESTS = Path(__file__).resolve().parent
_count = itertools.count()


class Queues:
    """Makes queues (name PREFIX-N-SUFFIX); unlinks whatever is left of them at the end."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: list[str] = []

    def make(self, max_messages: int = 4, max_size: int = 64, suffix: str = "") -> str:
        name = f"{self.prefix}{next(_count)}{suffix}"
        flags = os.O_CREAT | os.O_EXCL | os.O_RDWR
        mqd = native.mq_open(name, flags, 0o640, max_messages=max_messages, max_size=max_size)
        native.mq_close(mqd)
        self.names.append(name)
        return name

    def cleanup(self) -> None:
        for name in self.names:
            with contextlib.suppress(FileNotFoundError):
                native.mq_unlink(name)


@pytest.fixture
def mq_queues() -> Iterator[Queues]:
    made = Queues(f"/shmtop-mqw-{os.getpid()}-")
    yield made
    made.cleanup()


class Kid:
    """A child running tests/pmq_child.py (NAME MODE ACTION...), ready once it said so."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(TESTS / "pmq_child.py"), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # bounded: the child dies with an error
        assert line, f"child {args} failed: {self.process.wait()}"
        said = json.loads(line)
        self.pid: int = said["pid"]
        self.fd: int = said["fd"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def mq_kids() -> Iterator[list[Kid]]:
    started: list[Kid] = []
    yield started
    for kid in started:
        kid.stop()


def start(kids: list[Kid], *args: str) -> Kid:
    kid = Kid(*args)
    kids.append(kid)
    return kid


def identity(name: str) -> tuple[int, int]:
    """(device, inode) of a queue, through an mqd of our own (closed again)."""
    mqd = native.mq_open(name, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(mqd)
    finally:
        native.mq_close(mqd)
    return (info.st_dev, info.st_ino)


def send(name: str, payload: bytes) -> None:
    mqd = native.mq_open(name, os.O_WRONLY | os.O_NONBLOCK)
    try:
        native.mq_send(mqd, payload)
    finally:
        native.mq_close(mqd)


def receive(name: str) -> bytes:
    mqd = native.mq_open(name, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return native.mq_receive(mqd, native.mq_getattr(mqd).max_size)[1]
    finally:
        native.mq_close(mqd)
