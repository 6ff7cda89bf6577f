"""The POSIX part of a reading: shared memory and named semaphores (one PosixCollector
kept for the exporter's life), message queues, and the kernel's limit on queues.

Taken by SnapshotSource beside the System V snapshot, under its lock, so it shares the
interval and the never-overlapping rule; a failure fails the whole reading (shmtop_up 0).
"""

from __future__ import annotations

from dataclasses import dataclass

from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.model import PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot

QUEUES_MAX = "/proc/sys/fs/mqueue/queues_max"  # per IPC namespace, like MSGMNI


@dataclass(frozen=True, slots=True)
class PosixReading:
    """One POSIX scan: /dev/shm and its mappers and holders, the queues, queues_max."""

    shm: PosixSnapshot
    queues: MqSnapshot
    queues_max: int | None  # None: unreadable


def queues_max(path: str = QUEUES_MAX) -> int | None:
    """The namespace's limit on message queues (CAP_SYS_RESOURCE goes beyond it)."""
    try:
        with open(path, "rb") as limit:
            return int(limit.read())
    except (OSError, ValueError):
        return None


class PosixSource:
    """The exporter's PosixCollector (it remembers other mount namespaces' shm devices)."""

    def __init__(self, collector: PosixCollector | None = None) -> None:
        self._collector = collector or PosixCollector()

    def read(self) -> PosixReading:
        return PosixReading(self._collector.snapshot(), mqueue.take_snapshot(), queues_max())

    def close(self) -> None:
        self._collector.close()
