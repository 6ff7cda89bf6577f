"""One waiter scan's report: the objects waited on, the wait-for graph, each wait's verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from shmtop.core.waits import waitgraph
from shmtop.core.waits.records import NamedSemaphore, QueueState, SemState, WaitKind
from shmtop.core.waits.wait_verdict import (
    Outcome,
    ProcessStatus,
    Verdict,
    candidates,
    edges_by_waiter,
    judge,
)
from shmtop.core.waits.waitgraph import Release, WaitCycle

if TYPE_CHECKING:
    from shmtop.core.waits.records import Waiter


@dataclass(frozen=True, slots=True)
class WaitReport:
    """One scan: the waiters, what they wait on, the wait-for graph, and what was not seen."""

    taken_at: float
    waiters: tuple[Waiter, ...]
    semaphore_sets: Mapping[int, SemState]
    queues: Mapping[int, QueueState]
    releases: tuple[Release, ...]
    cycles: tuple[WaitCycle, ...]  # deadlocks: groups only their own members could release
    verdicts: tuple[Verdict, ...]  # one a waiter, in the same order
    statuses: Mapping[int, ProcessStatus]  # each waiter and candidate releaser
    processes: Mapping[int, str]  # command of each live waiter and releaser (untrusted text)
    processes_scanned: int
    tasks_scanned: int
    unreadable: Mapping[str, int]  # reason -> processes whose threads could not be read
    ignored: Mapping[str, int]  # reason -> blocked threads left out
    stuck_after: float
    hidden: str | None = None  # why /proc may not show every process (hidepid)
    unsupported: str | None = None  # why no scan was possible at all
    # Title of each live waiter and releaser that has one (Process.title; untrusted text).
    titles: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    # Named semaphores waited on, or whose nwaiters is not 0 (stale when above the live ones).
    named_semaphores: tuple[NamedSemaphore, ...] = ()
    # User (name) of each live waiter and releaser, for the views that group by user.
    users: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    # Lookups by waiter, made from the fields above (also by dataclasses.replace).
    _edges: Mapping[tuple[int, WaitKind, int], tuple[Release, ...]] = field(
        init=False, repr=False, compare=False
    )
    _verdicts: Mapping[tuple[int, int, WaitKind, int], Verdict] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_edges", edges_by_waiter(self.releases))
        object.__setattr__(self, "_verdicts", {
            (v.pid, v.tid, v.kind, v.object_id): v for v in self.verdicts})  # fmt: skip

    def on(self, kind: WaitKind, ident: int) -> tuple[Waiter, ...]:
        """The waiters of one object."""
        return tuple(w for w in self.waiters if w.kind is kind and w.object_id == ident)

    def counts(self) -> dict[tuple[WaitKind, int], int]:
        """Blocked threads per object, for a count column."""
        return dict(Counter((w.kind, w.object_id) for w in self.waiters))

    def releases_of(self, waiter: Waiter) -> tuple[Release, ...]:
        """The candidate releasers of one thread (the edges its verdict rests on)."""
        return candidates(waiter, self._edges.get((waiter.pid, waiter.kind, waiter.object_id), ()))

    def verdict_of(self, waiter: Waiter) -> Verdict:
        return self._verdicts[waiter.pid, waiter.tid, waiter.kind, waiter.object_id]

    @property
    def stuck(self) -> tuple[Verdict, ...]:
        """The waits nobody can release (deadlocks are in cycles)."""
        return tuple(v for v in self.verdicts if v.outcome is Outcome.STUCK)

    @property
    def unreadable_total(self) -> int:
        return sum(self.unreadable.values())

    @property
    def complete(self) -> bool:
        """Every process could be inspected: a wait not listed does not exist."""
        return not (self.unsupported or self.unreadable_total or self.hidden)

    def blind_spot(self) -> str | None:
        """'3 processes could not be inspected (3 permission denied)', hidepid, or None."""
        parts = []
        if self.unreadable_total:
            reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.unreadable.items()))
            noun = "process" if self.unreadable_total == 1 else "processes"
            parts.append(f"{self.unreadable_total} {noun} could not be inspected ({reasons})")
        if self.hidden:
            parts.append(self.hidden)
        return "; ".join(parts) or None

    def summary(self) -> str:
        """The scan's verdict in one line: never 'nobody is blocked' while some were unseen."""
        if self.unsupported:
            return f"unknown: waiters cannot be scanned here ({self.unsupported})"
        blind = self.blind_spot()
        if not self.waiters:
            return f"unknown: {blind}" if blind else "nobody is blocked"
        counts = Counter(v.outcome for v in self.verdicts)
        noun = "thread" if len(self.waiters) == 1 else "threads"
        text = f"{len(self.waiters)} {noun} blocked: " + ", ".join(
            f"{counts[o]} {o}" for o in Outcome if counts[o]
        )
        return f"{text}; {blind}: their waits are unknown" if blind else text


def assemble(
    now: float,
    waiters: Sequence[Waiter],
    sets: Mapping[int, SemState],
    queues: Mapping[int, QueueState],
    statuses: Mapping[int, ProcessStatus],
    stuck_after: float,
    *,
    edges: Sequence[Release] | None = None,
    **facts: Any,
) -> WaitReport:
    """A report from what a scan read: the wait-for graph, its deadlocks, each wait's verdict.

    facts: the rest of WaitReport's fields (processes, counts, unreadable, ignored, hidden).
    """
    if edges is None:
        edges = waitgraph.releases(waiters, sets, queues)
    judged = judge(waiters, edges, sets, queues, statuses, now, stuck_after)
    return WaitReport(
        taken_at=now, waiters=tuple(waiters), semaphore_sets=MappingProxyType(dict(sets)),
        queues=MappingProxyType(dict(queues)), releases=tuple(edges), cycles=judged.cycles,
        verdicts=judged.verdicts, statuses=MappingProxyType(dict(statuses)),
        stuck_after=stuck_after, **facts,
    )  # fmt: skip
