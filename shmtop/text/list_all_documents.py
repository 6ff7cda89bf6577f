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
from shmtop.text.documents import ListDocument, NamespaceRecord, Record
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
    """`shmtop list --json`: the System V tables, then (plain `list`/`list all`, also with
    --watch, -A or --namespace; not --from) the POSIX ones."""

    posix_shm: Annotated[
        list[PosixObjectRecord] | UnsetType,
        Meta(description="POSIX shared memory, as list pshm --json has it; present when every"
             " kind was asked for (not from a recording); each object with its namespace"
             " (the caller's without -A or --namespace)"),
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
    return with_posix_across(shell, lists, [(posix, UNSET, shm, sem)], [(queues, UNSET)])


ShmPart = tuple[PosixSnapshot, NamespaceRecord | UnsetType, Sequence[PosixObject],
                Sequence[PosixObject]]  # fmt: skip


def with_posix_across(
    shell: ListDocument,
    lists: dict[str, Iterator[Any]],
    shm_parts: Sequence[ShmPart],
    queue_parts: Sequence[tuple[MqSnapshot, NamespaceRecord | UnsetType]],
) -> tuple[ListAllDocument, dict[str, Iterator[Any]]]:
    """with_posix of several scans (list -A: each /dev/shm shown, each namespace's queues),
    each object with its scan's namespace (UNSET: the caller's, unsaid). posix_scan:
    the first scan's reader, complete if every scan was, uninspected: any scan's."""
    fields = {name: getattr(shell, name) for name in shell.__struct_fields__}
    first = shm_parts[0][0]
    queues = [q for q, _ in queue_parts]
    problems = [q.problem for q in queues if q.problem is not None]
    scan = PosixScanRecord(
        reader=first.reader,
        complete=all(p.complete for p, *_ in shm_parts) and all(q.complete for q in queues),
        processes_hidden=first.processes_hidden,
        uninspected=_uninspected(shm_parts, queues),
        queues_listed=all(q.listed for q in queues),
        queues_problem="; ".join(problems) or None,
    )
    document = ListAllDocument(
        **fields, posix_shm=[], posix_semaphores=[], posix_queues=[], posix_scan=scan
    )
    more: dict[str, Iterator[Any]] = {
        "posix_shm": (object_record(o, p, ns) for p, ns, shm, _ in shm_parts for o in shm),
        "posix_semaphores": (object_record(o, p, ns) for p, ns, _, sem in shm_parts for o in sem),
        "posix_queues": (queue_record(q, m, ns) for m, ns in queue_parts for q in m.queues),
    }
    return document, {**lists, **more}


def _uninspected(shm_parts: Sequence[ShmPart], queues: Sequence[MqSnapshot]) -> int:
    """Processes any scan could not read, each once (pids are ours in every namespace)."""
    pids: set[int] = set()
    for part in shm_parts:
        pids.update(part[0].uninspected)
    for queue in queues:
        pids.update(queue.uninspected)
    return len(pids)
