"""The POSIX half of a recording (format 2): POSIX shm objects and named semaphores, POSIX
queues, as the FullCollector gives them; what changed between two of them (a PosixChange),
and the state a reader rebuilds from them.

The FullCollector carries an unchanged object as the very same Struct, so most of a diff is
an identity test; what it rebuilt is compared by value. A queue's atime and ctime move at
every snapshot (the kernel sets them when shmtop reads the queue's file), so a queue that
differs in those alone is not stored again: a reader has them as of the queue's last other
change or key frame (at most a key interval old).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from shmtop.core.posix.model import PosixObject, PosixProcess, PosixSnapshot, ShmMount
from shmtop.core.posix.mqueue_model import MqQueue, MqSnapshot

Key = tuple[int, int]  # (device, inode): an object's identity
T = TypeVar("T")


class PosixRecord(msgspec.Struct, frozen=True, gc=False):
    """A POSIX_KEY frame's body, and what a reader hands back for a moment: the two scans
    (None: that scan failed, `problem` says why)."""

    shm: PosixSnapshot | None
    queues: MqSnapshot | None
    problem: str | None = None


class ShmHead(msgspec.Struct, frozen=True, gc=False):
    """A PosixSnapshot less its time, objects and processes (stored whole when it moved)."""

    mounts: tuple[ShmMount, ...]
    uids_running: frozenset[int]
    uninspected: dict[int, int]
    reader: str
    scanned: int
    processes_hidden: str | None


class QueuesHead(msgspec.Struct, frozen=True, gc=False):
    """An MqSnapshot less its time, queues and processes."""

    source: str
    uninspected: dict[int, int]
    scanned: int
    problem: str | None
    listed: bool
    device: int | None


class PosixChange(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """A POSIX_CHANGE frame's body: what differs from the POSIX part before (its time is
    the frame's). Order: every key, only when it is not the old order less the removed
    plus the new at the end."""

    objects: tuple[PosixObject, ...] = ()  # new or changed
    gone: tuple[Key, ...] = ()
    order: tuple[Key, ...] | None = None
    processes: tuple[PosixProcess, ...] = ()  # new or changed
    processes_gone: tuple[int, ...] = ()
    head: ShmHead | None = None
    queues: tuple[MqQueue, ...] = ()
    queues_gone: tuple[Key, ...] = ()
    queues_order: tuple[Key, ...] | None = None
    queue_processes: tuple[PosixProcess, ...] = ()
    queue_processes_gone: tuple[int, ...] = ()
    queues_head: QueuesHead | None = None

    @property
    def empty(self) -> bool:
        return self == _NOTHING


_NOTHING = PosixChange()


def shm_head(snapshot: PosixSnapshot) -> ShmHead:
    return ShmHead(snapshot.mounts, snapshot.uids_running, snapshot.uninspected,
                   snapshot.reader, snapshot.scanned, snapshot.processes_hidden)  # fmt: skip


def queues_head(snapshot: MqSnapshot) -> QueuesHead:
    return QueuesHead(snapshot.source, snapshot.uninspected, snapshot.scanned,
                      snapshot.problem, snapshot.listed, snapshot.device)  # fmt: skip


def _shm_key(obj: PosixObject) -> Key:
    return (obj.dev, obj.inode)


def _queue_key(queue: MqQueue) -> Key:
    return (queue.entry.dev, queue.entry.inode)


def _same(a: Any, b: Any) -> bool:
    return a is b or a == b


def _queue_same(a: MqQueue, b: MqQueue) -> bool:
    """Equal but for the entry's atime and ctime (our own read of the file moves them)."""
    if a is b or a == b:
        return True
    old, new = a.entry, b.entry
    return (a.holders == b.holders and a.waiters == b.waiters
            and msgspec.structs.replace(old, atime=new.atime, ctime=new.ctime) == new)  # fmt: skip


def diff(
    old: Sequence[T], new: Sequence[T], key: Callable[[T], Key], same: Callable[[T, T], bool]
) -> tuple[tuple[T, ...], tuple[Key, ...], tuple[Key, ...] | None]:
    """(new or changed, removed keys, the full order if apply would not get it)."""
    if len(old) == len(new) and all(map(same, old, new)):  # the usual: nothing moved
        return (), (), None  # (an equal object has the same key: the same dev and inode)
    before = {key(o): o for o in old}
    changed = tuple(o for o in new if (b := before.get(key(o))) is None or not same(b, o))
    now = {key(o) for o in new}
    gone = tuple(k for k in before if k not in now)
    expected = [k for k in before if k in now] + [key(o) for o in new if key(o) not in before]
    keys = [key(o) for o in new]
    return changed, gone, (None if keys == expected else tuple(keys))


def _processes(
    old: Mapping[int, PosixProcess], new: Mapping[int, PosixProcess]
) -> tuple[tuple[PosixProcess, ...], tuple[int, ...]]:
    if old is new or old == new:
        return (), ()
    changed = tuple(p for pid, p in new.items() if not _same(old.get(pid), p))
    return changed, tuple(pid for pid in old if pid not in new)


def change_between(old: PosixRecord, new: PosixRecord) -> PosixChange | None:
    """What a reader holding `old` needs to have `new`; None: a key frame is needed (a scan
    failed or came back, or the problem changed)."""
    if old.problem != new.problem or (old.shm is None) != (new.shm is None):
        return None
    if (old.queues is None) != (new.queues is None):
        return None
    fields: dict[str, Any] = {}
    if old.shm is not None and new.shm is not None:
        changed, gone, order = diff(old.shm.objects, new.shm.objects, _shm_key, _same)
        procs, procs_gone = _processes(old.shm.processes, new.shm.processes)
        head = shm_head(new.shm)
        fields.update(objects=changed, gone=gone, order=order, processes=procs,
                      processes_gone=procs_gone,
                      head=None if head == shm_head(old.shm) else head)  # fmt: skip
    if old.queues is not None and new.queues is not None:
        changed_q, gone_q, order_q = diff(old.queues.queues, new.queues.queues, _queue_key,
                                          _queue_same)  # fmt: skip
        procs, procs_gone = _processes(old.queues.processes, new.queues.processes)
        head_q: QueuesHead | None = queues_head(new.queues)
        if head_q == queues_head(old.queues):
            head_q = None
        fields.update(queues=changed_q, queues_gone=gone_q, queues_order=order_q,
                      queue_processes=procs, queue_processes_gone=procs_gone,
                      queues_head=head_q)  # fmt: skip
    return PosixChange(**fields)


def _apply(
    table: dict[Key, T], changed: Iterable[T], gone: Sequence[Key], order: Sequence[Key] | None,
    key: Callable[[T], Key],
) -> dict[Key, T]:  # fmt: skip
    for k in gone:
        table.pop(k, None)
    for obj in changed:
        table[key(obj)] = obj
    return table if order is None else {k: table[k] for k in order}


class PosixState:
    """A reader's POSIX part under construction: a POSIX key frame, then PosixChanges
    applied in place. Its record() hands back the same Structs while no change came."""

    __slots__ = ("_built", "head", "objects", "problem", "processes", "queue_processes",
                 "queues", "queues_head")  # fmt: skip

    def __init__(self, record: PosixRecord) -> None:
        self.problem = record.problem
        shm, queues = record.shm, record.queues
        self.head = shm_head(shm) if shm is not None else None
        self.objects = {_shm_key(o): o for o in shm.objects} if shm is not None else {}
        self.processes = dict(shm.processes) if shm is not None else {}
        self.queues_head = queues_head(queues) if queues is not None else None
        self.queues = {_queue_key(q): q for q in queues.queues} if queues is not None else {}
        self.queue_processes = dict(queues.processes) if queues is not None else {}
        self._built: PosixRecord | None = record

    def apply(self, change: PosixChange) -> None:
        if change.empty:
            return
        self._built = None
        self.objects = _apply(self.objects, change.objects, change.gone, change.order, _shm_key)
        for pid in change.processes_gone:
            self.processes.pop(pid, None)
        self.processes.update((p.pid, p) for p in change.processes)
        if change.head is not None:
            self.head = change.head
        self.queues = _apply(self.queues, change.queues, change.queues_gone,
                             change.queues_order, _queue_key)  # fmt: skip
        for pid in change.queue_processes_gone:
            self.queue_processes.pop(pid, None)
        self.queue_processes.update((p.pid, p) for p in change.queue_processes)
        if change.queues_head is not None:
            self.queues_head = change.queues_head

    def record(self, taken_at: float) -> PosixRecord:
        """The POSIX part as of the last frame applied (taken_at: that frame's time)."""
        if self._built is not None:
            return self._built
        shm = queues = None
        if (h := self.head) is not None:
            shm = PosixSnapshot(taken_at, tuple(self.objects.values()), h.mounts,
                                dict(self.processes), h.uids_running, h.uninspected,
                                h.reader, h.scanned, h.processes_hidden)  # fmt: skip
        if (q := self.queues_head) is not None:
            queues = MqSnapshot(taken_at, tuple(self.queues.values()), q.source,
                                dict(self.queue_processes), q.uninspected, q.scanned,
                                q.problem, q.listed, q.device)  # fmt: skip
        self._built = PosixRecord(shm, queues, self.problem)
        return self._built
