"""The JSON documents of `list`, `show` and `limits`: msgspec Structs, the data contract.

Each type here is what one JSON object is, field by field: the encoder writes these Structs
(no dicts in between) and `shmtop schema` generates the JSON Schema from them, with the
descriptions below. Field names and meanings are the README's; changing one is a change of
SCHEMA_VERSION (see its comment). Times are ISO 8601 in UTC or null (the kernel's 0, never);
text read from processes (commands, titles, user names) is untrusted: JSON-escaped, not
sanitised.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypeVar

from msgspec import UNSET, Meta, Struct, UnsetType
from msgspec.structs import replace

from shmtop.core.model import (
    Attachment,
    BlindSpots,
    Coverage,
    IpcObject,
    Limits,
    MessageQueue,
    Segment,
    SemaphoreSet,
    Snapshot,
)
from shmtop.core.namespaces.discover import Namespace, ipc_inode, name_namespace, uts_inode
from shmtop.core.verdicts import Status, Verdict, attachments_note, judge
from shmtop.text.export import iso_moment, iso_time, limit_rows, percent
from shmtop.text.units import hex_key, octal_perms

if TYPE_CHECKING:  # `list` and `show` need no POSIX limits (their import is `limits`' cost)
    from shmtop.core.posix.limits import PosixLimits

# "MAJOR.MINOR", the same for every document. MINOR grows when the contract only grows: a new
# field, a new document, a new word in a field of words (a status, a state), so a reader of
# 1.0 still reads 1.x if it ignores what it does not know. MAJOR grows when a field is
# removed or renamed, changes its type or its meaning, or may be null where it never was.
# 1.1: the posix-list and pmq-list documents (list pshm|psem|pmq --json). 1.2: futex waits in
# shared memory (waiters: futex, named_semaphore, named_semaphores; kinds shm, pshm, psem;
# evidence words). 1.3: every object's IPC namespace (`namespace`), and the namespaces of
# list -A/--namespace (`namespaces`); POSIX message queue, futex_waitv and shared anonymous
# memory waits (waiters: queue; kinds pmq, anon; syscalls mq_timedsend, mq_timedreceive,
# futex_waitv; evidence words); limits of the POSIX kinds
# (limits: mq_queues, mq_msg_max, mq_msgsize_max, mq_msg_default, mq_msgsize_default,
# shm_filesystems). 1.4: the posix-show and pmq-show documents (show pshm|psem|pmq --name
# NAME --json); list's POSIX fields (posix_shm, posix_semaphores, posix_queues,
# posix_scan) also in `list --json --watch` lines and with -A/--namespace, whose POSIX
# records carry their `namespace`. 1.5: every POSIX record (posix-list, pmq-list, posix-show,
# pmq-show, list's posix_*) carries its `namespace`, the caller's without -A/--namespace, as
# the System V records always have.
SCHEMA_VERSION = "1.5"
SCHEMA_MAJOR = SCHEMA_VERSION.split(".", 1)[0]

Version = Annotated[
    str,
    Meta(
        pattern=rf"^{SCHEMA_MAJOR}\.[0-9]+$",
        description="the contract's version, MAJOR.MINOR: a reader of this schema reads every "
        "document of the same MAJOR (MINOR only adds fields, documents and words)",
    ),
]
Time = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]


def time_meta(what: str) -> Meta:
    """The description of a time field that may be never."""
    return Meta(description=f"{what}: ISO 8601 in UTC; null: never (the kernel's 0)")


class Record(Struct, gc=False):
    """Every document and part of one: built once and encoded, never changed, holding no
    cycles, so the garbage collector need not track it (gc=False)."""


# ---- the parts of every object ----


class NamespaceRecord(Record):
    """The IPC namespace an object is in: ids repeat across namespaces, so (namespace, id)
    names an object."""

    inode: Annotated[int, Meta(description="the inode of /proc/PID/ns/ipc of its processes")]
    name: Annotated[
        str,
        Meta(
            description="what a person calls it: a container (docker:ID, containerd:ID, "
            "podman:ID, crio:ID, k8s:podUID/ID, 12 hex digits of the id), the hostname of its "
            "UTS namespace, or ipc:[INODE]; untrusted (a hostname)"
        ),
    ]
    source: Annotated[
        str,
        Meta(
            description="where the name comes from: docker, containerd, podman, crio, "
            "kubernetes, hostname or inode"
        ),
    ]
    current: Annotated[bool, Meta(description="it is shmtop's own (the one ipcs shows)")]


class EvidenceUser(Record):
    """A process the orphan rule looked at, and what is known of it."""

    role: Annotated[str, Meta(description="creator, last operation, last sender or last receiver")]
    pid: int
    alive: Annotated[bool | None, Meta(description="null: cannot tell (hidden, unreadable)")]
    state: Annotated[str, Meta(description="runs, gone, or why it cannot be told")]


class OrphanEvidence(Record):
    """The facts the orphan rule rests on (README: Orphans, the rule)."""

    key_private: Annotated[bool, Meta(description="the key is IPC_PRIVATE (0)")]
    users: Annotated[list[EvidenceUser], Meta(description="the processes that used it")]
    users_gone: Annotated[
        bool | None, Meta(description="every user is shown gone; null: cannot tell (unknown)")
    ]
    unknown: Annotated[str | None, Meta(description="why users_gone is null")]
    in_use: Annotated[
        str | None, Meta(description="why it is in use now whatever its users, or null")
    ]
    last_touched: Annotated[Time | None, time_meta("the latest time the rule judges idleness on")]
    grace_seconds: Annotated[int, Meta(description="how long untouched makes an orphan")]
    settling: Annotated[
        bool, Meta(description="it would be an orphan, but was touched within the grace period")
    ]


class ObjectRecord(Record, tag_field="kind"):
    """What every object has: id, key, owner, creator, permissions and the rule's verdict."""

    id: Annotated[int, Meta(description="the kernel's id (shmid, semid, msqid)")]
    key: Annotated[int, Meta(description="the key, unsigned 32-bit; 0 is IPC_PRIVATE")]
    key_hex: Annotated[str, Meta(description="the key as 0x%08x")]
    uid: int
    user: Annotated[str, Meta(description="the owner's name (the uid when it has none)")]
    gid: int
    group: str
    cuid: Annotated[int, Meta(description="the creator's uid")]
    creator_user: str
    cgid: Annotated[int, Meta(description="the creator's gid")]
    creator_group: str
    perms: Annotated[str, Meta(description="the permission bits in octal, e.g. 640")]
    status: Annotated[
        Status | None, Meta(description="what the orphan rule calls it; null: nothing")
    ]
    orphan: Annotated[bool, Meta(description="status is orphan")]
    evidence: OrphanEvidence
    namespace: NamespaceRecord


class AttachmentRecord(Record):
    """One mapping of a segment in one process (a process may have several)."""

    pid: int
    command: Annotated[str, Meta(description="the process's short name (comm); untrusted")]
    title: Annotated[
        str | None, Meta(description="the process's command line as it left it; untrusted")
    ]
    user: str
    access: Annotated[Literal["rw", "ro"], Meta(description="read-write or read-only")]
    start: Annotated[str, Meta(description="first address of the mapping, hex (0x...)")]
    end: Annotated[str, Meta(description="the address after the mapping, hex (0x...)")]
    viewer: Annotated[bool, Meta(description="the mapping is shmtop's own (the viewer)")]


class SegmentRecord(ObjectRecord, tag="shm"):
    """A shared memory segment and who has it mapped."""

    size: Annotated[int, Meta(description="bytes")]
    rss: Annotated[int | None, Meta(description="resident bytes; null on kernels without it")]
    swap: Annotated[int | None, Meta(description="swapped bytes; null on kernels without it")]
    nattch: Annotated[int, Meta(description="attachments the kernel counts")]
    cpid: Annotated[int, Meta(description="the creator's pid (0: not in our PID namespace)")]
    cpid_command: Annotated[str | None, Meta(description="its short name; null if gone")]
    cpid_title: Annotated[str | None, Meta(description="its title; null if none or gone")]
    creator_alive: Annotated[
        bool | None, Meta(description="null: cannot tell (hidden, not in our PID namespace)")
    ]
    lpid: Annotated[int, Meta(description="the last process to attach or detach")]
    lpid_command: str | None
    lpid_title: str | None
    atime: Annotated[Time | None, time_meta("last attach")]
    dtime: Annotated[Time | None, time_meta("last detach")]
    ctime: Annotated[Time | None, time_meta("last change (creation, IPC_SET)")]
    dest: Annotated[bool, Meta(description="removed (IPC_RMID), it goes at its last detach")]
    locked: Annotated[bool, Meta(description="SHM_LOCK: kept in memory")]
    attachments: list[AttachmentRecord]
    attachments_consistent: Annotated[
        bool, Meta(description="as many mappings found as nattch says")
    ]
    attachments_coverage: Annotated[
        Coverage, Meta(description="how far the attachment list can be trusted against nattch")
    ]
    attachments_note: Annotated[
        str | None, Meta(description="why the attachments disagree with nattch, or null")
    ]


class SemaphoreRecord(Record):
    """One semaphore of a set."""

    num: int
    value: int
    ncnt: Annotated[int, Meta(description="processes waiting for the value to grow")]
    zcnt: Annotated[int, Meta(description="processes waiting for it to be 0")]
    pid: Annotated[int, Meta(description="the last process to change it: a hint, not a holder")]
    pid_command: str | None
    pid_title: str | None


class SemaphoreSetRecord(ObjectRecord, tag="sem"):
    """A semaphore set."""

    nsems: int
    otime: Annotated[Time | None, time_meta("last semop")]
    ctime: Annotated[Time | None, time_meta("last change")]
    waiters: Annotated[
        int | None, Meta(description="processes blocked on it (ncnt + zcnt); null if unreadable")
    ]
    semaphores: Annotated[
        list[SemaphoreRecord] | None, Meta(description="null when they could not be read")
    ]
    unreadable: Annotated[str | None, Meta(description="why semaphores is null")]


class QueueRecord(ObjectRecord, tag="msg"):
    """A message queue's header (the messages: show msg ID --messages)."""

    cbytes: Annotated[int, Meta(description="bytes queued")]
    qnum: Annotated[int, Meta(description="messages queued")]
    qbytes: Annotated[
        int | None, Meta(description="capacity in bytes; null if only /proc was readable")
    ]
    lspid: Annotated[int, Meta(description="the last sender")]
    lspid_command: str | None
    lspid_title: str | None
    lrpid: Annotated[int, Meta(description="the last receiver")]
    lrpid_command: str | None
    lrpid_title: str | None
    stime: Annotated[Time | None, time_meta("last send")]
    rtime: Annotated[Time | None, time_meta("last receive")]
    ctime: Annotated[Time | None, time_meta("last change")]


class BlindSpotsRecord(Record):
    """What the snapshot could not see, so nobody mistakes it for complete."""

    processes_scanned: int
    uninspected: Annotated[
        dict[str, int], Meta(description="processes not inspected: reason -> count")
    ]
    attachments_missing: Annotated[int, Meta(description="sum of nattch minus mappings found")]
    other_namespace_mappings: Annotated[
        int, Meta(description="SysV mappings of processes in other IPC namespaces")
    ]
    processes_hidden: Annotated[
        str | None, Meta(description="why /proc does not list some processes, or null")
    ]


class NamespaceViewRecord(NamespaceRecord):
    """A namespace `list -A` or `--namespace` looked at, and what could be seen of it."""

    processes: Annotated[int, Meta(description="its processes when it was found")]
    refused: Annotated[
        str | None, Meta(description="why it could not be read (not joined), or null")
    ]
    blind_spots: Annotated[
        BlindSpotsRecord | None,
        Meta(description="what its snapshot could not see; null if refused"),
    ]


# ---- the documents ----


class ListDocument(Record, kw_only=True):
    """`shmtop list --json`, and each line of `shmtop list --json --watch`."""

    schema_version: Version
    taken_at: Annotated[Time, Meta(description="when the snapshot was taken")]
    segments: Annotated[
        list[SegmentRecord] | UnsetType, Meta(description="present when shm was asked for")
    ] = UNSET
    semaphore_sets: Annotated[
        list[SemaphoreSetRecord] | UnsetType, Meta(description="present when sem was asked for")
    ] = UNSET
    queues: Annotated[
        list[QueueRecord] | UnsetType, Meta(description="present when msg was asked for")
    ] = UNSET
    blind_spots: Annotated[
        BlindSpotsRecord, Meta(description="of the first namespace listed (-A: each in namespaces)")
    ]
    namespaces: Annotated[
        list[NamespaceViewRecord] | UnsetType,
        Meta(description="with -A or --namespace: every namespace looked at, the caller's first"),
    ] = UNSET
    unplaced: Annotated[
        dict[str, int] | UnsetType,
        Meta(description="with -A: processes whose namespace could not be told, by reason"),
    ] = UNSET


class ShowSegmentDocument(SegmentRecord):
    """`shmtop show shm ID --json`: the segment as listed, and its attachers' command lines."""

    command_lines: Annotated[
        dict[int, str | None],
        Meta(
            description="pid -> command line (/proc/PID/cmdline), null if gone, unreadable or"
            " empty; untrusted",
            extra_json_schema={"propertyNames": {"pattern": "^[0-9]+$"}},
        ),
    ]
    schema_version: Version


class ShowSemaphoreSetDocument(SemaphoreSetRecord):
    """`shmtop show sem ID --json`: the set as listed."""

    schema_version: Version


class ShowQueueDocument(QueueRecord):
    """`shmtop show msg ID --json`: the queue as listed."""

    schema_version: Version


ShowDocument = ShowSegmentDocument | ShowSemaphoreSetDocument | ShowQueueDocument


class LimitUsage(Record):
    """One kernel limit and how much of it is used."""

    used: int
    limit: Annotated[int | None, Meta(description="null: no limit")]
    percent: Annotated[float | None, Meta(description="used / limit in %, to 0.01; null: none")]


class ShmFilesystemRecord(Record):
    """One shm filesystem's size and use (statvfs of its mount point)."""

    mount_point: Annotated[str, Meta(description="in shmtop's mount namespace; untrusted")]
    fstype: Annotated[str, Meta(description="tmpfs or hugetlbfs (empty: /dev/shm is no mount)")]
    bytes: LimitUsage
    inodes: LimitUsage
    objects: Annotated[int, Meta(description="POSIX objects found on it, unlinked ones too")]
    problem: Annotated[str | None, Meta(description="why statvfs failed (figures are 0)")]


class LimitsDocument(Record):
    """`shmtop limits --json`: each limit with its usage."""

    schema_version: Version
    shm_segments: Annotated[LimitUsage, Meta(description="segments against SHMMNI")]
    shm_pages: Annotated[LimitUsage, Meta(description="pages of all segments against SHMALL")]
    sem_sets: Annotated[LimitUsage, Meta(description="semaphore sets against SEMMNI")]
    sem_semaphores: Annotated[LimitUsage, Meta(description="semaphores against SEMMNS")]
    msg_queues: Annotated[LimitUsage, Meta(description="queues against MSGMNI")]
    mq_queues: Annotated[
        LimitUsage | None,
        Meta(
            description="POSIX message queues against fs.mqueue.queues_max (since 1.3); "
            "null: the sysctl or the queues could not be read"
        ),
    ] = None
    mq_msg_max: Annotated[
        LimitUsage | None,
        Meta(
            description="the highest mq_maxmsg of any queue against fs.mqueue.msg_max "
            "(since 1.3); null: unreadable"
        ),
    ] = None
    mq_msgsize_max: Annotated[
        LimitUsage | None,
        Meta(
            description="the highest mq_msgsize of any queue against fs.mqueue.msgsize_max "
            "(since 1.3); null: unreadable"
        ),
    ] = None
    mq_msg_default: Annotated[
        int | None, Meta(description="fs.mqueue.msg_default (since 1.3); null: unreadable")
    ] = None
    mq_msgsize_default: Annotated[
        int | None, Meta(description="fs.mqueue.msgsize_default (since 1.3); null: unreadable")
    ] = None
    shm_filesystems: Annotated[
        list[ShmFilesystemRecord],
        Meta(
            description="each shm filesystem's room (since 1.3): the /dev/shm mount first, "
            "then other tmpfs/hugetlbfs mounts holding POSIX objects"
        ),
    ] = []


# ---- built from the model ----
# Structs straight from the model, no dict in between. ObjectRecord's fields come first in
# every kind's record, so object_values() gives them positionally, once for the three kinds.


S = TypeVar("S", bound=SegmentRecord)
M = TypeVar("M", bound=SemaphoreSetRecord)
Q = TypeVar("Q", bound=QueueRecord)


def evidence(verdict: Verdict) -> OrphanEvidence:
    # Positional, in the fields' order (the JSON's): a Struct is made fastest that way.
    return OrphanEvidence(
        verdict.private, [EvidenceUser(u.role, u.pid, u.alive, u.state) for u in verdict.users],
        verdict.users_gone, verdict.unknown, verdict.busy, iso_time(verdict.last_touched),
        int(verdict.grace), verdict.settling,
    )  # fmt: skip


ObjectValues = tuple[
    int, int, str, int, str, int, str, int, str, int, str, str, Status | None, bool,
    OrphanEvidence, NamespaceRecord,
]  # fmt: skip


def namespace_record(namespace: Namespace) -> NamespaceRecord:
    return NamespaceRecord(namespace.inode, namespace.name, namespace.source, namespace.current)


@functools.cache
def own_namespace(inode: int) -> NamespaceRecord:
    """The record of the caller's namespace (of that inode), named as discovery names it."""
    ours = name_namespace(inode, [os.getpid()], current=True, our_uts=uts_inode("thread-self"))
    return namespace_record(ours)


_CALLER: list[tuple[int, NamespaceRecord]] = []  # (pid, its record): made again after a fork


def caller_namespace() -> NamespaceRecord:
    """The record of the caller's IPC namespace (the process's: a thread joined to another
    namespace asks of the process, /proc/self, not of itself), for the objects of a scan of
    our own (the POSIX kinds: a scan records no namespace). Made once a process: shmtop
    joins other namespaces in threads only, never in its main thread."""
    pid = os.getpid()
    if not _CALLER or _CALLER[0][0] != pid:
        _CALLER[:] = [(pid, own_namespace(ipc_inode("self") or 0))]
    return _CALLER[0][1]


def object_values(
    obj: IpcObject, snapshot: Snapshot, namespace: NamespaceRecord | None = None
) -> ObjectValues:
    """ObjectRecord's fields in its order (id, key ... namespace): what every object shares;
    namespace: the snapshot's (default: the caller's own)."""
    owner, verdict = obj.owner, judge(obj, snapshot)
    return (
        obj.id, owner.key, hex_key(owner.key), owner.uid, owner.user, owner.gid, owner.group,
        owner.cuid, owner.creator_user, owner.cgid, owner.creator_group,
        octal_perms(owner.perms), verdict.status, verdict.orphan, evidence(verdict),
        namespace or own_namespace(snapshot.ipc_namespace),
    )  # fmt: skip


def attachment_record(a: Attachment) -> AttachmentRecord:
    # hex(): the same text as f"0x{n:x}" for an address (never negative), at a third of
    # its cost (8000 attachments, two addresses each, at the benchmark's workload).
    return AttachmentRecord(
        a.pid, a.command, a.title, a.user, "rw" if a.writable else "ro", hex(a.start),
        hex(a.end), a.is_self,
    )  # fmt: skip


# The records below are made positionally, in their fields' order (which is the JSON's):
# 14,000 Structs at the benchmark's workload, each faster made so than by keywords. A
# document that adds fields (show's) gives them by keyword, in `more`.


def segment_record(
    segment: Segment, snapshot: Snapshot, record: type[S],
    namespace: NamespaceRecord | None = None, **more: Any,
) -> S:  # fmt: skip
    """The segment as listed; record and more: a document that adds fields (show's)."""
    names = snapshot.names_of
    cpid_command, cpid_title = names(segment.cpid)
    lpid_command, lpid_title = names(segment.lpid)
    coverage = segment.coverage
    return record(
        *object_values(segment, snapshot, namespace),
        segment.size, segment.rss, segment.swap, segment.nattch,
        segment.cpid, cpid_command, cpid_title, segment.creator_alive,
        segment.lpid, lpid_command, lpid_title,
        iso_time(segment.atime), iso_time(segment.dtime), iso_time(segment.ctime),
        segment.dest, segment.locked,
        [attachment_record(a) for a in segment.attachments],
        coverage is Coverage.COMPLETE, coverage, attachments_note(segment, snapshot.blind_spots),
        **more,
    )  # fmt: skip


def _semaphore_records(sem_set: SemaphoreSet, snapshot: Snapshot) -> list[SemaphoreRecord]:
    records = []
    last, command, title = 0, None, None  # a set's semaphores mostly share their last pid
    for s in sem_set.semaphores or ():
        if s.pid != last:
            last = s.pid
            command, title = snapshot.names_of(last)
        records.append(SemaphoreRecord(s.num, s.value, s.ncnt, s.zcnt, last, command, title))
    return records


def semaphore_set_record(
    sem_set: SemaphoreSet, snapshot: Snapshot, record: type[M],
    namespace: NamespaceRecord | None = None, **more: Any,
) -> M:  # fmt: skip
    semaphores = None if sem_set.semaphores is None else _semaphore_records(sem_set, snapshot)
    return record(
        *object_values(sem_set, snapshot, namespace),
        sem_set.nsems, iso_time(sem_set.otime), iso_time(sem_set.ctime), sem_set.waiters,
        semaphores, sem_set.unreadable, **more,
    )  # fmt: skip


def queue_record(
    queue: MessageQueue, snapshot: Snapshot, record: type[Q],
    namespace: NamespaceRecord | None = None, **more: Any,
) -> Q:  # fmt: skip
    lspid_command, lspid_title = snapshot.names_of(queue.lspid)
    lrpid_command, lrpid_title = snapshot.names_of(queue.lrpid)
    return record(
        *object_values(queue, snapshot, namespace),
        queue.cbytes, queue.qnum, queue.qbytes,
        queue.lspid, lspid_command, lspid_title, queue.lrpid, lrpid_command, lrpid_title,
        iso_time(queue.stime), iso_time(queue.rtime), iso_time(queue.ctime), **more,
    )  # fmt: skip


def blind_spots_record(blind: BlindSpots) -> BlindSpotsRecord:
    return BlindSpotsRecord(
        processes_scanned=blind.processes_scanned, uninspected=dict(blind.uninspected),
        attachments_missing=blind.attachments_missing,
        other_namespace_mappings=blind.other_namespace_mappings,
        processes_hidden=blind.processes_hidden,
    )  # fmt: skip


def list_document(snapshot: Snapshot, chosen: Mapping[str, Sequence[Any]]) -> ListDocument:
    """The list of the kinds in chosen (shm, sem, msg -> their objects, in order); a kind
    not in chosen is left out of the document (UNSET), as the README says."""
    shell, lists = list_records(snapshot, chosen)
    return replace(shell, **{name: list(records) for name, records in lists.items()})


def list_records(
    snapshot: Snapshot, chosen: Mapping[str, Sequence[Any]]
) -> tuple[ListDocument, dict[str, Iterator[Record]]]:
    """list_document() in parts: the document with each list of it empty, and by field name
    the records of each, made one at a time as they are asked for (cli/output.emit_streamed
    encodes them so: `list --json` never holds 6000 records and their text at once)."""
    shm, sem, msg = chosen.get("shm"), chosen.get("sem"), chosen.get("msg")
    lists: dict[str, Iterator[Record]] = {}
    if shm is not None:
        lists["segments"] = (segment_record(o, snapshot, SegmentRecord) for o in shm)
    if sem is not None:
        lists["semaphore_sets"] = (
            semaphore_set_record(o, snapshot, SemaphoreSetRecord) for o in sem
        )
    if msg is not None:
        lists["queues"] = (queue_record(o, snapshot, QueueRecord) for o in msg)
    shell = ListDocument(
        schema_version=SCHEMA_VERSION, taken_at=iso_moment(snapshot.taken_at),
        segments=UNSET if shm is None else [], semaphore_sets=UNSET if sem is None else [],
        queues=UNSET if msg is None else [], blind_spots=blind_spots_record(snapshot.blind_spots),
    )  # fmt: skip
    return shell, lists


class ListPart(NamedTuple):
    """One namespace's share of a list across namespaces: its snapshot and chosen objects."""

    snapshot: Snapshot
    namespace: NamespaceRecord
    chosen: Mapping[str, Sequence[Any]]  # shm, sem, msg -> its objects, in order


def namespace_view_record(
    namespace: Namespace, snapshot: Snapshot | None, refused: str | None
) -> NamespaceViewRecord:
    blind = None if snapshot is None else blind_spots_record(snapshot.blind_spots)
    return NamespaceViewRecord(
        namespace.inode, namespace.name, namespace.source, namespace.current,
        len(namespace.pids), refused, blind,
    )  # fmt: skip


def list_records_across(
    parts: Sequence[ListPart],
    kinds: Sequence[str],
    namespaces: Sequence[NamespaceViewRecord],
    unplaced: Mapping[str, int] | None,
) -> tuple[ListDocument, dict[str, Iterator[Record]]]:
    """list_records() of several namespaces (list -A, --namespace): each kind's records of
    every part in turn, each with its namespace; the namespaces looked at (and, for -A, the
    processes not placed in one)."""
    makers: dict[str, tuple[str, Any, Any]] = {
        "shm": ("segments", segment_record, SegmentRecord),
        "sem": ("semaphore_sets", semaphore_set_record, SemaphoreSetRecord),
        "msg": ("queues", queue_record, QueueRecord),
    }

    def records(kind: str) -> Iterator[Record]:  # a generator a kind: each binds its own maker
        _, make, record = makers[kind]
        for part in parts:
            for o in part.chosen.get(kind, ()):
                yield make(o, part.snapshot, record, part.namespace)

    lists = {makers[kind][0]: records(kind) for kind in kinds}
    first = parts[0].snapshot if parts else None
    blind = blind_spots_record(first.blind_spots if first is not None else BlindSpots())
    shell = ListDocument(
        schema_version=SCHEMA_VERSION,
        taken_at=iso_moment(first.taken_at if first is not None else time.time()),
        segments=[] if "shm" in kinds else UNSET,
        semaphore_sets=[] if "sem" in kinds else UNSET,
        queues=[] if "msg" in kinds else UNSET,
        blind_spots=blind, namespaces=list(namespaces),
        unplaced=UNSET if unplaced is None else dict(unplaced),
    )  # fmt: skip
    return shell, lists


def show_document(
    found: IpcObject, snapshot: Snapshot, command_lines: Mapping[int, str | None] | None = None,
    namespace: NamespaceRecord | None = None,
) -> ShowDocument:  # fmt: skip
    """One object as `show` prints it: as listed, with the version (and a segment's attachers'
    command lines); namespace: the snapshot's, default the caller's."""
    version = SCHEMA_VERSION
    if isinstance(found, Segment):
        lines = dict(command_lines or {})
        return segment_record(
            found, snapshot, ShowSegmentDocument, namespace, command_lines=lines,
            schema_version=version,
        )  # fmt: skip
    if isinstance(found, SemaphoreSet):
        return semaphore_set_record(
            found, snapshot, ShowSemaphoreSetDocument, namespace, schema_version=version
        )
    return queue_record(found, snapshot, ShowQueueDocument, namespace, schema_version=version)


def _usage(used: int, limit: int | None) -> LimitUsage:
    return LimitUsage(used=used, limit=limit, percent=percent(used, limit))


def limits_document(limits: Limits, posix: PosixLimits | None = None) -> LimitsDocument:
    usage = {name: _usage(used, limit) for name, used, limit in limit_rows(limits)}
    document = LimitsDocument(
        schema_version=SCHEMA_VERSION, shm_segments=usage["shm_segments"],
        shm_pages=usage["shm_pages"], sem_sets=usage["sem_sets"],
        sem_semaphores=usage["sem_semaphores"], msg_queues=usage["msg_queues"],
    )  # fmt: skip
    if posix is None:
        return document
    mq = posix.mqueue
    return replace(
        document,
        mq_queues=_usage(mq.queues, mq.queues_max) if mq.queues is not None else None,
        mq_msg_max=_usage(mq.largest_max_messages, mq.msg_max) if mq.msg_max else None,
        mq_msgsize_max=_usage(mq.largest_max_size, mq.msgsize_max) if mq.msgsize_max else None,
        mq_msg_default=mq.msg_default, mq_msgsize_default=mq.msgsize_default,
        shm_filesystems=[
            ShmFilesystemRecord(
                mount_point=fs.mount_point, fstype=fs.fstype, bytes=_usage(fs.used, fs.size),
                inodes=_usage(fs.inodes_used, fs.inodes), objects=fs.objects, problem=fs.problem,
            )
            for fs in posix.filesystems
        ],
    )  # fmt: skip
