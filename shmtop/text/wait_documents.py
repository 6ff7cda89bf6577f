"""The JSON documents of the debugger: `waiters --json` and `show msg ID --messages --json`.

msgspec Structs like text/documents.py (the same Record, version and time conventions), apart
so that `list`, `show` and `limits` never import the wait scanner's types.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from shmtop.core.binding.native import MsgPeek
from shmtop.core.namespaces.discover import ipc_inode
from shmtop.core.waits.records import (
    MSG_FLAGS,
    FutexWait,
    MqWait,
    NamedSemaphore,
    QueueState,
    SemState,
    Waiter,
    flag_names,
)
from shmtop.core.waits.records import WaitKind as CoreWaitKind
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.wait_verdict import Liveness, Outcome, ProcessStatus, Verdict
from shmtop.core.waits.waitgraph import Evidence, Release, WaitCycle
from shmtop.text.documents import (
    SCHEMA_VERSION,
    NamespaceRecord,
    QueueRecord,
    Record,
    Time,
    Version,
    own_namespace,
    time_meta,
)
from shmtop.text.export import iso_moment, iso_time

KindName = Literal["sem", "msg", "shm", "pshm", "psem", "anon", "pmq"]
WaitKind = Annotated[
    KindName,
    Meta(description="what is waited on: sem or msg; shm (a System V segment), pshm (a POSIX "
         "shared memory object), psem (a named semaphore) or anon (shared anonymous memory "
         "or a memfd, id its inode) for a futex wait in it; pmq (a POSIX message queue, id "
         "its inode)"),
]  # fmt: skip
_KIND_NAMES: dict[str, KindName] = {
    "sem": "sem", "msg": "msg", "shm": "shm", "pshm": "pshm", "psem": "psem", "anon": "anon",
    "pmq": "pmq",
}  # fmt: skip


def _kind(kind: CoreWaitKind) -> KindName:
    return _KIND_NAMES[str(kind)]


class ReleaseRecord(Record):
    """An edge of the wait-for graph: a process that could release what another waits for."""

    waiter: Annotated[int, Meta(description="the waiting process")]
    kind: WaitKind
    id: Annotated[int, Meta(description="the object's id")]
    sem_num: Annotated[int | None, Meta(description="the semaphore of the set; null for msg")]
    releaser: Annotated[int, Meta(description="the process that could release it")]
    releaser_command: Annotated[str | None, Meta(description="its short name; null if gone")]
    releaser_title: Annotated[str | None, Meta(description="its title, or null")]
    evidence: Annotated[Evidence, Meta(description="why it is thought able to release it")]
    hint: Annotated[bool, Meta(description="the evidence is a hint (a last changer...), not proof")]
    offset: Annotated[
        int | None, Meta(description="a futex wait: the word's offset in the object; else null")
    ]


class SemOpRecord(Record):
    """One struct sembuf of a blocked semop."""

    sem_num: int
    sem_op: int
    sem_flg: int
    flags: Annotated[list[str], Meta(description="names of sem_flg's bits: SEM_UNDO, IPC_NOWAIT")]


class BecauseRecord(Record):
    """One fact a wait's state rests on."""

    pid: Annotated[int | None, Meta(description="the process; null for a fact about the object")]
    what: Annotated[str, Meta(description="what of it, e.g. 'is gone (exited)', 'runs'")]


class FutexRecord(Record):
    """A futex wait on a word in shared memory, and what the word says."""

    address: Annotated[int, Meta(description="the word's address in the waiter")]
    offset: Annotated[int, Meta(description="the word's offset in the object, bytes")]
    op: Annotated[str, Meta(description="FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI...")]
    expected: Annotated[int | None, Meta(description="the value it sleeps while the word holds")]
    word: Annotated[int | None, Meta(description="the u32 at the address now; null: unreadable")]
    what: Annotated[
        Literal["mutex", "semaphore", "futex"],
        Meta(description="mutex: its owner is known; semaphore: a named semaphore; else futex"),
    ]
    owner_tid: Annotated[int | None, Meta(description="the mutex's owner thread, or null")]
    owner_pid: Annotated[int | None, Meta(description="its process (the TID once it is gone)")]
    owner_from: Annotated[
        str | None, Meta(description="what said so: 'futex word' or 'glibc __owner'")
    ]
    object_name: Annotated[
        str | None,
        Meta(description="POSIX: the object's name; anon: /dev/zero or /memfd:NAME; untrusted"),
    ]
    device: Annotated[int, Meta(description="POSIX, anon: st_dev of the object (id its inode)")]
    problem: Annotated[str | None, Meta(description="why the word could not be read")]
    mappers: Annotated[
        list[int] | None,
        Meta(description="no owner known: every process mapping the object; null: not read"),
    ]
    sem_waiters: Annotated[
        int | None, Meta(description="a glibc sem_t's nwaiters, when the word looks like one")
    ]


class MqWaitRecord(Record):
    """The POSIX message queue a thread is blocked on, and who holds it open."""

    name: Annotated[str, Meta(description="/NAME, as the waiter's fd link says; untrusted")]
    device: Annotated[int, Meta(description="st_dev of its mqueue fs (id is its inode)")]
    fd: Annotated[int, Meta(description="the mqd the waiter passed: an fd of its process")]
    linked: Annotated[bool, Meta(description="false: mq_unlink'd, still open")]
    messages: Annotated[int | None, Meta(description="queued now (mq_getattr); null: unknown")]
    max_messages: Annotated[int | None, Meta(description="mq_maxmsg; null: unknown")]
    max_size: Annotated[int | None, Meta(description="mq_msgsize, bytes; null: unknown")]
    priority: Annotated[int | None, Meta(description="send: the message's priority; else null")]
    changed_at: Annotated[Time | None, time_meta("its last send or receive (the file's mtime)")]
    senders: Annotated[
        list[int] | None, Meta(description="processes holding it open for sending; null: unread")
    ]
    receivers: Annotated[
        list[int] | None, Meta(description="processes holding it open for receiving")
    ]
    problem: Annotated[str | None, Meta(description="why the counts are null")]


class NamedSemaphoreRecord(Record):
    """A glibc named semaphore: its words, and the waiters the scan found alive."""

    device: int
    inode: int
    name: Annotated[str, Meta(description="/NAME; untrusted")]
    value: Annotated[int | None, Meta(description="null: layout unknown or unreadable")]
    nwaiters: Annotated[
        int | None, Meta(description="glibc's count: a killed waiter never decrements it")
    ]
    live_waiters: Annotated[int, Meta(description="threads found blocked in futex on it")]
    stale: Annotated[bool, Meta(description="nwaiters counts more waiters than are alive")]
    problem: Annotated[str | None, Meta(description="why value and nwaiters are null")]


class WaiterRecord(Record):
    """A thread blocked in semop/semtimedop/msgsnd/msgrcv, and what it waits for."""

    pid: int
    tid: int
    command: Annotated[str, Meta(description="the process's short name; untrusted")]
    title: Annotated[str | None, Meta(description="the process's title; untrusted")]
    kind: WaitKind
    id: Annotated[int, Meta(description="the object's id")]
    syscall: Annotated[
        str,
        Meta(description="semop, semtimedop, msgsnd, msgrcv, futex, futex_waitv, mq_timedsend "
             "or mq_timedreceive"),
    ]  # fmt: skip
    operation: Annotated[str, Meta(description="what it waits to do, as the table shows it")]
    since: Annotated[Time, Meta(description="blocked at least since (ISO 8601, UTC)")]
    since_verified: Annotated[
        bool, Meta(description="the thread did not run between scans; else assumed")
    ]
    operations: Annotated[
        list[SemOpRecord] | None, Meta(description="sem: its operations; null for msg, unreadable")
    ]
    waits_for: Annotated[list[int], Meta(description="sem: the semaphore numbers it sleeps on")]
    timeout_seconds: Annotated[float | None, Meta(description="semtimedop's timeout, or null")]
    direction: Annotated[Literal["send", "receive"] | None, Meta(description="msg; null for sem")]
    msg_type: Annotated[int | None, Meta(description="msg: the type wanted or being sent")]
    msg_flags: Annotated[list[str], Meta(description="msg: names of the call's flags")]
    msg_size: Annotated[int | None, Meta(description="msg: bytes sent, or the buffer's size")]
    unreadable: Annotated[str | None, Meta(description="why operations could not be read")]
    released_by: Annotated[list[ReleaseRecord], Meta(description="its candidate releasers")]
    state: Annotated[Outcome, Meta(description="the verdict on the wait")]
    because: Annotated[list[BecauseRecord], Meta(description="the facts the state rests on")]
    futex: Annotated[
        FutexRecord | None, Meta(description="a futex wait in shared memory; null otherwise")
    ]
    named_semaphore: Annotated[
        NamedSemaphoreRecord | None, Meta(description="psem: the named semaphore; else null")
    ]
    queue: Annotated[
        MqWaitRecord | None, Meta(description="pmq: the POSIX message queue; else null")
    ]


class SemStateRecord(Record):
    """A semaphore set someone waits on, as the scan read it."""

    id: int
    nsems: int
    values: Annotated[list[int] | None, Meta(description="null when unreadable")]
    last_changers: Annotated[
        list[int] | None, Meta(description="each semaphore's last changer: hints, not holders")
    ]
    unreadable: Annotated[str | None, Meta(description="why values is null")]
    unchanged_since: Annotated[Time | None, time_meta("the set has not changed since")]


class QueueStateRecord(Record):
    """A message queue someone waits on, as the scan read it."""

    id: int
    qnum: int
    cbytes: int
    lspid: int
    lrpid: int
    unchanged_since: Annotated[Time | None, time_meta("the queue has not changed since")]


class WaitCycleRecord(Record):
    """A deadlock: blocked processes each waiting for another of the group."""

    members: Annotated[list[int], Meta(description="every pid of the group, sorted")]
    hint: Annotated[bool, Meta(description="the cycle rests on at least one hint")]
    steps: Annotated[list[ReleaseRecord], Meta(description="one concrete cycle through it")]


class StuckRecord(Record):
    """A wait nobody can release whose object has not changed for stuck_after_seconds."""

    pid: int
    tid: int
    kind: WaitKind
    id: int
    blocked_since: Annotated[Time | None, time_meta("blocked at least since")]
    unchanged_since: Annotated[Time | None, time_meta("its object has not changed since")]
    state: Outcome
    because: list[BecauseRecord]


class ProcessStatusRecord(Record):
    """A waiter or candidate releaser, as the verdicts see it."""

    pid: int
    command: Annotated[str | None, Meta(description="its short name, or null")]
    state: Annotated[Liveness, Meta(description="what it is doing")]
    why: Annotated[str | None, Meta(description="how that is known: exited, permission denied")]


class WaitersDocument(Record):
    """`shmtop waiters --json`: threads blocked on semaphores and queues, and the verdicts."""

    schema_version: Version
    taken_at: Annotated[Time, Meta(description="when the scan ran")]
    unsupported: Annotated[str | None, Meta(description="why no scan was possible, or null")]
    verdict: Annotated[str, Meta(description="the scan in one line")]
    complete: Annotated[
        bool, Meta(description="every process was inspected: a wait not listed does not exist")
    ]
    hidden: Annotated[str | None, Meta(description="why /proc may hide processes (hidepid)")]
    stuck_after_seconds: Annotated[
        float, Meta(description="how long an unreleasable wait's object stays unchanged: stuck")
    ]
    processes_scanned: int
    threads_scanned: int
    unreadable: Annotated[
        dict[str, int], Meta(description="processes whose threads could not be read: reason -> n")
    ]
    unreadable_total: int
    ignored: Annotated[dict[str, int], Meta(description="blocked threads left out: reason -> n")]
    waiters: list[WaiterRecord]
    semaphore_sets: Annotated[list[SemStateRecord], Meta(description="each set waited on")]
    queues: Annotated[list[QueueStateRecord], Meta(description="each queue waited on")]
    cycles: Annotated[list[WaitCycleRecord], Meta(description="deadlocks")]
    stuck: Annotated[list[StuckRecord], Meta(description="the stuck waits")]
    processes: Annotated[
        list[ProcessStatusRecord], Meta(description="each waiter and candidate releaser")
    ]
    named_semaphores: Annotated[
        list[NamedSemaphoreRecord],
        Meta(description="named semaphores waited on or whose nwaiters is not 0"),
    ]
    namespace: Annotated[
        NamespaceRecord, Meta(description="the IPC namespace scanned (its ids, its waiters)")
    ]


class PeekedMessageRecord(Record):
    """One queued message, copied with MSG_COPY (it stays queued)."""

    index: Annotated[int, Meta(description="its position in the queue, from 0")]
    type: Annotated[int, Meta(description="mtype")]
    size: Annotated[int, Meta(description="bytes of its text")]
    data_hex: Annotated[str, Meta(description="the first --bytes bytes of its text, as hex")]
    truncated: Annotated[bool, Meta(description="data_hex holds less than size bytes")]


class MessagesRecord(Record):
    """What a peek at a queue found, and why it stopped."""

    unsupported: Annotated[str | None, Meta(description="the kernel lacks MSG_COPY: why")]
    more: Annotated[bool, Meta(description="stopped at --max-messages with messages left")]
    problem: Annotated[str | None, Meta(description="a message that could not be copied")]
    changed_while_read: Annotated[bool, Meta(description="messages may be missing")]
    messages: list[PeekedMessageRecord]


class QueueMessagesDocument(Record):
    """`shmtop show msg ID --messages --json`: a queue, its blocked processes, its messages."""

    schema_version: Version
    queue: Annotated[QueueRecord, Meta(description="as show msg --json")]
    waiters: Annotated[list[WaiterRecord], Meta(description="this queue's, as waiters --json")]
    unreadable_processes: Annotated[
        dict[str, int], Meta(description="processes whose threads could not be read: reason -> n")
    ]
    messages: Annotated[MessagesRecord | None, Meta(description="null: see messages_error")]
    messages_error: Annotated[str | None, Meta(description="why the queue could not be read")]


# ---- built from the wait report ----


def release_record(release: Release, report: WaitReport) -> ReleaseRecord:
    return ReleaseRecord(
        waiter=release.waiter, kind=_kind(release.kind), id=release.object_id,
        sem_num=release.sem_num, releaser=release.releaser,
        releaser_command=report.processes.get(release.releaser),
        releaser_title=report.titles.get(release.releaser),
        evidence=release.evidence, hint=release.hint, offset=release.offset,
    )  # fmt: skip


def because(verdict: Verdict) -> list[BecauseRecord]:
    return [BecauseRecord(pid=pid or None, what=what) for pid, what in verdict.because]


def waiter_record(waiter: Waiter, report: WaitReport) -> WaiterRecord:
    operations = None
    if waiter.operations is not None:
        operations = [
            SemOpRecord(sem_num=op.num, sem_op=op.op, sem_flg=op.flags, flags=list(op.flag_names))
            for op in waiter.operations
        ]
    verdict = report.verdict_of(waiter)
    return WaiterRecord(
        pid=waiter.pid, tid=waiter.tid, command=waiter.command, title=waiter.title,
        kind=_kind(waiter.kind), id=waiter.object_id, syscall=waiter.syscall,
        operation=waiter.operation(), since=iso_moment(waiter.since),
        since_verified=waiter.since_verified, operations=operations,
        waits_for=list(waiter.waits_for), timeout_seconds=waiter.timeout,
        direction=waiter.direction, msg_type=waiter.msg_type,
        msg_flags=list(flag_names(waiter.msg_flags, MSG_FLAGS)), msg_size=waiter.msg_size,
        unreadable=waiter.unreadable,
        released_by=[release_record(r, report) for r in report.releases_of(waiter)],
        state=verdict.outcome, because=because(verdict),
        futex=None if waiter.futex is None else futex_record(waiter.futex),
        named_semaphore=None if waiter.semaphore is None else named_record(waiter.semaphore),
        queue=None if waiter.queue is None else mq_wait_record(waiter.queue),
    )  # fmt: skip


def mq_wait_record(queue: MqWait) -> MqWaitRecord:
    return MqWaitRecord(
        name=queue.name, device=queue.device, fd=queue.fd, linked=queue.linked,
        messages=queue.messages, max_messages=queue.max_messages, max_size=queue.max_size,
        priority=queue.priority, changed_at=iso_time(queue.changed_at),
        senders=None if queue.senders is None else list(queue.senders),
        receivers=None if queue.receivers is None else list(queue.receivers),
        problem=queue.problem,
    )  # fmt: skip


def futex_record(futex: FutexWait) -> FutexRecord:
    return FutexRecord(
        address=futex.address, offset=futex.offset, op=futex.op, expected=futex.expected,
        word=futex.word, what=futex.what, owner_tid=futex.owner_tid, owner_pid=futex.owner_pid,
        owner_from=futex.owner_from, object_name=futex.object_name, device=futex.device,
        problem=futex.problem, mappers=None if futex.mappers is None else list(futex.mappers),
        sem_waiters=futex.sem_waiters,
    )  # fmt: skip


def named_record(semaphore: NamedSemaphore) -> NamedSemaphoreRecord:
    return NamedSemaphoreRecord(
        device=semaphore.device, inode=semaphore.inode, name=semaphore.name,
        value=semaphore.value, nwaiters=semaphore.nwaiters,
        live_waiters=semaphore.live_waiters, stale=semaphore.stale, problem=semaphore.problem,
    )  # fmt: skip


def sem_state_record(state: SemState) -> SemStateRecord:
    return SemStateRecord(
        id=state.id, nsems=state.nsems,
        values=None if state.values is None else list(state.values),
        last_changers=None if state.last_changers is None else list(state.last_changers),
        unreadable=state.unreadable, unchanged_since=iso_time(state.unchanged_since),
    )  # fmt: skip


def queue_state_record(state: QueueState) -> QueueStateRecord:
    return QueueStateRecord(
        id=state.id, qnum=state.qnum, cbytes=state.cbytes, lspid=state.lspid,
        lrpid=state.lrpid, unchanged_since=iso_time(state.unchanged_since),
    )  # fmt: skip


def cycle_record(cycle: WaitCycle, report: WaitReport) -> WaitCycleRecord:
    return WaitCycleRecord(
        members=list(cycle.members), hint=cycle.hint,
        steps=[release_record(step, report) for step in cycle.steps],
    )  # fmt: skip


def stuck_record(verdict: Verdict) -> StuckRecord:
    return StuckRecord(
        pid=verdict.pid, tid=verdict.tid, kind=_kind(verdict.kind), id=verdict.object_id,
        blocked_since=iso_time(verdict.blocked_since),
        unchanged_since=iso_time(verdict.unchanged_since), state=verdict.outcome,
        because=because(verdict),
    )  # fmt: skip


def status_record(status: ProcessStatus, report: WaitReport) -> ProcessStatusRecord:
    return ProcessStatusRecord(
        pid=status.pid, command=report.processes.get(status.pid), state=status.liveness,
        why=status.why or None,
    )  # fmt: skip


def waiters_document(
    report: WaitReport, namespace: NamespaceRecord | None = None
) -> WaitersDocument:
    """The whole report: `shmtop waiters --json`; namespace: the one scanned (default the
    caller's own)."""
    if namespace is None:
        namespace = own_namespace(ipc_inode("thread-self") or 0)
    return WaitersDocument(
        schema_version=SCHEMA_VERSION, taken_at=iso_moment(report.taken_at),
        unsupported=report.unsupported, verdict=report.summary(), complete=report.complete,
        hidden=report.hidden, stuck_after_seconds=report.stuck_after,
        processes_scanned=report.processes_scanned, threads_scanned=report.tasks_scanned,
        unreadable=dict(report.unreadable), unreadable_total=report.unreadable_total,
        ignored=dict(report.ignored),
        waiters=[waiter_record(w, report) for w in report.waiters],
        semaphore_sets=[sem_state_record(s) for s in report.semaphore_sets.values()],
        queues=[queue_state_record(q) for q in report.queues.values()],
        cycles=[cycle_record(c, report) for c in report.cycles],
        stuck=[stuck_record(v) for v in report.stuck],
        processes=[status_record(s, report) for s in report.statuses.values()],
        named_semaphores=[named_record(s) for s in report.named_semaphores],
        namespace=namespace,
    )  # fmt: skip


def messages_record(peek: MsgPeek, shown_bytes: int) -> MessagesRecord:
    """Messages of a peek, each with at most shown_bytes of its text as hex."""
    return MessagesRecord(
        unsupported=peek.unsupported,
        more=peek.more,
        problem=peek.problem,
        changed_while_read=peek.changed,
        messages=[
            PeekedMessageRecord(
                index=m.index,
                type=m.mtype,
                size=m.size,
                data_hex=m.data[:shown_bytes].hex(),
                truncated=m.size > min(len(m.data), shown_bytes),
            )
            for m in peek.messages
        ],
    )


def queue_messages_document(
    queue: QueueRecord,
    waiters: list[WaiterRecord],
    report: WaitReport,
    messages: MessagesRecord | None,
    error: str | None,
) -> QueueMessagesDocument:
    return QueueMessagesDocument(
        schema_version=SCHEMA_VERSION, queue=queue, waiters=waiters,
        unreadable_processes=dict(report.unreadable), messages=messages, messages_error=error,
    )  # fmt: skip
