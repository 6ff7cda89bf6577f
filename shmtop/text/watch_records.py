"""The records of `list --json --watch`, each encoded once and written again while it holds.

A steady line's snapshot reuses every object that did not change (the Collector rebuilds an
object only when what the kernel says of it changed), so most of a line's records are those
of the line before, byte for byte. What else a record depends on is the snapshot's: the
processes (names, titles, whether a user still runs), the PIDs it cannot see (`hidden`), the
blind spots (a segment's attachment note) and the moment (only where the orphan rule turns
on idleness: verdicts.same_later). While those are the same, an object's JSON is the one
encoded for it before; any change of them encodes every record again, as a new watch would.
The bytes are exactly documents.list_records' records encoded by cli/output's encoder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import is_
from typing import Any, NamedTuple

from shmtop.core.model import IpcObject, Snapshot
from shmtop.core.verdicts import Verdict, judge, same_later, turns_with_time
from shmtop.text.documents import (
    ListDocument,
    QueueRecord,
    Record,
    SegmentRecord,
    SemaphoreSetRecord,
    list_records,
    queue_record,
    segment_record,
    semaphore_set_record,
)

Encoder = Callable[[Any], bytes]
# What of the snapshot every record may depend on beyond its object (see the docstring).
_Context = tuple[Mapping[int, object], Mapping[int, str], object]
_MAKERS: dict[str, Callable[[Any, Snapshot], Record]] = {
    "segments": lambda o, s: segment_record(o, s, SegmentRecord),
    "semaphore_sets": lambda o, s: semaphore_set_record(o, s, SemaphoreSetRecord),
    "queues": lambda o, s: queue_record(o, s, QueueRecord),
}


class _Kept(NamedTuple):
    """One kind's records of the last line."""

    objects: Sequence[IpcObject]  # as chosen, in order
    entries: dict[int, tuple[IpcObject, Verdict, bytes]]  # id(object) -> (it, held so that
    # the id names it; its verdict; its JSON)
    encoded: list[bytes]  # the line's records, in order
    turning: list[Verdict]  # the verdicts that may turn with the clock (verdicts.same_later)


class WatchRecords:
    """One watch's encoded records, kept from one line to the next (one watch, one thread).

    A kind whose chosen objects are the very objects of the last line, in the same order,
    with the same context and no verdict turned by the clock since, gives the last line's
    list of records as it is: no look-up an object (a steady line of the large workload
    has 6000)."""

    def __init__(self, encode: Encoder) -> None:
        self._encode = encode
        self._context: _Context | None = None
        self._kept: dict[str, _Kept] = {}

    def records(
        self, snapshot: Snapshot, chosen: Mapping[str, Sequence[Any]]
    ) -> tuple[ListDocument, dict[str, list[bytes]]]:
        """list_records(snapshot, chosen) with each record as its encoded JSON."""
        context = (snapshot.processes, snapshot.hidden, snapshot.blind_spots)
        last = self._context
        if last is None or last != context:
            self._kept = {}
        self._context = context
        kept, self._kept = self._kept, {}
        made: dict[str, list[bytes]] = {}
        for kind, name in (("shm", "segments"), ("sem", "semaphore_sets"), ("msg", "queues")):
            objects = chosen.get(kind)
            if objects is not None:
                line = self._line(objects, snapshot, _MAKERS[name], kept.get(name))
                self._kept[name] = line
                made[name] = line.encoded
        shell = list_records(snapshot, dict.fromkeys(chosen, ()))[0]  # no record made
        return shell, made

    def _line(
        self,
        objects: Sequence[IpcObject],
        snapshot: Snapshot,
        maker: Callable[[Any, Snapshot], Record],
        last: _Kept | None,
    ) -> _Kept:
        at = snapshot.taken_at
        if (
            last is not None
            and len(last.objects) == len(objects)
            and all(map(is_, last.objects, objects))
            and all(same_later(verdict, at) for verdict in last.turning)
        ):
            return last
        entries = last.entries if last is not None else {}
        keep: dict[int, tuple[IpcObject, Verdict, bytes]] = {}
        encoded: list[bytes] = []
        turning: list[Verdict] = []
        encode = self._encode
        for obj in objects:
            key = id(obj)
            entry = entries.get(key)
            if entry is None or entry[0] is not obj or not same_later(entry[1], at):
                entry = (obj, judge(obj, snapshot), encode(maker(obj, snapshot)))
            keep[key] = entry
            encoded.append(entry[2])
            if turns_with_time(entry[1]):
                turning.append(entry[1])
        return _Kept(objects, keep, encoded, turning)
