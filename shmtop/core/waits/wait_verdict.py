"""Whether each blocked thread can still be released: waiting, stuck, in a deadlock, or unknown.

A long wait is not a fault (an idle server's workers wait on its accept mutex
for hours). A wait is *stuck* only when the evidence shows that nobody can
release it: every candidate releaser (the edges of the wait-for graph,
waitgraph.releases) is gone, or is itself blocked on a chain that ends in a
cycle or a dead process. Processes that release each other only are a
*deadlock*. Whenever a candidate could not be inspected, or none is known, the
verdict is *unknown* and says why: never stuck, never silently fine.
"""

from __future__ import annotations

import enum
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shmtop.core.model import Kind
from shmtop.core.waits.waitgraph import Release, WaitCycle, cycles

if TYPE_CHECKING:
    from shmtop.core.waits.records import QueueState, SemState, Waiter, WaitKind

PID_TIME_SLACK = 1.0  # kernel IPC times are whole seconds


class Liveness(enum.StrEnum):
    """What a process a wait depends on is doing."""

    RUNNING = "running"  # alive, and not every thread of it is blocked in an IPC wait
    BLOCKED = "blocked"  # every thread of it is blocked in an IPC wait the scan lists
    GONE = "gone"  # exited: no such process, or a zombie
    UNKNOWN = "unknown"  # alive (or hidden), but it could not be inspected


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    """One process as the verdicts see it; why says how it is known (or why it is not)."""

    pid: int
    liveness: Liveness
    why: str = ""  # "exited", "a zombie", "permission denied", "hidden from /proc"...
    started: float | None = None  # epoch seconds: tells a reused PID from the old process


class Outcome(enum.StrEnum):
    """The verdict on one wait."""

    WAITING = "waiting"  # a live, unblocked process can release it (directly or down a chain)
    STUCK = "stuck"  # nobody can: its releasers are gone or blocked for good
    DEADLOCK = "deadlock"  # it waits in a group that only its own members could release
    UNKNOWN = "unknown"  # a releaser could not be inspected, or none is known

    @property
    def alarm(self) -> bool:
        return self in (Outcome.STUCK, Outcome.DEADLOCK)


HEADLINE = {
    Outcome.WAITING: "can be released",
    Outcome.STUCK: "nobody can release it",
    Outcome.DEADLOCK: "waits in a deadlock",
    Outcome.UNKNOWN: "cannot tell whether it can be released",
}

Because = tuple[int, str]  # (pid or 0, what of it): "4300", "exited"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict on one blocked thread, with the facts it rests on."""

    pid: int
    tid: int
    kind: WaitKind
    object_id: int
    outcome: Outcome
    because: tuple[Because, ...]  # each candidate releaser (or unknown) and what it is doing
    blocked_since: float
    unchanged_since: float  # the object has not changed since (epoch seconds)


_NO, _MAYBE, _YES = 0, 1, 2  # can a process (or a thread) still be released?


@dataclass(frozen=True, slots=True)
class Judgement:
    verdicts: tuple[Verdict, ...]
    cycles: tuple[WaitCycle, ...]


def judge(
    waiters: Sequence[Waiter],
    edges: Sequence[Release],
    sets: Mapping[int, SemState],
    queues: Mapping[int, QueueState],
    statuses: Mapping[int, ProcessStatus],
    now: float,
    stuck_after: float,
) -> Judgement:
    """The verdict on every waiter, and the deadlocks (cycles nobody outside can break).

    Any candidate can release (an OR graph): a blocked process can still be
    released if one of its threads can be. Every blocked process starts as
    unreleasable and is raised (to unknown, then to releasable) while a
    candidate of one of its threads says so, until nothing moves: what stays
    unreleasable is shown to be so, cycles included.
    """
    by_pid: defaultdict[int, list[Waiter]] = defaultdict(list)
    for waiter in waiters:
        by_pid[waiter.pid].append(waiter)
    grouped = edges_by_waiter(edges)
    edges_of = {
        (w.pid, w.tid): candidates(w, grouped.get((w.pid, w.kind, w.object_id), ()))
        for w in waiters
    }
    blocked = {pid for pid in by_pid if _liveness(statuses, pid) is Liveness.BLOCKED}
    can = dict.fromkeys(blocked, _NO)
    facts = _Facts(sets, queues, statuses, can)

    dependents: defaultdict[int, set[int]] = defaultdict(set)
    for waiter in waiters:
        for edge in edges_of[waiter.pid, waiter.tid]:
            dependents[edge.releaser].add(waiter.pid)
    # Each process is queued at most once at a time, and only while it can still rise: many
    # waiters that all name each other (the mappers of one semaphore) stay linear.
    work = deque(sorted(blocked))
    queued = set(blocked)
    while work:
        pid = work.popleft()
        queued.discard(pid)
        level = max(facts.level_only(w, edges_of[w.pid, w.tid]) for w in by_pid[pid])
        if level > can[pid]:
            can[pid] = level
            rising = sorted(p for p in dependents[pid] & blocked
                            if can[p] < _YES and p not in queued)  # fmt: skip
            work.extend(rising)
            queued.update(rising)

    unreleasable = {pid for pid, level in can.items() if level == _NO}
    found = cycles(edges, unreleasable)
    deadlocked = frozenset(pid for cycle in found for pid in cycle.members)
    facts.deadlocked = deadlocked
    verdicts = []
    for waiter in waiters:
        level, because = facts.level(waiter, edges_of[waiter.pid, waiter.tid])
        unchanged = facts.unchanged_since(waiter)
        if level == _YES:
            outcome = Outcome.WAITING
        elif level == _MAYBE:
            outcome = Outcome.UNKNOWN
        elif waiter.pid in deadlocked:
            outcome = Outcome.DEADLOCK
        elif now - unchanged >= stuck_after:
            outcome = Outcome.STUCK
        else:  # it may be a wake-up in flight: judge once the object stays still
            outcome = Outcome.UNKNOWN
            if waiter.futex is not None:  # no change time for a word: how long it slept
                wait = (f"blocked for {now - unchanged:.0f}s: stuck if it stays blocked for "
                        f"{stuck_after:g}s")  # fmt: skip
            else:
                wait = (f"{waiter.target} changed {now - unchanged:.0f}s ago: stuck if it stays "
                        f"unchanged for {stuck_after:g}s")  # fmt: skip
            because = (*because, (0, wait))
        verdicts.append(Verdict(waiter.pid, waiter.tid, waiter.kind, waiter.object_id, outcome,
                                because, waiter.since, unchanged))  # fmt: skip
    return Judgement(tuple(verdicts), found)


def _liveness(statuses: Mapping[int, ProcessStatus], pid: int) -> Liveness:
    status = statuses.get(pid)
    return Liveness.UNKNOWN if status is None else status.liveness


def edges_by_waiter(
    edges: Sequence[Release],
) -> dict[tuple[int, WaitKind, int], tuple[Release, ...]]:
    """The edges grouped by (waiting pid, kind, object id), so each lookup is cheap."""
    grouped: defaultdict[tuple[int, WaitKind, int], list[Release]] = defaultdict(list)
    for edge in edges:
        grouped[edge.waiter, edge.kind, edge.object_id].append(edge)
    return {key: tuple(group) for key, group in grouped.items()}


def candidates(waiter: Waiter, edges: Sequence[Release]) -> tuple[Release, ...]:
    """A thread's candidate releasers: the direct edges of what it sleeps on, and the user
    edges of the rest of its set or queue."""
    return tuple(
        e for e in edges
        if e.waiter == waiter.pid and e.kind is waiter.kind and e.object_id == waiter.object_id
        and (e.sem_num is None or (e.sem_num in waiter.waits_for) == e.evidence.direct)
    )  # fmt: skip


@dataclass(slots=True)
class _Facts:
    sets: Mapping[int, SemState]
    queues: Mapping[int, QueueState]
    statuses: Mapping[int, ProcessStatus]
    can: Mapping[int, int]
    deadlocked: frozenset[int] = frozenset()  # known once the levels are settled

    def unchanged_since(self, waiter: Waiter) -> float:
        if waiter.futex is not None:  # no change time is kept for a word in memory
            return waiter.since
        if waiter.queue is not None:  # its mtime: the last send or receive (ns, exact)
            return waiter.queue.changed_at or waiter.since
        state = (self.sets if waiter.kind is Kind.SEM else self.queues).get(waiter.object_id)
        return state.unchanged_since if state is not None else waiter.since

    def changed_at(self, waiter: Waiter) -> float:
        if waiter.futex is not None or waiter.queue is not None:  # holders: live fds, no PIDs
            return 0.0
        state = (self.sets if waiter.kind is Kind.SEM else self.queues).get(waiter.object_id)
        return state.changed_at if state is not None else 0.0

    def level_only(self, waiter: Waiter, edges: Sequence[Release]) -> int:
        """level's number alone, stopping at the first releaser that can release it."""
        best = _NO
        for edge in edges:
            found = self._releaser(waiter, edge)[0]
            if found == _YES:
                return _YES
            best = max(best, found)
        if self._unknowns(waiter) or not edges:
            best = max(best, _MAYBE)
        return best

    def level(self, waiter: Waiter, edges: Sequence[Release]) -> tuple[int, tuple[Because, ...]]:
        """How far this thread can be released, and the facts for it (the best first)."""
        seen = [self._releaser(waiter, edge) for edge in edges]
        seen += [(_MAYBE, (0, why)) for why in self._unknowns(waiter)]
        if not seen:
            return _MAYBE, ((0, "no process is known to use it"),)
        best = max(level for level, _ in seen)
        chosen = [because for level, because in seen if level == best] if best != _NO else [
            because for _, because in seen
        ]  # fmt: skip
        return best, tuple(dict.fromkeys(chosen))

    def _releaser(self, waiter: Waiter, edge: Release) -> tuple[int, Because]:
        pid = edge.releaser
        status = self.statuses.get(pid)
        if status is None:
            return _MAYBE, (pid, "was not inspected")
        changed = self.changed_at(waiter)
        if (edge.hint and changed and status.started is not None
                and status.started > changed + PID_TIME_SLACK
                and status.liveness is not Liveness.GONE):  # fmt: skip
            return _NO, (pid, f"is gone (the PID now names a process started after "
                              f"{waiter.target} last changed)")  # fmt: skip
        if status.liveness is Liveness.GONE:
            return _NO, (pid, f"is gone ({status.why})" if status.why else "is gone")
        if status.liveness is Liveness.RUNNING:
            return _YES, (pid, "runs")
        if status.liveness is Liveness.UNKNOWN:
            return _MAYBE, (pid, f"could not be inspected ({status.why})")
        level = self.can.get(pid, _MAYBE)
        if level == _YES:
            return level, (pid, "is blocked, but can be released")
        if level == _MAYBE:
            return level, (pid, "is blocked, and may not be released")
        return level, (pid, "is in a deadlock" if pid in self.deadlocked else "is stuck too")

    def _unknowns(self, waiter: Waiter) -> list[str]:
        """What keeps the candidates incomplete: unread sets, operations, unknown last users."""
        if waiter.futex is not None:
            if waiter.futex.owner_pid is not None or waiter.futex.mappers:
                return []
            if waiter.futex.problem:
                return [waiter.futex.problem]
            return [f"its {waiter.futex.what} word names no owner, and no other process is "
                    "known to map the object"]  # fmt: skip
        if waiter.queue is not None:
            if waiter.queue.releasers(waiter.direction):
                return []
            other = "sending" if waiter.direction == "receive" else "receiving"
            return [f"no process holds {waiter.queue.name} open for {other} (one may open it "
                    "later)"]  # fmt: skip
        if waiter.kind is Kind.SEM:
            sem = self.sets.get(waiter.object_id)
            if waiter.operations is None:
                return [f"its operations could not be read ({waiter.unreadable})"]
            if sem is None or sem.last_changers is None:
                why = sem.unreadable if sem is not None else "gone"
                return [f"the set's last changers could not be read ({why})"]
            return [
                f"semaphore {num} has no known last changer (never changed, or changed from "
                "another PID namespace)"
                for num in waiter.waits_for
                if num < len(sem.last_changers) and not sem.last_changers[num]
            ]
        queue = self.queues.get(waiter.object_id)
        last = None if queue is None else (queue.lrpid if waiter.direction == "send"
                                           else queue.lspid)  # fmt: skip
        if last:
            return []
        done = "received from" if waiter.direction == "send" else "sent to"
        return [f"no process is known to have {done} the queue (never, or from another PID "
                "namespace)"]  # fmt: skip
