"""The JSON documents of `show pshm|psem --name NAME --json` and `show pmq --name NAME --json`.

A name can be several objects (ours in /dev/shm, a container's, unlinked ones still mapped
or open: `show` prints each), so each document holds a list of the records `list` gives
them (posix-list's and pmq-list's), with the scan's completeness, and the command lines of
their users as `show shm` has its attachers'. The conventions of text/documents.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated

from msgspec import UNSET, Meta

from shmtop.core.posix.model import PosixObject, PosixSnapshot
from shmtop.core.posix.mqueue import MqQueue, MqSnapshot
from shmtop.text.documents import SCHEMA_VERSION, NamespaceRecord, Record, Time, Version
from shmtop.text.export import iso_moment
from shmtop.text.mqueue_documents import MqQueueRecord, queue_record
from shmtop.text.posix_documents import PosixObjectRecord, object_record

CommandLines = Annotated[
    dict[int, str | None],
    Meta(
        description="pid -> command line (/proc/PID/cmdline) of each user (mapper, holder,"
        " waiter), null if gone, unreadable or empty; untrusted",
        extra_json_schema={"propertyNames": {"pattern": "^[0-9]+$"}},
    ),
]


class PosixShowDocument(Record, kw_only=True):
    """`shmtop show pshm|psem --name NAME --json`: every object of that name, as listed."""

    schema_version: Version
    name: Annotated[str, Meta(description="the name asked for; untrusted")]
    taken_at: Annotated[Time, Meta(description="when the scan was taken")]
    complete: Annotated[
        bool,
        Meta(description="every process's maps and fds were read (else a user may be missing)"),
    ]
    uninspected: Annotated[int, Meta(description="processes whose maps or fds were unreadable")]
    objects: list[PosixObjectRecord]
    command_lines: CommandLines


class PmqShowDocument(Record, kw_only=True):
    """`shmtop show pmq --name NAME --json`: every queue of that name, as listed."""

    schema_version: Version
    name: Annotated[str, Meta(description="the name asked for; untrusted")]
    taken_at: Annotated[Time, Meta(description="when the scan was taken")]
    complete: Annotated[
        bool, Meta(description="the queues and every process's fds and threads were read")
    ]
    uninspected: Annotated[int, Meta(description="processes whose fds or threads were unread")]
    queues: list[MqQueueRecord]
    command_lines: CommandLines


def posix_show_document(
    name: str, found: Sequence[PosixObject], snapshot: PosixSnapshot,
    command_lines: Mapping[int, str | None], namespace: NamespaceRecord | None = None,
) -> PosixShowDocument:  # fmt: skip
    """namespace: the objects' (another's, through --namespace); None: the caller's."""
    return PosixShowDocument(
        schema_version=SCHEMA_VERSION,
        name=name,
        taken_at=iso_moment(snapshot.taken_at),
        complete=snapshot.complete,
        uninspected=len(snapshot.uninspected),
        objects=[
            object_record(o, snapshot, UNSET if namespace is None else namespace) for o in found
        ],
        command_lines=dict(command_lines),
    )


def pmq_show_document(
    name: str, found: Sequence[MqQueue], snapshot: MqSnapshot,
    command_lines: Mapping[int, str | None], namespace: NamespaceRecord | None = None,
) -> PmqShowDocument:  # fmt: skip
    return PmqShowDocument(
        schema_version=SCHEMA_VERSION,
        name=name,
        taken_at=iso_moment(snapshot.taken_at),
        complete=snapshot.complete,
        uninspected=len(snapshot.uninspected),
        queues=[
            queue_record(q, snapshot, UNSET if namespace is None else namespace) for q in found
        ],
        command_lines=dict(command_lines),
    )


def users_of(objects: Sequence[PosixObject]) -> list[int]:
    """The pids of every mapper and holder, in order, once each."""
    pids = [m.pid for o in objects for m in o.mappings] + [
        h.pid for o in objects for h in o.holders
    ]
    return list(dict.fromkeys(pids))


def queue_users(queues: Sequence[MqQueue]) -> list[int]:
    """The pids of every holder, waiter and registered notifier, in order, once each."""
    pids = [h.pid for q in queues for h in q.holders] + [w.pid for q in queues for w in q.waiters]
    pids += [q.entry.state.notify_pid for q in queues if q.entry.state.notify_pid]
    return list(dict.fromkeys(pids))
