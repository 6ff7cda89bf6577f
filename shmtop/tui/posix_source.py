"""The POSIX side of a refresh: shared memory, named semaphores, message queues and their
limits, read in the poll worker beside the System V snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.limits import PosixLimits, posix_limits
from shmtop.core.posix.model import PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot


@dataclass(frozen=True, slots=True)
class PosixView:
    """One refresh's POSIX scans; a part that failed is None and `problem` says why."""

    shm: PosixSnapshot | None
    queues: MqSnapshot | None
    limits: PosixLimits | None
    problem: str | None = None


class PosixFeed(Protocol):
    """Anything that returns PosixViews: the PosixSource, or a fixed one in tests."""

    def snapshot(self) -> PosixView: ...


class PosixSource:
    """A POSIX shm scan (one collector for the app's life: it remembers foreign shm
    devices) and a queue scan a refresh."""

    def __init__(self) -> None:
        self._collector = PosixCollector()

    def snapshot(self) -> PosixView:
        problems = []
        shm: PosixSnapshot | None = None
        queues: MqSnapshot | None = None
        try:
            shm = self._collector.snapshot()
        except OSError as error:
            problems.append(f"POSIX shared memory could not be scanned: {error}")
        try:
            queues = mqueue.take_snapshot()
        except OSError as error:
            problems.append(f"POSIX message queues could not be scanned: {error}")
        limits = posix_limits(shm, queues) if shm is not None else None
        return PosixView(shm, queues, limits, "; ".join(problems) or None)

    def close(self) -> None:
        self._collector.close()
