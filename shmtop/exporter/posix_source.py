"""The POSIX part of a reading: shared memory and named semaphores, message queues, and
their limits (core/posix/limits.py: the mqueue sysctls, the /dev/shm filesystem's room).

One FullCollector is kept for the exporter's life (core/posix/full.py): when the POSIX
scan is due, the reading's System V snapshot and its POSIX objects come from one read of
every process's maps and fds; between, the same System V Collector takes System V alone
(it reads maps only for what the kernel changed) and the last POSIX scan is reused while
younger than its own interval (`--posix-interval`: a full read costs several times a
steady System V snapshot, since every maps file and fd directory is read again).

Taken by SnapshotSource under its lock (never two at once); a failure fails the whole
reading (shmtop_up 0).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from shmtop.core.model import Snapshot
from shmtop.core.posix import mqueue
from shmtop.core.posix.full import FullCollector, FullSnapshot
from shmtop.core.posix.limits import PosixLimits, posix_limits
from shmtop.core.posix.model import PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot
from shmtop.core.snapshot.collect import Collector


@dataclass(frozen=True, slots=True)
class PosixReading:
    """One POSIX scan: /dev/shm and its mappers and holders, the queues, their limits."""

    shm: PosixSnapshot
    queues: MqSnapshot
    limits: PosixLimits


class PosixSource:
    """The exporter's FullCollector (its PosixCollector remembers other mount namespaces'
    shm devices), and the last POSIX reading, reused while younger than interval (0: a new
    one each time)."""

    def __init__(self, interval: float = 0.0, collector: FullCollector | None = None) -> None:
        self.interval = interval
        self.full = collector or FullCollector()
        self._last: tuple[float, PosixReading] | None = None

    @property
    def sysv(self) -> Collector:
        """The System V Collector the full snapshots feed."""
        return self.full.sysv

    def _reused(self) -> PosixReading | None:
        if self._last is not None and time.monotonic() - self._last[0] < self.interval:
            return self._last[1]
        return None

    def with_sysv(self) -> tuple[Snapshot, PosixReading]:
        """A System V snapshot and a POSIX reading: one full read when the POSIX scan is
        due, else a System V snapshot alone and the reused POSIX reading."""
        reused = self._reused()
        if reused is not None:
            return self.full.sysv.snapshot(), reused
        start = time.monotonic()
        full = self.full.snapshot()
        return full.sysv, self._keep(start, full)

    def read(self) -> PosixReading:
        """The POSIX reading alone (-A: the System V side is every namespace's)."""
        reused = self._reused()
        if reused is not None:
            return reused
        start = time.monotonic()
        shm, queues = self.full.posix.snapshot(), mqueue.take_snapshot()
        reading = PosixReading(shm, queues, posix_limits(shm, queues))
        self._last = (start, reading)
        return reading

    def _keep(self, start: float, full: FullSnapshot) -> PosixReading:
        reading = PosixReading(full.posix, full.queues, posix_limits(full.posix, full.queues))
        self._last = (start, reading)
        return reading

    def close(self) -> None:
        self.full.close()
