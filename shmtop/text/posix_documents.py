"""The JSON document of `list pshm|psem --json`: POSIX objects, as msgspec Structs.

The conventions of text/documents.py (Record, schema_version, ISO times in UTC); names and
paths are untrusted bytes decoded as UTF-8 with replacement: JSON-escaped, not sanitised.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from shmtop.core.posix.model import PosixKind, PosixObject, PosixProcess, PosixSnapshot
from shmtop.core.posix.verdicts import PosixStatus, judge
from shmtop.core.snapshot.accounts import group_name, user_name
from shmtop.text.documents import (
    SCHEMA_VERSION,
    NamespaceRecord,
    Record,
    Time,
    Version,
    caller_namespace,
)
from shmtop.text.export import iso_moment, iso_time
from shmtop.text.units import octal_perms

if TYPE_CHECKING:
    from shmtop.text.posix_table import Order

PosixKindName = Annotated[
    Literal["pshm", "psem"],
    Meta(description="pshm: POSIX shared memory; psem: a glibc named semaphore (sem.NAME)"),
]


class MappingRecord(Record):
    """One shared mapping of the object by a process (one maps line)."""

    pid: int
    command: Annotated[str | None, Meta(description="the process's short name; untrusted")]
    start: Annotated[int, Meta(description="first address of the mapping")]
    end: Annotated[int, Meta(description="the address after its last byte")]
    writable: Annotated[bool, Meta(description="mapped read-write (else read-only)")]
    offset: Annotated[int, Meta(description="where in the object the mapping starts, bytes")]


class HolderRecord(Record):
    """A process holding the object open on a file descriptor."""

    pid: int
    command: Annotated[str | None, Meta(description="the process's short name; untrusted")]
    fd: int
    readable: bool
    writable: bool


class SemaphoreRecord(Record):
    """A glibc named semaphore's words, read with pread (64-bit glibc layout)."""

    value: Annotated[int | None, Meta(description="null: layout unknown or unreadable")]
    nwaiters: Annotated[
        int | None, Meta(description="glibc's waiter count: a hint (a killed waiter stays)")
    ]
    problem: Annotated[str | None, Meta(description="why value is null")]


class PosixObjectRecord(Record):
    """One file on a shm filesystem: named in /dev/shm, mapped shared, or held open."""

    kind: PosixKindName
    name: Annotated[str, Meta(description="/NAME for a /dev/shm object, else the path; untrusted")]
    path: Annotated[str, Meta(description="where it was found, as the finder printed it")]
    device: Annotated[str, Meta(description="the filesystem's device, major:minor")]
    inode: Annotated[int, Meta(description="with device, the object's identity")]
    linked: Annotated[bool, Meta(description="false: unlinked but still mapped or open")]
    in_shm_dir: Annotated[bool, Meta(description="a name in our /dev/shm (rm can remove it)")]
    stat_known: Annotated[
        bool, Meta(description="false: could not be stat'ed; size from mappings, owner unknown")
    ]
    size: int
    allocated: Annotated[int, Meta(description="bytes of memory (or swap) it holds: st_blocks")]
    uid: int
    user: str
    gid: int
    group: str
    perms: Annotated[str, Meta(description="the permission bits in octal")]
    atime: Time | None
    mtime: Time | None
    ctime: Time | None
    status: Annotated[
        PosixStatus | None,
        Meta(description="the leak rule: orphan, unused, unlinked; null: in use"),
    ]
    reason: Annotated[str, Meta(description="the evidence the status rests on")]
    mappings: list[MappingRecord]
    holders: list[HolderRecord]
    semaphore: Annotated[SemaphoreRecord | None, Meta(description="psem only")]
    namespace: Annotated[
        NamespaceRecord,
        Meta(description="the IPC namespace whose member's /dev/shm it was found in (POSIX"
             " shm is its mount namespace's): the caller's without -A or --namespace"),
    ]  # fmt: skip


class PosixListDocument(Record, kw_only=True):
    """`shmtop list pshm --json` or `list psem --json`."""

    schema_version: Version
    taken_at: Annotated[Time, Meta(description="when the scan was taken")]
    reader: Annotated[str, Meta(description="the maps reader: procmap_query or text")]
    complete: Annotated[
        bool, Meta(description="every process's maps and fds were read (else nothing is orphan)")
    ]
    processes_hidden: Annotated[str | None, Meta(description="why /proc hides processes")]
    uninspected: Annotated[int, Meta(description="processes whose maps or fds were unreadable")]
    objects: list[PosixObjectRecord]


def command_of(processes: Mapping[int, PosixProcess], pid: int) -> str | None:
    """The short name of a POSIX scan's process, or None if the scan did not see it."""
    process = processes.get(pid)
    return process.command if process is not None else None


def object_record(
    obj: PosixObject, snapshot: PosixSnapshot, namespace: NamespaceRecord | UnsetType = UNSET
) -> PosixObjectRecord:
    """namespace: the scan's (UNSET: the caller's, as a scan of our own /dev/shm is)."""
    verdict = judge(obj, snapshot)
    known = obj.stat_known
    sem = obj.semaphore
    return PosixObjectRecord(
        kind=str(obj.kind),  # type: ignore[arg-type]  # a PosixKind is one of the two words
        name=obj.name,
        path=obj.path.decode("utf-8", "replace"),
        device=f"{os.major(obj.dev)}:{os.minor(obj.dev)}",
        inode=obj.inode,
        linked=obj.linked,
        in_shm_dir=obj.in_shm_dir,
        stat_known=known,
        size=obj.size,
        allocated=obj.allocated,
        uid=obj.uid,
        user=user_name(obj.uid) if known else "",
        gid=obj.gid,
        group=group_name(obj.gid) if known else "",
        perms=octal_perms(obj.mode),
        atime=iso_time(obj.atime),
        mtime=iso_time(obj.mtime),
        ctime=iso_time(obj.ctime),
        status=verdict.status,
        reason=verdict.reason,
        mappings=[
            MappingRecord(
                m.pid, command_of(snapshot.processes, m.pid), m.start, m.end, m.writable, m.offset
            )
            for m in obj.mappings
        ],
        holders=[
            HolderRecord(h.pid, command_of(snapshot.processes, h.pid), h.fd, h.readable, h.writable)
            for h in obj.holders
        ],
        semaphore=SemaphoreRecord(sem.value, sem.nwaiters, sem.problem) if sem else None,
        namespace=namespace if isinstance(namespace, NamespaceRecord) else caller_namespace(),
    )


def posix_list_document(
    snapshot: PosixSnapshot, kind: PosixKind, order: Order | None = None
) -> PosixListDocument:
    """order: the objects and their order (default the table's: named, then unlinked)."""
    from shmtop.text.posix_table import objects_of

    return PosixListDocument(
        schema_version=SCHEMA_VERSION,
        taken_at=iso_moment(snapshot.taken_at),
        reader=snapshot.reader,
        complete=snapshot.complete,
        processes_hidden=snapshot.processes_hidden,
        uninspected=len(snapshot.uninspected),
        objects=[object_record(o, snapshot) for o in (order or objects_of)(snapshot, kind)],
    )


def posix_list_across(
    parts: Sequence[tuple[PosixSnapshot, NamespaceRecord]], kind: PosixKind,
    order: Order | None = None,
) -> PosixListDocument:  # fmt: skip
    """list pshm|psem -A/--namespace: one document, every namespace's objects in turn, each
    with its namespace; complete only if every scan was, uninspected summed."""
    from shmtop.text.posix_table import objects_of

    first = parts[0][0]
    return PosixListDocument(
        schema_version=SCHEMA_VERSION,
        taken_at=iso_moment(first.taken_at),
        reader=first.reader,
        complete=all(snapshot.complete for snapshot, _ in parts),
        processes_hidden=first.processes_hidden,
        uninspected=sum(len(snapshot.uninspected) for snapshot, _ in parts),
        objects=[
            object_record(o, snapshot, namespace)
            for snapshot, namespace in parts
            for o in (order or objects_of)(snapshot, kind)
        ],
    )
