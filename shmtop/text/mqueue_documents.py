"""The JSON document of `list pmq --json`: POSIX message queues, as msgspec Structs.

The conventions of text/documents.py and posix_documents.py (Record, schema_version, ISO
times in UTC, holders as posix-list has them); names are untrusted bytes decoded as
UTF-8 with replacement: JSON-escaped, not sanitised.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from shmtop.core.posix.mqueue import MqQueue, MqSnapshot
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
from shmtop.text.posix_documents import HolderRecord, command_of
from shmtop.text.units import octal_perms


class MqWaiterRecord(Record):
    """A thread blocked sending to (full) or receiving from (empty) the queue."""

    pid: int
    command: Annotated[str | None, Meta(description="the process's short name; untrusted")]
    tid: int
    fd: Annotated[int, Meta(description="the queue descriptor it passed (an fd)")]
    sending: Annotated[bool, Meta(description="true: in mq_timedsend; false: mq_timedreceive")]


class MqQueueRecord(Record):
    """One POSIX message queue of our IPC namespace."""

    name: Annotated[str, Meta(description="/NAME; untrusted")]
    device: Annotated[str, Meta(description="the mqueue filesystem's device, major:minor")]
    inode: Annotated[int, Meta(description="with device, the queue's identity")]
    linked: Annotated[bool, Meta(description="false: mq_unlink'd but still held open")]
    uid: int
    user: str
    gid: int
    group: str
    perms: Annotated[str, Meta(description="the permission bits in octal")]
    mtime: Annotated[Time | None, Meta(description="the last send or receive (or creation)")]
    atime: Annotated[
        Time | None, Meta(description="moved by every read of its status line, shmtop's too")
    ]
    ctime: Annotated[Time | None, Meta(description="moved by the same reads")]
    messages: Annotated[int | None, Meta(description="queued now (mq_getattr); null: unknown")]
    max_messages: int | None
    max_size: Annotated[int | None, Meta(description="the largest message, bytes")]
    qsize: Annotated[int | None, Meta(description="bytes queued (the status line's QSIZE)")]
    notify_pid: Annotated[
        int | None, Meta(description="the process registered with mq_notify; null: nobody")
    ]
    notify_command: str | None
    sigev_notify: Annotated[int | None, Meta(description="its registration's sigev_notify")]
    signal: Annotated[int | None, Meta(description="the signal it asked for (SIGEV_SIGNAL)")]
    problem: Annotated[str | None, Meta(description="why a count is null")]
    holders: list[HolderRecord]
    waiters: list[MqWaiterRecord]
    namespace: Annotated[
        NamespaceRecord,
        Meta(description="the IPC namespace of the queue: the caller's without -A or"
             " --namespace"),
    ]  # fmt: skip


class PmqListDocument(Record, kw_only=True):
    """`shmtop list pmq --json`."""

    schema_version: Version
    taken_at: Annotated[Time, Meta(description="when the scan was taken")]
    source: Annotated[str, Meta(description="the mount the queues were read through")]
    listed: Annotated[bool, Meta(description="false: no mqueue fs could be read (see problem)")]
    complete: Annotated[
        bool, Meta(description="the queues and every process's fds and threads were read")
    ]
    problem: Annotated[str | None, Meta(description="why queues may be missing")]
    uninspected: Annotated[int, Meta(description="processes whose fds or threads were unread")]
    queues: list[MqQueueRecord]


def queue_record(
    queue: MqQueue, snapshot: MqSnapshot, namespace: NamespaceRecord | UnsetType = UNSET
) -> MqQueueRecord:
    """namespace: the queues' (UNSET: the caller's, as a scan of our own queues is)."""
    entry, state = queue.entry, queue.entry.state
    registered = state.notify_pid != 0
    return MqQueueRecord(
        name=queue.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
        device=f"{os.major(entry.dev)}:{os.minor(entry.dev)}",
        inode=entry.inode,
        linked=queue.linked,
        uid=entry.uid,
        user=user_name(entry.uid),
        gid=entry.gid,
        group=group_name(entry.gid),
        perms=octal_perms(entry.mode),
        mtime=iso_time(entry.mtime),
        atime=iso_time(entry.atime),
        ctime=iso_time(entry.ctime),
        messages=state.messages,
        max_messages=state.max_messages,
        max_size=state.max_size,
        qsize=state.qsize,
        notify_pid=state.notify_pid if registered else None,
        notify_command=command_of(snapshot.processes, state.notify_pid) if registered else None,
        sigev_notify=state.notify if registered else None,
        signal=(state.signo or None) if registered else None,
        problem=state.problem,
        holders=[
            HolderRecord(h.pid, command_of(snapshot.processes, h.pid), h.fd, h.readable, h.writable)
            for h in queue.holders
        ],
        waiters=[
            MqWaiterRecord(w.pid, command_of(snapshot.processes, w.pid), w.tid, w.fd, w.sending)
            for w in queue.waiters
        ],
        namespace=namespace if isinstance(namespace, NamespaceRecord) else caller_namespace(),
    )


def pmq_list_document(snapshot: MqSnapshot) -> PmqListDocument:
    return PmqListDocument(
        schema_version=SCHEMA_VERSION,
        taken_at=iso_moment(snapshot.taken_at),
        source=snapshot.source,
        listed=snapshot.listed,
        complete=snapshot.complete,
        problem=snapshot.problem,
        uninspected=len(snapshot.uninspected),
        queues=[queue_record(q, snapshot) for q in snapshot.queues],
    )


def pmq_list_across(parts: Sequence[tuple[MqSnapshot, NamespaceRecord]]) -> PmqListDocument:
    """list pmq -A/--namespace: every namespace's queues in turn, each with its namespace; the
    first namespace's source, problems joined, listed and complete only if all were."""
    first = parts[0][0]
    problems = [snapshot.problem for snapshot, _ in parts if snapshot.problem is not None]
    return PmqListDocument(
        schema_version=SCHEMA_VERSION,
        taken_at=iso_moment(first.taken_at),
        source=first.source,
        listed=all(snapshot.listed for snapshot, _ in parts),
        complete=all(snapshot.complete for snapshot, _ in parts),
        problem="; ".join(problems) or None,
        uninspected=sum(len(snapshot.uninspected) for snapshot, _ in parts),
        queues=[queue_record(q, snapshot, ns) for snapshot, ns in parts for q in snapshot.queues],
    )
