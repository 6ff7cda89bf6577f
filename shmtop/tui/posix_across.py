"""The POSIX tabs across IPC namespaces (-A, --namespace, the A key): each namespace's
POSIX shm objects and named semaphores, read through /proc/PID/root/dev/shm of a member
(core/posix/namespace_roots.py, as `list pshm -A` and the exporter read them), and its
message queues, read by the thread joined to it (the NamespaceFeed's).

A /dev/shm is one device: a namespace that shares one already shown (`unshare --ipc`
alone shares the caller's) shows none of its own and says so. Runs in the poll worker.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import msgspec

from shmtop.core.namespaces.discover import Namespace
from shmtop.core.namespaces.snapshots import AllNamespaces
from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.limits import PosixLimits, posix_limits, statvfs_of
from shmtop.core.posix.model import SHM_DIR, PosixSnapshot, ShmMount
from shmtop.core.posix.mqueue import MqSnapshot
from shmtop.core.posix.namespace_roots import ShmOwners, scan_shm_acting, shm_dir_of, shm_owners
from shmtop.text.namespace_table import namespace_label
from shmtop.tui.posix_source import IDLE_SECONDS, PosixPart, PosixView
from shmtop.tui.posix_tabs import SHARES

if TYPE_CHECKING:
    from shmtop.tui.namespace_feed import NamespaceFeed


@dataclass
class _Reader:
    """One other namespace's /dev/shm collector (it remembers foreign shm devices)."""

    shm_dir: str
    collector: PosixCollector


class PosixAcross:
    """Each shown namespace's POSIX scans, a refresh (a recent one again while no POSIX tab
    is shown, as PosixSource does)."""

    def __init__(self, feed: NamespaceFeed, idle_seconds: float = IDLE_SECONDS) -> None:
        self._feed = feed
        self.idle_seconds = idle_seconds
        self._readers: dict[int, _Reader] = {}
        self._last: tuple[float, PosixView] | None = None

    def view(self, ours: PosixView, seen: AllNamespaces, shown: bool = True) -> PosixView:
        """ours (the caller's scans, for the meters) with every shown namespace's part."""
        now = time.monotonic()
        last = self._last
        if not shown and last is not None and now - last[0] < self.idle_seconds:
            return replace(last[1], shm=ours.shm, queues=ours.queues,
                           limits=self._limits(last[1].parts or (), ours))  # fmt: skip
        readable = [v.namespace for v in seen.views if v.snapshot is not None]
        owners = shm_owners(readable)
        parts = tuple(self._part(ns, ours, owners) for ns in readable)
        for inode in set(self._readers) - {ns.inode for ns in readable}:
            self._readers.pop(inode).collector.close()
        view = replace(ours, parts=parts, limits=self._limits(parts, ours, fresh=True))
        self._last = (now, view)
        return view

    def _limits(
        self, parts: tuple[PosixPart, ...], ours: PosixView, fresh: bool = False
    ) -> PosixLimits | None:
        """What the POSIX meters read: the one namespace shown when it is another's
        (--namespace NS: its mqueue sysctls, read in its joined thread, and its /dev/shm's
        room), else the caller's (as the System V meters do)."""
        if len(parts) != 1 or parts[0].namespace.current:
            return ours.limits
        last = self._last
        if not fresh and last is not None:
            return last[1].limits
        part = parts[0]
        try:
            found: PosixLimits = self._feed.run_in(part.namespace, _limits_inside, part)
        except (KeyError, OSError):
            return None
        return found

    def _part(self, namespace: Namespace, ours: PosixView, owners: ShmOwners) -> PosixPart:
        notes: list[str] = []
        queues = self._queues(namespace, ours, notes)
        owner = owners.shown_under(namespace)
        if isinstance(owner, str):
            notes.append(owner)
            return PosixPart(namespace, None, None, queues, "; ".join(notes))
        if owner is not namespace:
            label = namespace_label(owner.name, owner.inode)
            notes.append(f"{SHARES}{SHM_DIR} with {label}: its objects are shown there")
            return PosixPart(namespace, None, None, queues, "; ".join(notes))
        if namespace.current:
            shm = _ours_only(ours.shm, owners) if ours.shm is not None else None
            return PosixPart(namespace, shm, None, queues, "; ".join(notes) or None)
        try:
            shown, acting = scan_shm_acting(namespace, self._reader(namespace), owners)
        except OSError as error:
            notes.append(f"its {SHM_DIR} could not be scanned: {error.strerror or error}")
            return PosixPart(namespace, None, None, queues, "; ".join(notes))
        return PosixPart(namespace, shown, acting, queues, "; ".join(notes) or None)

    def _reader(self, namespace: Namespace) -> PosixCollector:
        """Its collector, made again when the member it reads through is another one."""
        where = shm_dir_of(namespace)
        reader = self._readers.get(namespace.inode)
        if reader is None or reader.shm_dir != where:
            if reader is not None:
                reader.collector.close()
            reader = self._readers[namespace.inode] = _Reader(where, PosixCollector(where))
        return reader.collector

    def _queues(self, namespace: Namespace, ours: PosixView, notes: list[str]) -> MqSnapshot | None:
        if namespace.current:
            return ours.queues
        try:
            found: MqSnapshot = self._feed.run_in(namespace, mqueue.take_snapshot,
                                                  list(namespace.pids))  # fmt: skip
        except KeyError:
            notes.append("no longer shown")
            return None
        except OSError as error:
            notes.append(f"its message queues could not be scanned: {error.strerror or error}")
            return None
        return found

    def close(self) -> None:
        for reader in self._readers.values():
            reader.collector.close()
        self._readers.clear()
        self._last = None


def _limits_inside(part: PosixPart) -> PosixLimits:
    """In the namespace's joined thread: its mqueue sysctls and queue count (per IPC
    namespace), and the room of its /dev/shm (statvfs through its member's root)."""
    empty = PosixSnapshot(time.time(), (), (), {}, frozenset(), {}, "", 0)
    limits = posix_limits(empty, part.queues)
    shm = part.acting
    if shm is None:
        return limits
    where = ShmMount(0, "tmpfs", shm_dir_of(part.namespace), True)
    room = statvfs_of(where, len(shm.objects))
    room = msgspec.structs.replace(room, mount_point=SHM_DIR, dev=os.stat(where.mount_point).st_dev)
    return msgspec.structs.replace(limits, filesystems=(room,))


def _ours_only(shm: PosixSnapshot, owners: ShmOwners) -> PosixSnapshot:
    """Our scan without the objects another namespace shows (our scan of every process sees
    a container's objects through their mappers)."""
    ours = owners.ours
    others = {device for device, owner in owners.owners.items() if device != ours}
    if not others:
        return shm
    kept = tuple(o for o in shm.objects if o.dev not in others)
    return msgspec.structs.replace(shm, objects=kept)
