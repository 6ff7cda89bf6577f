"""The sort keys of the POSIX kinds (pshm, psem, pmq), by the column key the view saves as a
tab's sort and `list --sort COL` takes: one table for both (text/posix_columns.py's columns
sort by these), on the object and its scan, so `list` needs no row of the view.

The rule is the System V kinds' (text/columns.ordered): ascending by the key, ties by the
object's identity (device, inode: the view's row id); `--reverse` flips the whole order;
ages sort newest first (the key is minus the time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from shmtop.core.posix.model import MQ_KIND, PosixKind, PosixObject, PosixSnapshot
from shmtop.core.posix.mqueue import MqQueue, MqSnapshot
from shmtop.text import posix_table

ShmKey = Callable[[PosixObject, PosixSnapshot], Any]
QueueKey = Callable[[MqQueue, MqSnapshot], Any]
Order = posix_table.Order


def _sem(word: str) -> ShmKey:
    """The semaphore's value or nwaiters; unknown ones first (-1)."""

    def key(obj: PosixObject, _scan: PosixSnapshot) -> int:
        found = getattr(obj.semaphore, word, None) if obj.semaphore else None
        return -1 if found is None else int(found)

    return key


# fmt: off
_SHARED: dict[str, ShmKey] = {
    "name": lambda o, _s: o.name,
    "owner": lambda o, _s: o.uid,
    "perms": lambda o, _s: o.mode,
}
_MAPS: ShmKey = lambda o, _s: len(o.mapper_pids)  # noqa: E731
_STATUS: ShmKey = posix_table.status
_CHANGED: ShmKey = lambda o, _s: -max(o.mtime, o.ctime)  # noqa: E731
_USERS: ShmKey = lambda o, _s: o.mapper_pids  # noqa: E731
SHM_SORTS: dict[PosixKind, dict[str, ShmKey]] = {
    PosixKind.SHM: {
        **_SHARED, "size": lambda o, _s: o.size, "maps": _MAPS, "status": _STATUS,
        "alloc": lambda o, _s: o.allocated, "changed": _CHANGED, "users": _USERS,
    },
    PosixKind.SEM: {
        **_SHARED, "value": _sem("value"), "nwaiters": _sem("nwaiters"), "maps": _MAPS,
        "status": _STATUS, "changed": _CHANGED, "users": _USERS,
    },
}
QUEUE_SORTS: dict[str, QueueKey] = {
    "name": lambda q, _s: q.name,
    "owner": lambda q, _s: q.entry.uid,
    "perms": lambda q, _s: q.entry.mode,
    "msgs": lambda q, _s: q.entry.state.messages or 0,
    "qsize": lambda q, _s: q.entry.state.qsize or 0,
    "status": lambda q, _s: q.linked,
    "waiting": lambda q, _s: len(q.waiters),
    "msgsize": lambda q, _s: q.entry.state.max_size or 0,
    "lastop": lambda q, _s: -q.entry.mtime,
    "held": lambda q, _s: q.holder_pids,
}
# fmt: on


def sort_names(kind: str) -> list[str]:
    """Every name `list --sort` takes for a POSIX kind (pshm, psem, pmq)."""
    return list(QUEUE_SORTS if kind == MQ_KIND else SHM_SORTS[PosixKind(kind)])


def takes(kind: str, key: str) -> bool:
    return key in sort_names(kind)


def order_by(key: str | None, reverse: bool) -> Order:
    """The objects of a kind in the order of `key` (None: the table's own, named by name,
    then the unlinked), reversed whole with `reverse`; a key the kind has not: its own."""

    def order(snapshot: PosixSnapshot, kind: PosixKind) -> list[PosixObject]:
        objects = posix_table.objects_of(snapshot, kind)
        sort = SHM_SORTS[kind].get(key) if key is not None else None
        if sort is None:
            return objects[::-1] if reverse else objects
        return sorted(objects, key=lambda o: (sort(o, snapshot), o.key), reverse=reverse)

    return order


def sorted_queues(snapshot: MqSnapshot, key: str | None, reverse: bool) -> MqSnapshot:
    """The queue scan with its queues in the order of `key` (None: the listing's own)."""
    queues: Iterable[MqQueue] = snapshot.queues
    sort = QUEUE_SORTS.get(key) if key is not None else None
    if sort is not None:
        queues = sorted(queues, key=lambda q: (sort(q, snapshot), q.key), reverse=reverse)
    elif reverse:
        queues = reversed(snapshot.queues)
    else:
        return snapshot
    return msgspec.structs.replace(snapshot, queues=tuple(queues))
