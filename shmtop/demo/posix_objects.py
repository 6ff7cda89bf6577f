"""The POSIX part of `shmtop demo`: shared memory, a named semaphore and a message queue,
made only in the demo's private /dev/shm and /dev/mqueue (see namespace.isolate), and what
their children do once forked.

- /demo-prices, 64 KiB: demo-pshm-rw maps it read-write and writes a price line now
  and then, demo-pshm-ro maps it read-only and reads it;
- /demo-scratch, 16 KiB: mapped by demo-pshm-hold, then unlinked (shm_unlink) while still
  mapped: memory no `ls /dev/shm` shows, the leak case;
- /demo-gate, a glibc named semaphore (/dev/shm/sem.demo-gate) kept at 0, on which
  demo-psem-wait waits in sem_wait;
- /demo-jobs, a message queue: demo-pmq-sender sends a job every PMQ_SEND_PACE s,
  demo-pmq-recv takes them more slowly, so a few stay queued (and it waits in
  mq_receive whenever the queue is empty).
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import random
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from typing import Literal

from shmtop.core.binding import native
from shmtop.core.posix.model import SEM_PREFIX, SHM_DIR
from shmtop.demo.children import Report, forever

PosixRole = Literal["pshm-ring", "pshm-leak", "psem-gate", "pmq-jobs"]
PosixWhat = Literal["pshm", "psem", "pmq"]

PRICES = "/demo-prices"
PRICES_SIZE = 64 * 1024
SCRATCH = "/demo-scratch"
SCRATCH_SIZE = 16 * 1024
GATE = "/demo-gate"
JOBS = "/demo-jobs"
JOBS_MAX_MESSAGES = 8
JOBS_MESSAGE_SIZE = 128

PRICE_PACE = (0.3, 0.9)  # seconds between the writer's lines
VIEWER_PACE = 1.0
PMQ_SEND_PACE = 0.5
PMQ_RECEIVE_PACE = 1.5
PMQ_BACKLOG = 4  # the receiver catches up when more than this many are queued

WORDS: dict[PosixWhat, str] = {
    "pshm": "POSIX shm",
    "psem": "POSIX semaphore",
    "pmq": "POSIX queue",
}
# What each object is for, as the guide and the "demo: ..." lines say it (the guide has
# 22 rows at 80x24: keep each short).
NOTES: dict[PosixRole, str] = {
    "pshm-ring": "64 KiB price lines, rw demo-pshm-rw, ro demo-pshm-ro",
    "pshm-leak": "16 KiB unlinked (shm_unlink) while demo-pshm-hold maps it: memory no"
    " `ls /dev/shm` shows, gone at the last unmap",
    "psem-gate": "named semaphore (/dev/shm/sem.demo-gate) kept at 0: demo-psem-wait waits on it",
    "pmq-jobs": f"message queue (at most {JOBS_MAX_MESSAGES} of {JOBS_MESSAGE_SIZE} bytes): jobs"
    " from demo-pmq-sender, received more slowly by demo-pmq-recv",
}


@dataclass(frozen=True, slots=True)
class PosixDemoObject:
    """One POSIX object the demo made, by name ("/demo-prices")."""

    what: PosixWhat
    name: str
    role: PosixRole
    note: str

    def described(self) -> str:
        """'POSIX shm /demo-prices: 64 KiB ...' (Demo.describe's line)."""
        return f"{WORDS[self.what]} {self.name}: {self.note}"


def shm_path(name: str) -> str:
    return f"{SHM_DIR}/{name.lstrip('/')}"


def sem_path(name: str) -> str:
    return f"{SHM_DIR}/{SEM_PREFIX}{name.lstrip('/')}"


@cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sem_open.restype = ctypes.c_void_p
    libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
    libc.sem_wait.argtypes = [ctypes.c_void_p]
    libc.sem_close.argtypes = [ctypes.c_void_p]
    return libc


def _sem_open(name: str, flags: int, mode: int = 0, value: int = 0) -> int:
    handle = _libc().sem_open(name.encode(), flags, mode, value)
    if not handle:
        number = ctypes.get_errno()
        raise OSError(number, f"sem_open({name!r}): {os.strerror(number)}")
    return int(handle)


# ---- made by the demo process ----


def make_shm(name: str, size: int) -> None:
    """shm_open(O_CREAT | O_EXCL) and ftruncate: glibc's shm_open is an open in /dev/shm."""
    fd = os.open(shm_path(name), os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def make_sem(name: str, value: int) -> None:
    handle = _sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, value)
    _libc().sem_close(handle)


def make_queue(name: str) -> None:
    fd = native.mq_open(
        name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600,
        max_messages=JOBS_MAX_MESSAGES, max_size=JOBS_MESSAGE_SIZE,
    )  # fmt: skip
    native.mq_close(fd)


def unlink_shm(name: str) -> None:
    os.unlink(shm_path(name))


def unlink_sem(name: str) -> None:
    os.unlink(sem_path(name))


REMOVE: dict[PosixWhat, Callable[[str], None]] = {
    "pshm": unlink_shm,
    "psem": unlink_sem,
    "pmq": native.mq_unlink,
}


def remove(made: PosixDemoObject) -> None:
    """Unlink it; one already gone (the leak case, unlinked on purpose) is fine."""
    with suppress(FileNotFoundError):
        REMOVE[made.what](made.name)


# ---- the children ----


def _map(name: str, size: int, *, writable: bool) -> mmap.mmap:
    fd = os.open(shm_path(name), (os.O_RDWR if writable else os.O_RDONLY) | os.O_NOFOLLOW)
    try:
        prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
        return mmap.mmap(fd, size, mmap.MAP_SHARED, prot)
    finally:
        os.close(fd)  # the mapping stays: the view finds it in /proc/PID/maps


def price_writer(report: Report) -> None:
    prices = _map(PRICES, PRICES_SIZE, writable=True)
    report.ready()
    tick = 0
    while True:
        tick += 1
        line = f"tick {tick} sku {random.randint(100, 999)} price {random.randint(100, 9999)}\n"
        record = line.encode("ascii")
        offset = (tick * 64) % PRICES_SIZE
        prices[offset : offset + len(record)] = record
        time.sleep(random.uniform(*PRICE_PACE))


def price_viewer(report: Report) -> None:
    prices = _map(PRICES, PRICES_SIZE, writable=False)
    report.ready()
    while True:
        time.sleep(VIEWER_PACE)
        prices[:64]


def scratch_holder(report: Report) -> None:
    scratch = _map(SCRATCH, SCRATCH_SIZE, writable=True)
    text = b"unlinked (shm_unlink) while mapped: lives until the last unmap\n"
    scratch[0 : len(text)] = text
    report.ready()
    forever()


def gate_waiter(report: Report) -> None:
    handle = _sem_open(GATE, 0)
    report.ready()
    while True:  # nobody posts: blocked until killed
        if _libc().sem_wait(handle) != 0 and ctypes.get_errno() != errno.EINTR:
            number = ctypes.get_errno()
            raise OSError(number, f"sem_wait: {os.strerror(number)}")


def job_sender(report: Report) -> None:
    queue = native.mq_open(JOBS, os.O_WRONLY | os.O_NONBLOCK)
    report.ready()
    number = 0
    while True:
        time.sleep(PMQ_SEND_PACE)
        number += 1
        text = f"job #{4000 + number}: resize image {random.randint(1, 999)}.png"
        with suppress(BlockingIOError):  # full (the receiver is behind): skip this one
            native.mq_send(queue, text.encode("ascii"), priority=number % 3)


def job_receiver(report: Report) -> None:
    queue = native.mq_open(JOBS, os.O_RDONLY)
    report.ready()
    while True:
        time.sleep(PMQ_RECEIVE_PACE)
        native.mq_receive(queue, JOBS_MESSAGE_SIZE)  # blocks while the queue is empty
        while native.mq_getattr(queue).messages > PMQ_BACKLOG:
            native.mq_receive(queue, JOBS_MESSAGE_SIZE)
