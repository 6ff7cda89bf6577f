"""The poll worker's side of the view across IPC namespaces (-A, --namespace, the A key):
a snapshot of each namespace shown, each taken by a thread joined to it
(core/namespaces/snapshots.py), and the calls (removals, waiter scans) made inside one.

The UI thread only sets `every` (the A key) and reads what the poll posted; the collectors
are made, used and replaced in the poll worker, and a removal's call waits for the poll
under way (one lock), so a namespace's thread is never closed under a removal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from shmtop.core.model import Snapshot
from shmtop.core.namespaces.discover import (
    Census,
    Namespace,
    all_pids,
    can_join,
    census,
    group_by_namespace,
)
from shmtop.core.namespaces.snapshots import AllNamespaces, NamespaceCollectors
from shmtop.core.waits.settings import DEFAULT_STUCK_AFTER
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.text.errors import NAMESPACE_RIGHTS, waiter_scan_failed
from shmtop.tui.probes import peek_queue, scan_waiters

T = TypeVar("T")

# How often the namespaces are counted again (every process's ns/ipc link, and a name for
# each new one): namespaces come and go with containers, rarely within seconds.
CENSUS_SECONDS = 3.0
CANNOT_JOIN = f"-A: {NAMESPACE_RIGHTS}; this namespace only"


class SnapshotSource(Protocol):
    def snapshot(self) -> Snapshot: ...


class NamespaceFeed:
    """Which namespaces the tables show (every one, or `start`: --namespace's, None for the
    caller's), and their snapshots a refresh."""

    def __init__(
        self, *, every: bool = False, start: Namespace | None = None,
        census_seconds: float = CENSUS_SECONDS, pids: Callable[[], Iterable[int]] | None = None,
        stuck_after: float = DEFAULT_STUCK_AFTER,
    ) -> None:  # fmt: skip
        """pids: the processes whose namespaces count (a test's own), else every one;
        stuck_after: the other namespaces' waiter scans' (the caller's is the app's)."""
        self._pids = pids
        self.stuck_after = stuck_after
        self._can_join: bool | None = None
        # -A without the privilege: the caller's namespace, and the status line says why.
        self.note = CANNOT_JOIN if every and self.why_not_every() else None
        self.every = every and self.note is None  # the A key's state (set by the UI thread)
        self.start = start  # shown when not every; None: the caller's namespace alone
        self.census_seconds = census_seconds
        self._lock = threading.Lock()
        self._collectors: NamespaceCollectors | None = None
        self._chosen: tuple[int, ...] = ()  # the inodes the collectors read
        self._counted = 0.0  # when the census was taken (monotonic)
        # One waiter scanner a namespace, made and used in its joined thread (a scanner
        # takes its namespace from the thread it is made in, and learns how long waits
        # last by living across scans); dropped with the collectors.
        self._scanners: dict[int, WaiterScanner] = {}
        self._members: dict[int, list[int]] = {}  # inode -> its processes, this probe's
        from shmtop.tui.posix_across import PosixAcross  # it calls run_in: imports us

        self.posix = PosixAcross(self)  # the POSIX tabs' scans of each namespace shown

    @property
    def active(self) -> bool:
        """Whether the tables show rows across namespaces (else: the caller's objects)."""
        return self.every or self.start is not None

    def why_not_every(self) -> str | None:
        """Why the A key cannot show every namespace (no privilege), or None."""
        if self._can_join is None:  # asked at every footer refresh: read once
            self._can_join = can_join()
        return None if self._can_join else NAMESPACE_RIGHTS

    def snapshot(self, ours: SnapshotSource) -> tuple[Snapshot, AllNamespaces | None]:
        """The caller's snapshot (for the meters and the views that read it) and, while
        active, every namespace shown; in the poll worker."""
        with self._lock:
            if not self.active:
                self._close()
                return ours.snapshot(), None
            collectors = self._current()
            seen = collectors.snapshot()
        own = next((v.snapshot for v in seen.views if v.namespace.current and v.snapshot), None)
        return (own if own is not None else ours.snapshot()), seen

    def _current(self) -> NamespaceCollectors:
        """The collectors of the namespaces to show now: made again when a new census (one
        every census_seconds) finds that set changed."""
        now = time.monotonic()
        collectors = self._collectors
        if (collectors is not None and now - self._counted < self.census_seconds
                and self._wanted_inodes(collectors.census) == self._chosen):  # fmt: skip
            return collectors
        found = census(self._pids() if self._pids is not None else None)
        self._counted = now
        wanted = self._wanted(found)
        inodes = tuple(ns.inode for ns in wanted)
        if self._collectors is None or inodes != self._chosen:
            self._close()
            self._collectors = NamespaceCollectors(only=wanted, found=found)
            self._chosen = inodes
        return self._collectors

    def _wanted(self, found: Census) -> list[Namespace]:
        if self.every:
            return list(found.namespaces)
        start = self.start
        if start is None:
            return [ns for ns in found.namespaces if ns.current]
        # --namespace's, by inode (its processes may have changed); gone: it stays asked
        # for, and is said refused ("its processes ended") by its joined thread's census.
        again = next((ns for ns in found.namespaces if ns.inode == start.inode), None)
        return [again if again is not None else start]

    def _wanted_inodes(self, found: Census) -> tuple[int, ...]:
        return tuple(ns.inode for ns in self._wanted(found))

    def run_in(self, namespace: Namespace, call: Callable[..., T], *args: Any) -> T:
        """call(*args) inside namespace (its joined thread; ours: here), in any worker
        thread; KeyError if it is no longer shown."""
        with self._lock:
            if namespace.current:
                return call(*args)
            if self._collectors is None:
                raise KeyError(namespace.inode)
            return self._collectors.run_in(namespace, call, *args)

    def probe(
        self, waiters: Iterable[int], peeks: Iterable[tuple[int, int]]
    ) -> tuple[dict[int, tuple[WaitReport | None, str | None]], dict[tuple[int, int], Any]]:
        """Waiter scans inside the other namespaces asked for (by inode), and their queues'
        messages (inode, msqid) copied inside them; in the poll worker, after snapshot()."""
        waits: dict[int, tuple[WaitReport | None, str | None]] = {}
        messages: dict[tuple[int, int], Any] = {}
        with self._lock:
            collectors = self._collectors
            if collectors is None:
                return waits, messages
            shown = {ns.inode: ns for ns in collectors.census.namespaces if not ns.current}
            if waiters:  # each scan reads its namespace's processes only (of all: 20x)
                self._members = group_by_namespace(all_pids())[0]
            for inode in sorted(set(waiters)):
                namespace = shown.get(inode)
                if namespace is None:
                    continue
                try:
                    waits[inode] = collectors.run_in(namespace, self._scan, namespace)
                except (KeyError, OSError) as error:
                    waits[inode] = None, waiter_scan_failed(error)
            for inode, msqid in sorted(set(peeks)):
                namespace = shown.get(inode)
                if namespace is None:
                    continue
                try:
                    messages[(inode, msqid)] = collectors.run_in(namespace, peek_queue, msqid)
                except KeyError:
                    continue
                except OSError as error:
                    messages[(inode, msqid)] = error
        return waits, messages

    def _scan(self, namespace: Namespace) -> tuple[WaitReport | None, str | None]:
        """In the namespace's joined thread: its scanner's scan of the processes in it now
        (not the census's members: one started since waits too)."""
        scanner = self._scanners.get(namespace.inode)
        if scanner is None:
            inode = namespace.inode
            scanner = WaiterScanner(stuck_after=self.stuck_after,
                                    members=lambda: self._members.get(inode, []))  # fmt: skip
            self._scanners[namespace.inode] = scanner
        return scan_waiters(scanner)

    def _close(self) -> None:
        self._scanners.clear()
        self.posix.close()
        if self._collectors is not None:
            self._collectors.close()
            self._collectors = None
            self._chosen = ()

    def close(self) -> None:
        with self._lock:
            self._close()
