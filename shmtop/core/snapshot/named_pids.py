"""The PIDs a snapshot's objects name (creators and last users), each kind's kept while its
objects are the same: a segment's RSS moving makes a new list of rows, and the PIDs of 4000
rows are then taken again in C (itemgetter), not row by row in Python."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

from shmtop.core.model import MessageQueue, SemaphoreSet
from shmtop.core.snapshot import row_changes


class NamedPids:
    """What Collector._lookup_processes looks up beside the attachers."""

    __slots__ = ("_queues", "_rows", "_sets", "_union")

    def __init__(self) -> None:
        self._rows: tuple[Sequence[tuple[int, ...]], tuple[int, int], frozenset[int]] | None
        self._rows = None
        self._sets: tuple[object, frozenset[int]] | None = None
        self._queues: tuple[object, frozenset[int]] | None = None
        self._union: tuple[tuple[frozenset[int], ...], frozenset[int]] | None = None

    def of(
        self,
        rows: Sequence[tuple[int, ...]],
        pid_columns: tuple[int, int],
        sem_sets: tuple[SemaphoreSet, ...],
        queues: tuple[MessageQueue, ...],
    ) -> frozenset[int]:
        """Every cpid and lpid of the rows, lspid and lrpid of the queues, pid of the sets'
        semaphores (zeros included, as the kernel prints them)."""
        last = self._rows
        if last is None or last[0] is not rows or last[1] != pid_columns:
            if (
                last is not None
                and last[1] == pid_columns
                and row_changes.same_in(last[0], rows, pid_columns)  # only RSS or times moved
            ):
                pids = last[2]
            else:
                cpid, lpid = pid_columns
                pids = frozenset(map(itemgetter(cpid), rows)) | frozenset(
                    map(itemgetter(lpid), rows)
                )
            last = self._rows = (rows, pid_columns, pids)
        if self._sets is None or self._sets[0] is not sem_sets:
            self._sets = (sem_sets, frozenset(
                s.pid for sem_set in sem_sets for s in sem_set.semaphores or ()
            ))  # fmt: skip
        if self._queues is None or self._queues[0] is not queues:
            self._queues = (queues, frozenset(q.lspid for q in queues)
                            | frozenset(q.lrpid for q in queues))  # fmt: skip
        parts = (last[2], self._sets[1], self._queues[1])
        union = self._union
        if union is None or any(a is not b for a, b in zip(parts, union[0], strict=True)):
            union = self._union = (parts, parts[0] | parts[1] | parts[2])
        return union[1]
