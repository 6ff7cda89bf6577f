"""What each child of `shmtop demo` does once forked: the ring buffer and the roles."""

from __future__ import annotations

import ctypes
import errno
import os
import random
import signal
import struct
import time
from collections.abc import Callable
from contextlib import suppress
from functools import cache
from typing import Any, NoReturn

from shmtop.core.binding import native

# ---- the ring buffer's layout ----

RING_SIZE = 64 * 1024
RING_HEADER = 64  # write index, read index, count (u64 LE), then RING_LABEL
RECORD_SIZE = 64  # one NUL-padded line of text
RING_SLOTS = (RING_SIZE - RING_HEADER) // RECORD_SIZE
HEADER = struct.Struct("<QQQ")
RING_LABEL = b"shmtop demo ring buffer"
MUTEX, EMPTY, FULL = 0, 1, 2  # semaphores of the ring's set

DEST_SIZE = 16 * 1024
ORPHAN_SIZE = 8 * 1024
MESSAGE_SIZE = 128

# ---- pace of the children (seconds) ----

PRODUCER_PACE = (0.15, 0.55)
CONSUMER_PACE = (0.3, 0.9)
READER_PACE = 1.0
SENDER_PACE = 0.5
RECEIVER_PACE = 1.5
QUEUE_BACKLOG = 4  # the receiver catches up when more than this many are queued

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int | bytes) -> None:
    if _libc().prctl(option, value, 0, 0, 0) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"prctl({option}): {os.strerror(number)}")


class Report:
    """A child's one report to the demo process: ready (with a payload) or failed."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def ready(self, payload: str = "") -> None:
        self._send(f"ok {payload}")

    def failed(self, error: BaseException) -> None:
        self._send(f"error {error!r}"[:1000])

    def _send(self, message: str) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.write(fd, message.encode(errors="replace"))
            finally:
                os.close(fd)


def child_main(
    name: str, parent: int, read_fd: int, write_fd: int, job: Callable[[Report], None]
) -> NoReturn:
    """Run in a forked child: never returns, never runs the parent's cleanup code."""
    code = 1
    report = Report(write_fd)
    try:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # the demo died before PDEATHSIG was armed
            os._exit(1)
        # Stop signals are still blocked (see Demo._fork): SIGTERM ends a child at
        # once; SIGINT and SIGHUP (a Ctrl-C or hangup reaches the whole foreground
        # group) are left to the demo process, which ends its children in order.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.close(read_fd)
        _quiet(keep=write_fd)
        _prctl(_PR_SET_NAME, name.encode()[:15])
        job(report)
        code = 0
    except BaseException as error:
        with suppress(BaseException):
            report.failed(error)
    finally:
        os._exit(code)


def _quiet(keep: int) -> None:
    """Stdio to /dev/null and no inherited descriptor (a terminal, a pipe to a test...)."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    for entry in os.listdir("/proc/self/fd"):
        fd = int(entry)
        if fd > 2 and fd != keep:
            with suppress(OSError):
                os.close(fd)


def forever() -> NoReturn:
    while True:
        signal.pause()


class _Ring:
    """The ring buffer as seen through a read-write attachment."""

    def __init__(self, shmid: int) -> None:
        self._buffer = _writable(native.shmat(shmid, 0), RING_SIZE)

    def label(self) -> None:
        self._buffer[HEADER.size : HEADER.size + len(RING_LABEL)] = RING_LABEL

    def put(self, text: str) -> None:
        write, read, count = HEADER.unpack_from(self._buffer, 0)
        offset = RING_HEADER + write * RECORD_SIZE
        self._buffer[offset : offset + RECORD_SIZE] = _record(text)
        HEADER.pack_into(self._buffer, 0, (write + 1) % RING_SLOTS, read, count + 1)

    def take(self) -> bytes:
        write, read, count = HEADER.unpack_from(self._buffer, 0)
        offset = RING_HEADER + read * RECORD_SIZE
        record = bytes(self._buffer[offset : offset + RECORD_SIZE])
        HEADER.pack_into(self._buffer, 0, write, (read + 1) % RING_SLOTS, count - 1)
        return record.rstrip(b"\0")


def _writable(address: Any, size: int) -> Any:
    """A writable buffer (slices, struct.pack_into) over size bytes of an attachment."""
    return native.memory(address, size)


def _record(text: str) -> bytes:
    return text.encode("ascii")[:RECORD_SIZE].ljust(RECORD_SIZE, b"\0")


def producer(report: Report, ring_id: int, guard: int) -> None:
    ring = _Ring(ring_id)
    ring.label()
    report.ready()
    order = 1000
    while True:
        time.sleep(random.uniform(*PRODUCER_PACE))
        order += 1
        text = f"order #{order} qty {random.randint(1, 9)} sku {random.randint(100, 999)}"
        native.semop(guard, [(EMPTY, -1, 0)])
        native.semop(guard, [(MUTEX, -1, native.SEM_UNDO)])
        ring.put(text)
        native.semop(guard, [(MUTEX, 1, native.SEM_UNDO)])
        native.semop(guard, [(FULL, 1, 0)])


def consumer(report: Report, ring_id: int, guard: int) -> None:
    ring = _Ring(ring_id)
    report.ready()
    while True:
        native.semop(guard, [(FULL, -1, 0)])
        native.semop(guard, [(MUTEX, -1, native.SEM_UNDO)])
        ring.take()
        native.semop(guard, [(MUTEX, 1, native.SEM_UNDO)])
        native.semop(guard, [(EMPTY, 1, 0)])
        time.sleep(random.uniform(*CONSUMER_PACE))


def reader(report: Report, ring_id: int) -> None:
    address = native.shmat(ring_id, native.SHM_RDONLY)
    report.ready()
    while True:
        time.sleep(READER_PACE)
        HEADER.unpack(native.copy_out(address, 0, HEADER.size))


def sender(report: Report, queue: int) -> None:
    report.ready()
    number = 0
    while True:
        time.sleep(SENDER_PACE)
        number += 1
        kind = number % 3 + 1
        text = {
            1: f"order #{2000 + number} placed",
            2: f"invoice #{3000 + number} total {random.randint(500, 50000) / 100:.2f}",
            3: f"alert: stock low on sku {random.randint(100, 999)}",
        }[kind]
        with suppress(BlockingIOError):  # queue full (the receiver is stuck): skip this one
            native.msgsnd(queue, kind, text.encode("ascii"))


def _queued(queue: int) -> int:
    for row in native.msg_table():
        if row.id == queue:
            return row.qnum
    return 0


def receiver(report: Report, queue: int) -> None:
    report.ready()
    while True:
        time.sleep(RECEIVER_PACE)
        native.msgrcv(queue, MESSAGE_SIZE, 0, native.MSG_NOERROR)
        while _queued(queue) > QUEUE_BACKLOG:
            try:
                native.msgrcv(queue, MESSAGE_SIZE, 0, native.MSG_NOERROR | native.IPC_NOWAIT)
            except OSError as error:
                if error.errno != errno.ENOMSG:
                    raise
                break


def dest_holder(report: Report, dest: int) -> None:
    text = b"removed (IPC_RMID) while attached: lives until the last detach\n"
    _writable(native.shmat(dest, 0), DEST_SIZE)[0 : len(text)] = text
    report.ready()
    forever()


def orphan_maker(report: Report) -> None:
    shmid = native.shmget(native.IPC_PRIVATE, ORPHAN_SIZE, native.IPC_CREAT | 0o600)
    try:
        with native.attached(shmid, readonly=False) as address:
            text = f"left behind by demo-orphan (pid {os.getpid()}), which exited\n".encode()
            _writable(address, ORPHAN_SIZE)[0 : len(text)] = text
    except BaseException:
        native.shm_rmid(shmid)
        raise
    report.ready(str(shmid))


def blocked(report: Report, semid: int) -> None:
    report.ready()
    while True:  # nobody raises the semaphore: blocked until killed
        native.semop(semid, [(0, -1, 0)])


# ---- headless ----
