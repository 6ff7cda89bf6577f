"""Snapshots for the scrapes: one at a time, reused while younger than the interval.

Every scrape asks `SnapshotSource.reading()`. Under one lock it returns the last reading
when that is younger than the interval, and otherwise takes a snapshot and a waiter scan
itself; scrapes that arrive meanwhile wait on the lock and then share that reading. So
snapshots never overlap, and however many scrapes come, at most one snapshot an interval
is taken. The POSIX objects are read with it (posix_source.py: when due, one read of
every process gives both the System V snapshot and the POSIX objects). A failed snapshot is a
reading too (with its error), kept for the interval as well: a broken /proc costs one
attempt an interval, not one a scrape.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shmtop.core.model import Snapshot
from shmtop.core.posix.full import FullCollector
from shmtop.core.snapshot.collect import Collector, ipc_namespace_of
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.exporter.namespace_source import EveryNamespace, EveryReading
from shmtop.exporter.posix_source import PosixReading, PosixSource
from shmtop.exporter.settings import DEFAULT_INTERVAL


@dataclass(frozen=True, slots=True)
class Reading:
    """One attempt at a snapshot (and its waiter scan), and the counts since start."""

    serial: int  # 1 for the first attempt, 2 for the next...: tells a new reading apart
    snapshot: Snapshot | None  # None when the attempt failed
    waits: WaitReport | None  # the waiter scan taken with it (None when the attempt failed)
    error: str | None  # why it failed, one line; None when it succeeded
    taken_at: float  # epoch seconds when the attempt began
    monotonic: float  # the same moment on the monotonic clock (for the interval)
    duration: float  # seconds the snapshot and the scan took
    attempts: int  # snapshots attempted since start, this one included
    failures: int  # of which failed
    namespace: int  # the collector's IPC namespace (inode of /proc/self/ns/ipc), 0 if unknown
    posix: PosixReading | None = None  # the POSIX scan taken with it (None when it failed)
    every: EveryReading | None = None  # -A: the other namespaces (None without -A, or failed)

    @property
    def up(self) -> bool:
        return self.error is None


class SnapshotSource:
    """The exporter's one Collector and WaiterScanner, behind a lock (module docstring)."""

    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL,
        *,
        collector: Collector | None = None,
        scanner: WaiterScanner | None = None,
        posix: PosixSource | None = None,
        on_error: Callable[[str], None] | None = None,
        every: EveryNamespace | None = None,
    ) -> None:
        self.interval = interval
        self._every = every  # -A: every namespace's System V snapshot instead of ours alone
        if posix is not None and collector is not None:
            raise ValueError("give the Collector to the PosixSource's FullCollector")
        # One System V Collector: the PosixSource's FullCollector feeds it (collector: a
        # Collector of the caller's, e.g. a test's counting one, fed by a new FullCollector).
        self._posix = posix or PosixSource(collector=FullCollector(sysv=collector))
        self._scanner = scanner or WaiterScanner()
        self._on_error = on_error
        self._namespace = ipc_namespace_of("self") or 0
        self._lock = threading.Lock()
        self._last: Reading | None = None
        self._attempts = 0
        self._failures = 0

    def reading(self) -> Reading:
        """The last reading if younger than the interval, else a new one (taken here)."""
        with self._lock:
            last = self._last
            if last is not None and time.monotonic() - last.monotonic < self.interval:
                return last
            self._last = self._take()
            return self._last

    @property
    def last(self) -> Reading | None:
        """The last reading, without taking one (None before the first)."""
        return self._last

    def _take(self) -> Reading:
        self._attempts += 1
        taken_at, start = time.time(), time.monotonic()
        snapshot: Snapshot | None = None
        waits: WaitReport | None = None
        posix: PosixReading | None = None
        error: str | None = None
        every: EveryReading | None = None
        try:
            if self._every is not None:
                every = self._every.read()
                snapshot = every.snapshot
                posix = every.ours_only(self._posix.read())
            else:
                snapshot, posix = self._posix.with_sysv()
            waits = self._scanner.scan()
        # Whatever goes wrong, the exporter keeps answering (shmtop_up 0), and says why.
        except Exception as failure:
            self._failures += 1
            snapshot, waits, posix, every = None, None, None, None
            error = f"{type(failure).__name__}: {failure}"
            if self._on_error is not None and (self._last is None or self._last.error != error):
                self._on_error(error)  # once a cause, not once an interval
        return Reading(
            serial=self._attempts,
            snapshot=snapshot,
            waits=waits,
            error=error,
            taken_at=taken_at,
            monotonic=start,
            duration=time.monotonic() - start,
            attempts=self._attempts,
            failures=self._failures,
            namespace=snapshot.ipc_namespace if snapshot else self._namespace,
            posix=posix,
            every=every,
        )

    def close(self) -> None:
        self._posix.close()  # and the System V Collector it feeds
        if self._every is not None:
            self._every.close()
