"""The POSIX side of a refresh: shared memory, named semaphores, message queues and their
limits, read in the poll worker beside the System V snapshot."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shmtop.core.namespaces.discover import Namespace
from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.limits import PosixLimits, posix_limits
from shmtop.core.posix.model import PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot


@dataclass(frozen=True, slots=True)
class PosixPart:
    """One IPC namespace's POSIX scans, shown across namespaces (tui/posix_across.py)."""

    namespace: Namespace
    shm: PosixSnapshot | None  # its /dev/shm, named as its processes name them (None: not read)
    acting: PosixSnapshot | None  # another's: the same, paths reachable from here
    queues: MqSnapshot | None
    note: str | None = None  # why a part is missing (not read, shared with another)


@dataclass(frozen=True, slots=True)
class PosixView:
    """One refresh's POSIX scans (the caller's namespace's); a part that failed is None and
    `problem` says why; parts: every namespace shown's, across namespaces (else None)."""

    shm: PosixSnapshot | None
    queues: MqSnapshot | None
    limits: PosixLimits | None
    problem: str | None = None
    parts: tuple[PosixPart, ...] | None = None


class PosixFeed(Protocol):
    """Anything that returns PosixViews: the PosixSource, or a fixed one in tests. `shown`:
    a POSIX tab is on screen (scan now); else a recent view may be returned again."""

    def snapshot(self, shown: bool = True) -> PosixView: ...


# While no POSIX tab is shown, the scans (every process's maps, fds and threads: 10-40 ms
# idle for 1000 processes, several times that on a loaded machine) run at most this often,
# for the meters and the tabs' counts.
IDLE_SECONDS = 10.0


class PosixSource:
    """A POSIX shm scan (one collector for the app's life: it remembers foreign shm
    devices) and a queue scan a refresh. `pids`: the processes to scan for mappers,
    holders and waiters (the demo's own), every process when None."""

    def __init__(
        self, idle_seconds: float = IDLE_SECONDS,
        pids: Callable[[], Sequence[int]] | None = None,
        collector: PosixCollector | None = None,
    ) -> None:  # fmt: skip
        """collector: a PosixCollector of the caller's (full_feed.py: its FullCollector's),
        closed by the caller; else one of its own."""
        self._owned = collector is None
        self._collector = collector or PosixCollector()
        self.idle_seconds = idle_seconds
        self._pids = pids
        self._last: tuple[float, PosixView] | None = None

    def snapshot(self, shown: bool = True) -> PosixView:
        now = time.monotonic()
        if not shown and self._last is not None and now - self._last[0] < self.idle_seconds:
            return self._last[1]
        view = self._scan()
        self._last = (now, view)
        return view

    def kept(self, view: PosixView) -> None:
        """view, scanned by the caller this refresh (full_feed.py), is the last one."""
        self._last = (time.monotonic(), view)

    def _scan(self) -> PosixView:
        problems = []
        shm: PosixSnapshot | None = None
        queues: MqSnapshot | None = None
        pids = None if self._pids is None else self._pids()
        try:
            shm = self._collector.snapshot(pids)
        except OSError as error:
            problems.append(f"POSIX shared memory could not be scanned: {error}")
        try:
            queues = mqueue.take_snapshot(pids)
        except OSError as error:
            problems.append(f"POSIX message queues could not be scanned: {error}")
        limits = posix_limits(shm, queues) if shm is not None else None
        return PosixView(shm, queues, limits, "; ".join(problems) or None)

    def close(self) -> None:
        if self._owned:
            self._collector.close()
