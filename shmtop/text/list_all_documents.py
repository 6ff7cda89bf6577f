"""`shmtop list --json` with every kind: the System V list document and the POSIX tables.

ListAllDocument is text/documents.ListDocument with the POSIX objects as optional fields,
their records those of the posix-list and pmq-list documents; it lives here because those
modules import documents.py (the list document could not name their records there).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from shmtop.core.posix.model import PosixObject, PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot
from shmtop.text.documents import ListDocument, Record
from shmtop.text.mqueue_documents import MqQueueRecord, queue_record
from shmtop.text.posix_documents import PosixObjectRecord, object_record


class PosixScanRecord(Record):
    """What the POSIX scans behind posix_shm, posix_semaphores and posix_queues could read."""

    reader: Annotated[str, Meta(description="the maps reader: procmap_query or text")]
    complete: Annotated[
        bool,
        Meta(description="every process's maps and fds (and the queues) were read; else no"
             " object is called orphan"),
    ]  # fmt: skip
    processes_hidden: Annotated[str | None, Meta(description="why /proc hides processes")]
    uninspected: Annotated[
        int, Meta(description="processes whose maps or fds were unreadable (either scan)")
    ]
    queues_listed: Annotated[bool, Meta(description="false: no mqueue fs could be read")]
    queues_problem: Annotated[str | None, Meta(description="why queues may be missing")]


class ListAllDocument(ListDocument, kw_only=True):
    """`shmtop list --json`: the System V tables, then (plain `list`/`list all`, in the
    caller's namespace, no --watch/--from) the POSIX ones."""

    posix_shm: Annotated[
        list[PosixObjectRecord] | UnsetType,
        Meta(description="POSIX shared memory, as list pshm --json has it; present when every"
             " kind was asked for in the caller's namespace"),
    ] = UNSET  # fmt: skip
    posix_semaphores: Annotated[
        list[PosixObjectRecord] | UnsetType,
        Meta(description="glibc named semaphores, as list psem --json has them; with posix_shm"),
    ] = UNSET
    posix_queues: Annotated[
        list[MqQueueRecord] | UnsetType,
        Meta(description="POSIX message queues, as list pmq --json has them; with posix_shm"),
    ] = UNSET
    posix_scan: Annotated[
        PosixScanRecord | UnsetType, Meta(description="with posix_shm: what the scans read")
    ] = UNSET


def with_posix(
    shell: ListDocument,
    lists: dict[str, Iterator[Any]],
    shm: Sequence[PosixObject],
    sem: Sequence[PosixObject],
    posix: PosixSnapshot,
    queues: MqSnapshot,
) -> tuple[ListAllDocument, dict[str, Iterator[Any]]]:
    """The list document's shell and lists (documents.list_records) with the POSIX objects
    chosen (shm, sem: of posix) and every queue, records made as they are encoded."""
    fields = {name: getattr(shell, name) for name in shell.__struct_fields__}
    scan = PosixScanRecord(
        reader=posix.reader,
        complete=posix.complete and queues.complete,
        processes_hidden=posix.processes_hidden,
        uninspected=len(set(posix.uninspected) | set(queues.uninspected)),
        queues_listed=queues.listed,
        queues_problem=queues.problem,
    )
    document = ListAllDocument(
        **fields, posix_shm=[], posix_semaphores=[], posix_queues=[], posix_scan=scan
    )
    more: dict[str, Iterator[Any]] = {
        "posix_shm": (object_record(o, posix) for o in shm),
        "posix_semaphores": (object_record(o, posix) for o in sem),
        "posix_queues": (queue_record(q, queues) for q in queues.queues),
    }
    return document, {**lists, **more}
