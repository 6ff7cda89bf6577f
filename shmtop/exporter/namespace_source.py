"""`shmtop exporter -A`: every IPC namespace in each reading, ours and the others.

A census each reading (/proc/PID/ns/ipc of every process). The System V snapshots come
from one NamespaceCollectors (core/namespaces/snapshots.py: one maps scan of every
process shared by all namespaces, each namespace's tables read by a thread joined to it),
kept while the namespaces are the same ones (their members follow the census) and made
again when one starts or ends. Each other namespace has its own waiter scanner and POSIX
collector, used in its joined thread: its waits are joined to its ids, its queues are its
own. Its /dev/shm is read through a member's root (core/posix/namespace_roots.py), once a
device: a namespace sharing ours (unshare --ipc alone) has its shm objects counted under
ours. A namespace that cannot be joined (no CAP_SYS_ADMIN, its processes ended) is
counted, not shown.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from shmtop.core.model import Snapshot
from shmtop.core.namespaces.discover import Census, Namespace, census
from shmtop.core.namespaces.snapshots import NamespaceCollectors
from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.limits import posix_limits
from shmtop.core.posix.model import PosixSnapshot
from shmtop.core.posix.namespace_roots import ShmOwners, scan_shm, shm_dir_of, shm_owners
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.exporter.posix_source import PosixReading


@dataclass(frozen=True, slots=True)
class NamespacePart:
    """What one other IPC namespace showed in a reading."""

    namespace: Namespace
    snapshot: Snapshot
    waits: WaitReport | None
    posix: PosixReading | None


@dataclass(frozen=True, slots=True)
class EveryReading:
    """Ours (the caller's namespace's System V snapshot), the others, and what was missed."""

    ours: Namespace
    snapshot: Snapshot
    others: tuple[NamespacePart, ...]
    refused: int  # namespaces found but not read (not joined, or ended meanwhile)
    unplaced: int  # processes whose namespace could not be told
    shown_elsewhere: frozenset[int] = frozenset()  # other namespaces' /dev/shm devices

    def ours_only(self, posix: PosixReading) -> PosixReading:
        """Our POSIX reading without the objects another namespace's series show (our scan
        of every process sees a container's objects through their mappers)."""
        if not self.shown_elsewhere:
            return posix
        kept = tuple(o for o in posix.shm.objects if o.dev not in self.shown_elsewhere)
        return dataclasses.replace(posix, shm=msgspec.structs.replace(posix.shm, objects=kept))


class _Other:
    """One other namespace's waiter scanner and POSIX collector (made and used in its
    joined thread: the scanner keeps the namespace of the thread that made it)."""

    def __init__(self, collectors: NamespaceCollectors, namespace: Namespace) -> None:
        self.pids = list(namespace.pids)  # its members now (each reading's census)
        # Its members only: every process's threads, twenty times over, cost 20x a scan.
        self.scanner: WaiterScanner = collectors.run_in(
            namespace, lambda: WaiterScanner(members=lambda: self.pids)
        )
        self.posix = PosixCollector(shm_dir_of(namespace))
        self.last: tuple[float, PosixReading] | None = None  # reused for --posix-interval

    def close(self) -> None:
        self.posix.close()


class EveryNamespace:
    """The exporter's reader of every namespace (module docstring); one reading at a time
    (SnapshotSource's lock)."""

    def __init__(
        self,
        posix_interval: float | None = 0.0,
        wanted: Callable[[Namespace], bool] | None = None,
    ) -> None:
        self.posix_interval = posix_interval  # None: no POSIX scan
        self._wanted = wanted  # which namespaces (a benchmark's own); default every one
        self._collectors: NamespaceCollectors | None = None
        self._others: dict[int, _Other] = {}

    def read(self) -> EveryReading:
        found = census()
        if self._wanted is not None:
            wanted = self._wanted
            found = Census(tuple(ns for ns in found.namespaces if wanted(ns)), found.unplaced)
        collectors = self._collectors
        if collectors is None or not collectors.follow(found):
            self.close()
            collectors = self._collectors = NamespaceCollectors(found=found)
        seen = collectors.snapshot()
        ours = next((v for v in seen.views if v.namespace.current), None)
        if ours is None or ours.snapshot is None:
            raise OSError(ours.refused if ours is not None else "our namespace was not found")
        interval = self.posix_interval
        readable = [v.namespace for v in seen.views if v.snapshot is not None]
        owners = shm_owners(readable) if interval is not None else None
        parts = []
        failed = 0
        latest = {ns.inode: ns for ns in found.namespaces}  # the members as of this census
        for view in seen.views:
            if view.namespace.current or view.snapshot is None:
                continue
            namespace = latest.get(view.namespace.inode, view.namespace)
            try:
                parts.append(self._part(collectors, namespace, view.snapshot, owners))
            except OSError:  # it ended while read: counted, the others still served
                failed += 1
        elsewhere = frozenset(
            device for device, owner in (owners.owners.items() if owners else ())
            if not owner.current
        )  # fmt: skip
        return EveryReading(
            ours.namespace, ours.snapshot, tuple(parts), len(seen.refused) + failed,
            sum(found.unplaced.values()), elsewhere,
        )  # fmt: skip

    def _part(
        self, collectors: NamespaceCollectors, namespace: Namespace, snapshot: Snapshot,
        owners: ShmOwners | None,
    ) -> NamespacePart:  # fmt: skip
        """One other namespace's waits and POSIX reading (reused for --posix-interval),
        each made in its joined thread."""
        other = self._others.get(namespace.inode)
        if other is None:
            other = self._others[namespace.inode] = _Other(collectors, namespace)
        other.pids[:] = namespace.pids
        if other.posix.shm_dir != shm_dir_of(namespace):  # the member it was read through left
            other.posix.close()
            other.posix, other.last = PosixCollector(shm_dir_of(namespace)), None
        waits = collectors.run_in(namespace, other.scanner.scan)
        interval = self.posix_interval
        if owners is None or interval is None:
            return NamespacePart(namespace, snapshot, waits, None)
        now = time.monotonic()
        if other.last is None or now - other.last[0] >= interval:
            read = collectors.run_in(namespace, _posix_of, namespace, other, owners)
            other.last = (now, read)
        return NamespacePart(namespace, snapshot, waits, other.last[1])

    def close(self) -> None:
        for other in self._others.values():
            other.close()
        self._others = {}
        if self._collectors is not None:
            self._collectors.close()
            self._collectors = None


def _posix_of(namespace: Namespace, other: _Other, owners: ShmOwners) -> PosixReading:
    """Run in the namespace's joined thread: its /dev/shm (unless another namespace's scan
    shows it), its queues and their limits (the mqueue sysctls are per namespace)."""
    shown = owners.shown_under(namespace) is namespace
    shm = scan_shm(namespace, other.posix, owners) if shown else _nothing(namespace)
    queues = mqueue.take_snapshot(list(namespace.pids))
    return PosixReading(shm, queues, posix_limits(shm, queues))


def _nothing(namespace: Namespace) -> PosixSnapshot:
    """No shm object of its own: its /dev/shm is shown under another namespace."""
    return PosixSnapshot(time.time(), (), (), {}, frozenset(), {}, "", 0)
