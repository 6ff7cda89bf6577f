"""The POSIX part of a reading: shared memory and named semaphores (one PosixCollector
kept for the exporter's life), message queues, and their limits (core/posix/limits.py:
the mqueue sysctls, the /dev/shm filesystem's room).

Taken by SnapshotSource beside the System V snapshot, under its lock (never two at once),
and reused while younger than its own interval (`--posix-interval`: it reads every
process's maps and fds, which the System V collector does only for what changed); a
failure fails the whole reading (shmtop_up 0).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.limits import PosixLimits, posix_limits
from shmtop.core.posix.model import PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot


@dataclass(frozen=True, slots=True)
class PosixReading:
    """One POSIX scan: /dev/shm and its mappers and holders, the queues, their limits."""

    shm: PosixSnapshot
    queues: MqSnapshot
    limits: PosixLimits


class PosixSource:
    """The exporter's PosixCollector (it remembers other mount namespaces' shm devices),
    and the last reading, reused while younger than interval (0: a new one each time)."""

    def __init__(self, interval: float = 0.0, collector: PosixCollector | None = None) -> None:
        self.interval = interval
        self._collector = collector or PosixCollector()
        self._last: tuple[float, PosixReading] | None = None

    def read(self) -> PosixReading:
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < self.interval:
            return self._last[1]
        shm, queues = self._collector.snapshot(), mqueue.take_snapshot()
        reading = PosixReading(shm, queues, posix_limits(shm, queues))
        self._last = (now, reading)
        return reading

    def close(self) -> None:
        self._collector.close()
