"""What changed between two snapshots (a Change), and the state a reader rebuilds from them.

The Collector hands back the very same object for what did not change, so most of a diff is an
identity test; what it rebuilt is compared by value (a rebuilt, equal object costs nothing in
the file). Order is kept: the rebuilt snapshot lists objects as the live one did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import msgspec

from shmtop.core.model import (
    BlindSpots,
    IpcObject,
    Kind,
    Limits,
    MessageQueue,
    Process,
    Segment,
    SemaphoreSet,
    Snapshot,
)

KINDS = (Kind.SHM, Kind.SEM, Kind.MSG)


class Change(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """A CHANGE frame's body: what differs from the snapshot before (its time is the frame's)."""

    segments: tuple[Segment, ...] = ()  # new or changed
    semaphore_sets: tuple[SemaphoreSet, ...] = ()
    queues: tuple[MessageQueue, ...] = ()
    gone: Mapping[str, tuple[int, ...]] = MappingProxyType({})  # kind -> ids removed
    # kind -> every id in order, only when the order is not the old one less the removed
    # plus the new at the end (the kernel reuses a slot: a new id can come first).
    order: Mapping[str, tuple[int, ...]] = MappingProxyType({})
    limits: Limits | None = None
    blind_spots: BlindSpots | None = None
    processes: Mapping[int, Process] = MappingProxyType({})  # new or changed
    processes_gone: tuple[int, ...] = ()
    hidden: Mapping[int, str] | None = None  # all of it, when it changed
    viewer_pid: int | None = None
    ipc_namespace: int | None = None


def _changed(
    old: Sequence[IpcObject], new: Sequence[IpcObject]
) -> tuple[list[Any], list[int], tuple[int, ...] | None]:
    """(new or changed objects, removed ids, the full order if apply would not get it)."""
    if old == new:  # in C, and at once for the same objects: the usual second
        return [], [], None
    if len(old) == len(new):
        # The same ids in the same order, a few objects rebuilt (a segment's RSS moved): a
        # walk by position finds them without two tables of every id.
        moved = [(o, n) for o, n in zip(old, new, strict=True) if o is not n]
        if all(o.id == n.id for o, n in moved):
            return [n for o, n in moved if o != n], [], None
    before = {o.id: o for o in old}
    changed = [o for o in new if (b := before.get(o.id)) is not o and b != o]
    now = {o.id for o in new}
    gone = [i for i in before if i not in now]
    expected = [i for i in before if i in now] + [o.id for o in new if o.id not in before]
    ids = [o.id for o in new]
    return changed, gone, (None if ids == expected else tuple(ids))


def change_between(old: Snapshot, new: Snapshot) -> Change:
    """What a reader holding `old` needs to have `new`."""
    fields: dict[str, Any] = {}
    gone: dict[str, tuple[int, ...]] = {}
    order: dict[str, tuple[int, ...]] = {}
    for kind, name in zip(KINDS, ("segments", "semaphore_sets", "queues"), strict=True):
        changed, removed, full = _changed(old.objects(kind), new.objects(kind))
        if changed:
            fields[name] = tuple(changed)
        if removed:
            gone[str(kind)] = tuple(removed)
        if full is not None:
            order[str(kind)] = full
    if new.limits != old.limits:
        fields["limits"] = new.limits
    if new.blind_spots != old.blind_spots:
        fields["blind_spots"] = new.blind_spots
    processes: dict[int, Process] = {}
    gone_pids: tuple[int, ...] = ()
    if new.processes != old.processes:
        processes = {
            pid: p for pid, p in new.processes.items()
            if (b := old.processes.get(pid)) is not p and b != p
        }  # fmt: skip
        gone_pids = tuple(pid for pid in old.processes if pid not in new.processes)
    if new.hidden != old.hidden:
        fields["hidden"] = dict(new.hidden)
    if new.viewer_pid != old.viewer_pid:
        fields["viewer_pid"] = new.viewer_pid
    if new.ipc_namespace != old.ipc_namespace:
        fields["ipc_namespace"] = new.ipc_namespace
    return Change(gone=gone, order=order, processes=processes, processes_gone=gone_pids, **fields)


class State:
    """A reader's snapshot under construction: a key frame, then Changes applied in place.

    Its snapshots hand back the very same tuple of a kind (and mapping of processes) while
    no Change touched it, as the Collector does live: the view's tables and history then
    skip a kind that did not move (an identity test), instead of walking every object."""

    __slots__ = ("_processes_view", "_tuples", "blind_spots", "hidden", "ipc_namespace",
                 "limits", "objects", "processes", "viewer_pid")  # fmt: skip

    def __init__(self, snapshot: Snapshot) -> None:
        self.objects: dict[Kind, dict[int, Any]] = {
            kind: {o.id: o for o in snapshot.objects(kind)} for kind in KINDS
        }
        self.limits = snapshot.limits
        self.blind_spots = snapshot.blind_spots
        self.processes = dict(snapshot.processes)
        self.hidden: Mapping[int, str] = snapshot.hidden
        self.viewer_pid = snapshot.viewer_pid
        self.ipc_namespace = snapshot.ipc_namespace
        # What the snapshots share while nothing changes (the key frame's own, at first).
        self._tuples: dict[Kind, tuple[Any, ...]] = {k: snapshot.objects(k) for k in KINDS}
        self._processes_view: Mapping[int, Process] | None = snapshot.processes

    def apply(self, change: Change) -> None:
        changed: tuple[tuple[IpcObject, ...], ...] = (
            change.segments, change.semaphore_sets, change.queues,
        )  # fmt: skip
        for kind, objects in zip(KINDS, changed, strict=True):
            table = self.objects[kind]
            removed = change.gone.get(str(kind), ())
            full = change.order.get(str(kind))
            if objects or removed or full is not None:
                self._tuples.pop(kind, None)
            for ident in removed:
                table.pop(ident, None)
            for obj in objects:
                table[obj.id] = obj
            if full is not None:
                self.objects[kind] = {ident: table[ident] for ident in full}
        if change.limits is not None:
            self.limits = change.limits
        if change.blind_spots is not None:
            self.blind_spots = change.blind_spots
        if change.processes or change.processes_gone:
            self._processes_view = None
        for pid in change.processes_gone:
            self.processes.pop(pid, None)
        self.processes.update(change.processes)
        if change.hidden is not None:
            self.hidden = change.hidden
        if change.viewer_pid is not None:
            self.viewer_pid = change.viewer_pid
        if change.ipc_namespace is not None:
            self.ipc_namespace = change.ipc_namespace

    def adopt(self, shown: Snapshot) -> None:
        """Take a snapshot shown before as the source of every object equal to one of it (a
        state rebuilt from a key frame, going back or jumping, decodes them anew): the view
        then finds the same objects, and the same tuple for a kind where all are the same."""
        for kind in KINDS:
            before = shown.objects(kind)
            if self._tuples.get(kind) is before:
                continue
            old = {o.id: o for o in before}
            table = self.objects[kind]
            for ident, obj in table.items():  # values replaced, no key added: safe
                was = old.get(ident)
                if was is not None and was is not obj and was == obj:
                    table[ident] = was
            if len(table) == len(before) and all(
                a is b for a, b in zip(table.values(), before, strict=True)
            ):
                self._tuples[kind] = before
            else:
                self._tuples.pop(kind, None)  # made again from the objects adopted
        if self._processes_view is not shown.processes and self.processes == shown.processes:
            self._processes_view = shown.processes

    def snapshot(self, taken_at: float) -> Snapshot:
        """The snapshot as it was at taken_at (its objects shared with the state: frozen)."""
        tuples = self._tuples
        for kind in KINDS:
            if kind not in tuples:
                tuples[kind] = tuple(self.objects[kind].values())
        if self._processes_view is None:  # a copy: the state goes on changing
            self._processes_view = MappingProxyType(dict(self.processes))
        return Snapshot(
            taken_at=taken_at,
            segments=tuples[Kind.SHM],
            semaphore_sets=tuples[Kind.SEM],
            queues=tuples[Kind.MSG],
            limits=self.limits,
            processes=self._processes_view,
            blind_spots=self.blind_spots,
            viewer_pid=self.viewer_pid,
            ipc_namespace=self.ipc_namespace,
            hidden=self.hidden,
        )
