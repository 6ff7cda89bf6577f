"""The POSIX shm and semaphore records of a `list --json --watch` of every kind, each encoded
once and written again while it holds (text/watch_records.py does it for System V).

A steady full snapshot keeps an object that did not change (the same PosixObject: core/
posix/full.py carries the processes that did not run, and the join is last time's where
nothing differs), so most of a line's POSIX records are those of the line before. Beyond
its object a record depends on the scan's processes (the mappers' and holders' commands),
what makes the leak rule hold back (hidden processes, how many could not be inspected, the
uids running) and its verdict, which may turn with the clock (its idle seconds): while
those are the same, its JSON is the one encoded for it before; the bytes are exactly
posix_documents.object_record's encoded by the encoder given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from msgspec import UNSET, UnsetType

from shmtop.core.posix.model import PosixObject, PosixSnapshot
from shmtop.core.posix.verdicts import judge
from shmtop.text.documents import NamespaceRecord
from shmtop.text.posix_documents import object_record

Encoder = Callable[[Any], bytes]
_Context = tuple[Mapping[int, object], str | None, int, frozenset[int], object]


class PosixWatchRecords:
    """One watch's encoded POSIX records, kept from one line to the next (one thread)."""

    def __init__(self, encode: Encoder) -> None:
        self._encode = encode
        # the key of a scan (its namespace inode, 0: the caller's alone) -> its context
        self._contexts: dict[int, _Context] = {}
        # id(object) -> (the object, held so that the id names it; its verdict; its JSON)
        self._kept: dict[int, tuple[PosixObject, tuple[object, str], bytes]] = {}
        self._next: dict[int, tuple[PosixObject, tuple[object, str], bytes]] = {}

    def begin(self) -> None:
        """A new line: what the last one encoded is kept for it, the rest let go."""
        self._kept, self._next = self._next, {}

    def encoded(
        self,
        objects: Sequence[PosixObject],
        snapshot: PosixSnapshot,
        namespace: NamespaceRecord | UnsetType = UNSET,
    ) -> Iterator[bytes]:
        """object_record(o, snapshot, namespace) of each object, as its encoded JSON."""
        inode = namespace.inode if isinstance(namespace, NamespaceRecord) else 0
        context = (snapshot.processes, snapshot.processes_hidden, len(snapshot.uninspected),
                   snapshot.uids_running, namespace)  # fmt: skip
        same = self._contexts.get(inode) == context
        self._contexts[inode] = context
        kept, keep, encode = self._kept, self._next, self._encode
        for obj in objects:
            key = id(obj)
            entry = kept.get(key) if same else None
            if entry is not None and entry[0] is obj and (obj.in_use or not obj.linked):
                keep[key] = entry  # in use or unlinked: a verdict the clock does not turn
                yield entry[2]
                continue
            verdict = judge(obj, snapshot)
            said = (verdict.status, verdict.reason)
            if entry is None or entry[0] is not obj or entry[1] != said:
                entry = (obj, said, encode(object_record(obj, snapshot, namespace)))
            keep[key] = entry
            yield entry[2]
