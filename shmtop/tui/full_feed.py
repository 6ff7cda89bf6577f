"""The view's System V snapshot and its POSIX scans from one read of every process
(core/posix/full.py's FullCollector), a refresh.

The poll worker asks the System V side first (`system_v.snapshot()`), then the POSIX side
(`posix.snapshot(shown)`), in the same thread, one refresh at a time. When a POSIX scan is
due (a POSIX tab was shown at the last refresh, or the idle view is older than
IDLE_SECONDS) the System V side takes a full snapshot and keeps its POSIX part for the
POSIX side; otherwise the System V Collector alone runs (it reads maps only for what the
kernel changed). The POSIX side serves the kept part, or, when none was taken this
refresh (a POSIX tab just opened; -A, whose own snapshot comes from another collector;
the full read failed), scans as posix_source.PosixSource does, with the same collector.
"""

from __future__ import annotations

import time

from shmtop.core.model import Snapshot
from shmtop.core.posix.full import FullCollector
from shmtop.core.posix.limits import posix_limits
from shmtop.tui.posix_source import IDLE_SECONDS, PosixSource, PosixView


class FullFeed:
    """One FullCollector for the app's life: `system_v` is the app's SnapshotSource,
    `posix` its PosixFeed."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.full = FullCollector()
        self.idle_seconds = idle_seconds
        self.posix_source = PosixSource(idle_seconds, collector=self.full.posix)
        self._shown = False  # whether a POSIX tab was shown at the last refresh
        self._pending: PosixView | None = None  # this refresh's, from the full read
        self._scanned_at: float | None = None  # monotonic: the last POSIX view's
        self.system_v = _SystemV(self)
        self.posix = _Posix(self)

    def sysv_snapshot(self) -> Snapshot:
        self._pending = None
        now = time.monotonic()
        due = self._shown or self._scanned_at is None or (
            now - self._scanned_at >= self.idle_seconds
        )  # fmt: skip
        if not due:
            return self.full.sysv.snapshot()
        try:
            full = self.full.snapshot()
        except OSError:  # said by the System V Collector alone, or by the POSIX scan after
            return self.full.sysv.snapshot()
        self._pending = PosixView(full.posix, full.queues, posix_limits(full.posix, full.queues))
        return full.sysv

    def posix_snapshot(self, shown: bool) -> PosixView:
        self._shown = shown
        pending, self._pending = self._pending, None
        if pending is not None:
            self.posix_source.kept(pending)
            self._scanned_at = time.monotonic()
            return pending
        view = self.posix_source.snapshot(shown)
        if shown or self._scanned_at is None:
            self._scanned_at = time.monotonic()
        return view

    def close(self) -> None:
        self.full.close()


class _SystemV:
    """The app's SnapshotSource: the System V snapshot of a refresh."""

    def __init__(self, feed: FullFeed) -> None:
        self._feed = feed

    def snapshot(self) -> Snapshot:
        return self._feed.sysv_snapshot()


class _Posix:
    """The app's PosixFeed: the POSIX view of the same refresh."""

    def __init__(self, feed: FullFeed) -> None:
        self._feed = feed

    def snapshot(self, shown: bool = True) -> PosixView:
        return self._feed.posix_snapshot(shown)
