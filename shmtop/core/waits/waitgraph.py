"""The wait-for graph of blocked IPC callers: who could release whom, and its cycles."""

from __future__ import annotations

import enum
import itertools
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shmtop.core.model import Kind
from shmtop.core.waits.records import MSG_EXCEPT, QueueState, SemOp, SemState, Waiter, WaitKind


class Evidence(enum.StrEnum):
    """Why a process is thought able to release what another one waits for."""

    LAST_CHANGER = "last changer"  # hint: GETPID of the semaphore, not proof of holding it
    PENDING_OP = "pending operation"  # exact: its own blocked semop would release it
    LAST_SENDER = "last sender"  # hint: lspid of the queue
    LAST_RECEIVER = "last receiver"  # hint: lrpid of the queue
    BLOCKED_SENDER = "blocked sender"  # exact: it is blocked sending a message of the wanted type
    SET_USER = "changed another semaphore of the set"  # hint: it uses the set, it may post
    QUEUE_USER = "uses the queue"  # hint: the queue's last sender or receiver, the other way round
    MUTEX_OWNER = "holds the mutex"  # exact: the futex word (or glibc's __owner) names it
    MAPPER = "maps it"  # hint: a futex word naming no owner may be woken by any mapper
    # hints: a POSIX queue's holders for the other direction (any process may open it later)
    HOLDS_FOR_SENDING = "holds it open for sending"
    HOLDS_FOR_RECEIVING = "holds it open for receiving"

    @property
    def hint(self) -> bool:
        return self not in (Evidence.PENDING_OP, Evidence.BLOCKED_SENDER, Evidence.MUTEX_OWNER)

    @property
    def direct(self) -> bool:
        """An edge to what the wait itself needs; user edges only widen who might act."""
        return self not in (Evidence.SET_USER, Evidence.QUEUE_USER, Evidence.MAPPER)


@dataclass(frozen=True, slots=True)
class Release:
    """An edge of the graph: waiter waits on an object that releaser could release."""

    waiter: int  # pid
    kind: WaitKind
    object_id: int
    sem_num: int | None  # the semaphore of the set, for kind sem
    releaser: int  # pid
    evidence: Evidence
    offset: int | None = None  # a futex wait: the word's offset in the object

    @property
    def hint(self) -> bool:
        return self.evidence.hint


@dataclass(frozen=True, slots=True)
class WaitCycle:
    """A group of blocked processes each waiting for another of the group.

    steps is one concrete cycle through the group: steps[i].releaser is
    steps[i + 1].waiter, and the last releaser is the first waiter.
    """

    members: tuple[int, ...]  # every pid of the strongly connected group, sorted
    steps: tuple[Release, ...]

    @property
    def hint(self) -> bool:
        """True when the cycle rests on at least one hint (a last changer, sender, receiver)."""
        return any(step.hint for step in self.steps)


def blocking_semaphores(ops: Sequence[SemOp], values: Sequence[int] | None) -> tuple[int, ...]:
    """The semaphores a blocked semop waits for.

    The kernel applies the array all or nothing, in order, and sleeps on the
    first operation that cannot proceed: that one, given the values. With the
    values unknown (or moved since), every decrement and wait-for-zero counts.
    """
    if values is not None:
        current = list(values)
        for op in ops:
            if op.num >= len(current):
                break
            value = current[op.num]
            if (op.op < 0 and value + op.op < 0) or (op.op == 0 and value != 0):
                return (op.num,)
            current[op.num] = value + op.op
    return tuple(dict.fromkeys(op.num for op in ops if op.op <= 0))


def type_matches(wanted: int, flags: int, mtype: int) -> bool:
    """Whether msgrcv(msgtyp=wanted, msgflg=flags) would take a message of type mtype."""
    if wanted == 0:
        return True
    if wanted < 0:
        return mtype <= -wanted
    if flags & MSG_EXCEPT:
        return mtype != wanted
    return mtype == wanted


def releases(
    waiters: Sequence[Waiter], sets: Mapping[int, SemState], queues: Mapping[int, QueueState]
) -> tuple[Release, ...]:
    """Every 'could release' edge from each waiter to its candidate releasers.

    For a semop sleeping on semaphore n (waits_for): n's last changer (GETPID,
    a hint), each other blocked waiter whose own operations would post n (for a
    decrement) or take from it (for a wait-for-zero), exact; and the last
    changers of the set's other semaphores (SET_USER, a hint: it uses the set).
    For a futex wait on a mutex: the process of the owner TID the word names (exact); on a
    word that names no owner (a semaphore), every other process mapping the object (hints).
    For a POSIX queue: a receiver's holders of the queue open for sending, a sender's for
    receiving (hints: each may send or receive, and any process may open it later).
    For msgrcv: the blocked senders of a type it takes (exact), the last sender
    (lspid) and, as a user of the queue, the last receiver (lrpid). For msgsnd:
    the last receiver, and the last sender as a user. Any one may release it.
    """
    found: dict[Release, None] = {}
    # Per set and semaphore, the blocked waiters whose operations would post (+) or take (-)
    # it; per queue its blocked senders: looked up, not searched, for each waiter.
    pending: defaultdict[tuple[int, int, bool], dict[int, None]] = defaultdict(dict)
    senders: defaultdict[int, list[Waiter]] = defaultdict(list)
    for waiter in waiters:
        if waiter.kind is Kind.SEM:
            for op in waiter.operations or ():
                if op.op:
                    pending[waiter.object_id, op.num, op.op > 0][waiter.pid] = None
        elif waiter.direction == "send":
            senders[waiter.object_id].append(waiter)
    for waiter in waiters:
        if waiter.futex is not None:
            edges = _futex_releases(waiter)
        elif waiter.queue is not None:
            edges = _mq_releases(waiter)
        elif waiter.kind is Kind.SEM:
            edges = _sem_releases(waiter, sets.get(waiter.object_id), pending)
        else:
            others = [o for o in senders[waiter.object_id] if o.pid != waiter.pid]
            edges = _msg_releases(waiter, queues.get(waiter.object_id), others)
        found.update(dict.fromkeys(edges))
    return tuple(found)


def _futex_releases(waiter: Waiter) -> list[Release]:
    """The owner of a mutex (exact); with no owner known, every other mapper (hints)."""
    futex = waiter.futex
    assert futex is not None
    if futex.owner_pid is not None:
        pids, evidence = [futex.owner_pid], Evidence.MUTEX_OWNER
    else:
        pids = [pid for pid in futex.mappers or () if pid != waiter.pid]
        evidence = Evidence.MAPPER
    return [Release(waiter.pid, waiter.kind, waiter.object_id, None, pid, evidence, futex.offset)
            for pid in pids]  # fmt: skip


def _mq_releases(waiter: Waiter) -> list[Release]:
    """The processes holding a POSIX queue open for the other direction (its own too: another
    of its threads may send; if it has none, its wait is a cycle of one)."""
    queue = waiter.queue
    assert queue is not None
    evidence = (Evidence.HOLDS_FOR_SENDING if waiter.direction == "receive"
                else Evidence.HOLDS_FOR_RECEIVING)  # fmt: skip
    return [Release(waiter.pid, waiter.kind, waiter.object_id, None, pid, evidence)
            for pid in queue.releasers(waiter.direction) or ()]  # fmt: skip


def _sem_releases(
    waiter: Waiter, state: SemState | None,
    pending: Mapping[tuple[int, int, bool], Mapping[int, None]],
) -> list[Release]:  # fmt: skip
    edges = []
    for num in waiter.waits_for:
        wanted = next((op.op for op in waiter.operations or () if op.num == num), -1)
        if state is not None and state.last_changers is not None and num < state.nsems:
            changer = state.last_changers[num]
            if changer:
                edges.append(Release(waiter.pid, Kind.SEM, waiter.object_id, num, changer,
                                     Evidence.LAST_CHANGER))  # fmt: skip
        # a decrement waits for a post, a wait-for-zero for a decrement
        for other in pending.get((waiter.object_id, num, wanted < 0), {}):
            if other != waiter.pid:
                edges.append(Release(waiter.pid, Kind.SEM, waiter.object_id, num, other,
                                     Evidence.PENDING_OP))  # fmt: skip
    if state is None or state.last_changers is None:
        return edges
    known = {edge.releaser for edge in edges} | {waiter.pid}
    for num, changer in enumerate(state.last_changers):
        if changer and changer not in known and num not in waiter.waits_for:
            known.add(changer)
            edges.append(Release(waiter.pid, Kind.SEM, waiter.object_id, num, changer,
                                 Evidence.SET_USER))  # fmt: skip
    return edges


def _msg_releases(waiter: Waiter, state: QueueState | None, others: list[Waiter]) -> list[Release]:
    def edge(pid: int, evidence: Evidence) -> Release:
        return Release(waiter.pid, Kind.MSG, waiter.object_id, None, pid, evidence)

    if state is None:
        return []
    if waiter.direction == "send":
        found = [edge(state.lrpid, Evidence.LAST_RECEIVER)] if state.lrpid else []
        if state.lspid and state.lspid not in (waiter.pid, state.lrpid):
            found.append(edge(state.lspid, Evidence.QUEUE_USER))
        return found
    edges = [
        edge(other.pid, Evidence.BLOCKED_SENDER)
        for other in others
        if other.direction == "send"
        and other.msg_type is not None
        and (waiter.msg_type is None or type_matches(waiter.msg_type, waiter.msg_flags,
                                                     other.msg_type))
    ]  # fmt: skip
    if state.lspid:
        edges.append(edge(state.lspid, Evidence.LAST_SENDER))
    if state.lrpid and state.lrpid not in {waiter.pid, *(e.releaser for e in edges)}:
        edges.append(edge(state.lrpid, Evidence.QUEUE_USER))
    return edges


def cycles(edges: Iterable[Release], among: Iterable[int] | None = None) -> tuple[WaitCycle, ...]:
    """One cycle for each group of waiters that wait on each other (a self-loop counts).

    Only direct edges between processes of `among` (default: every waiter) can
    close a cycle: a releaser that is running can still release, and a process
    that merely uses the same set or queue is no proof of waiting on another.
    """
    edges = [edge for edge in edges if edge.evidence.direct]
    waiting = {edge.waiter for edge in edges} if among is None else set(among)
    graph: dict[int, dict[int, Release]] = defaultdict(dict)
    for edge in sorted(edges, key=lambda e: e.hint):  # an exact edge wins over a hint
        if edge.waiter in waiting and edge.releaser in waiting:
            graph[edge.waiter].setdefault(edge.releaser, edge)
    found = []
    for group in _strongly_connected(graph):
        start = min(group)
        if len(group) == 1 and start not in graph[start]:
            continue
        path = _shortest_cycle(graph, start, group)
        steps = tuple(graph[a][b] for a, b in itertools.pairwise(path))
        found.append(WaitCycle(tuple(sorted(group)), steps))
    return tuple(sorted(found, key=lambda c: c.members))


def _strongly_connected(graph: Mapping[int, Mapping[int, Release]]) -> list[set[int]]:
    """Tarjan's algorithm, iterative (no recursion limit on long chains)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    groups: list[set[int]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, {}))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def _shortest_cycle(graph: Mapping[int, Mapping[int, Release]], start: int,
                    group: set[int]) -> list[int]:  # fmt: skip
    """start, ..., start: a shortest way round inside group (breadth first)."""
    came_from: dict[int, int] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph.get(node, {})):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if child in group and child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start} in its own strongly connected group")
