"""The POSIX metric families: shared memory (pshm), named semaphores (psem), message queues
(pmq). Every name, HELP text and unit of them is defined here, once.

The per-kind counts join the System V ones in families.py (shmtop_objects, _memory_bytes,
_objects_omitted, _orphans, the resource gauges); the per-object series are families of
their own, labelled by POSIX_LABELS: a POSIX object has no id or key but a (device, inode)
and a name (untrusted text: through the sanitiser, and escaped by the library).

Statuses are core/posix/verdicts.py's rule, unchanged: orphan (a /dev/shm name nobody
maps or holds, its owner's processes gone, idle past the grace period), unused, and
unlinked (shm_unlink'd but still mapped or open: memory no `ls` shows, the leak people
hunt). A queue is unlinked when mq_unlink'd but still open; no rule calls a queue an
orphan, so pmq has no orphan count.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric

from shmtop.core.posix.limits import PosixLimits
from shmtop.core.posix.model import SHM_DIR, PosixKind, PosixObject
from shmtop.core.posix.mqueue import MqQueue
from shmtop.core.posix.verdicts import PosixStatus, judge
from shmtop.core.snapshot.accounts import user_name
from shmtop.core.waits.records import MqKind
from shmtop.core.waits.wait_report import WaitReport
from shmtop.exporter.posix_source import PosixReading
from shmtop.text.sanitize import safe_text

PSHM, PSEM, PMQ = PosixKind.SHM.value, PosixKind.SEM.value, MqKind.MQ.value
POSIX_KINDS = (PSHM, PSEM, PMQ)
POSIX_LABELS = ("kind", "id", "device", "name", "owner", "namespace")
JUDGED_KINDS = (PSHM, PSEM)  # the kinds the POSIX leak rule judges

PosixThing = PosixObject | MqQueue


@dataclass(frozen=True, slots=True, eq=False)
class PosixRow:
    """One POSIX object that gets per-object series."""

    kind: str  # pshm, psem or pmq
    obj: PosixThing
    status: PosixStatus | None
    waiters: int | None  # psem: threads the waiter scan found in futex on it (None: no
    # scan); pmq: threads blocked sending or receiving (the queue scan's own)
    namespace: str

    @property
    def key(self) -> tuple[object, ...]:
        return (self.kind, *self.obj.key, self.namespace)

    def same(self, other: object) -> bool:
        """Whether its series are other's. A scan builds new records, and a queue's atime
        moves at each of our reads: compare what the series say, labels and values (but
        the same record, as a reused POSIX scan gives, says the same)."""
        if not isinstance(other, PosixRow):
            return False
        if (
            self.obj is other.obj and self.status is other.status
            and self.waiters == other.waiters and self.namespace == other.namespace
        ):  # fmt: skip
            return True
        return _facts(self) == _facts(other)


@dataclass(frozen=True, slots=True)
class PosixJudged:
    """A POSIX reading with every shm and semaphore object judged, and the rows picked."""

    reading: PosixReading
    statuses: dict[tuple[str, int, int], PosixStatus | None]  # (kind, dev, inode): Statuses
    rows: tuple[PosixRow, ...]
    omitted: dict[str, int]
    counts: dict[str, int]  # objects by kind
    held: dict[str, int]  # bytes by kind: allocated (pshm, psem), queued (pmq)


def _kind(obj: PosixThing) -> str:
    return PMQ if isinstance(obj, MqQueue) else obj.kind.value


Statuses = dict[tuple[str, int, int], PosixStatus | None]  # (kind, dev, inode)


def posix_statuses(reading: PosixReading) -> Statuses:
    """Every object's status by the POSIX rule: the reading's alone (not the waiter scan's)."""
    shm = reading.shm
    statuses: Statuses = {}
    for obj in shm.objects:
        statuses[(obj.kind.value, *obj.key)] = judge(obj, shm).status
    for queue in reading.queues.queues:
        statuses[(PMQ, *queue.key)] = None if queue.linked else PosixStatus.UNLINKED
    return statuses


def judge_posix(
    reading: PosixReading, waits: WaitReport | None, namespace: str, max_objects: int
) -> PosixJudged:
    """Every object judged, and at most max_objects of each kind picked: orphans, then the
    unlinked ones, then the largest (allocated bytes; queued bytes), ties by inode."""
    statuses = posix_statuses(reading)
    scanned = waits is not None and not waits.unsupported
    live = waits.counts() if waits is not None and scanned else {}
    by_kind: dict[str, list[PosixThing]] = {kind: [] for kind in POSIX_KINDS}
    for obj in reading.shm.objects:
        by_kind[obj.kind.value].append(obj)
    by_kind[PMQ].extend(reading.queues.queues)
    rows: list[PosixRow] = []
    omitted: dict[str, int] = {}
    for kind, objects in by_kind.items():
        picked = _chosen(kind, objects, statuses, max_objects)
        omitted[kind] = len(objects) - len(picked)
        for thing in picked:
            status = statuses[(kind, *thing.key)]
            waiting: int | None = None
            if isinstance(thing, MqQueue):
                waiting = len(thing.waiters)
            elif kind == PSEM and scanned:
                waiting = live.get((PosixKind.SEM, thing.inode), 0)
            rows.append(PosixRow(kind, thing, status, waiting, namespace))
    counts = {kind: len(objects) for kind, objects in by_kind.items()}
    held = {kind: sum(_size(o) for o in objects) for kind, objects in by_kind.items()}
    return PosixJudged(reading, statuses, tuple(rows), omitted, counts, held)


def _size(obj: PosixThing) -> int:
    if isinstance(obj, MqQueue):
        return obj.entry.state.qsize or 0
    return obj.allocated


def _chosen(
    kind: str, objects: Sequence[PosixThing],
    statuses: dict[tuple[str, int, int], PosixStatus | None], max_objects: int,
) -> list[PosixThing]:  # fmt: skip
    if len(objects) <= max_objects:
        return list(objects)
    rank = {PosixStatus.ORPHAN: 0, PosixStatus.UNLINKED: 1}

    def order(obj: PosixThing) -> tuple[int, int, int, int]:
        status = statuses[(kind, *obj.key)]
        return (rank.get(status, 2) if status else 2, -_size(obj), *obj.key)

    return sorted(objects, key=order)[:max_objects]


@dataclass(frozen=True, slots=True)
class PosixPerObject:
    """One POSIX per-object family: its kinds and how to read its value (None: no sample)."""

    name: str
    help: str
    kinds: tuple[str, ...]
    value: Callable[[PosixRow], float | None]
    unit: str = ""


def _file(read: Callable[[PosixObject], float | None]) -> Callable[[PosixRow], float | None]:
    return lambda row: read(row.obj) if isinstance(row.obj, PosixObject) else None


def _queue(read: Callable[[MqQueue], float | None]) -> Callable[[PosixRow], float | None]:
    return lambda row: read(row.obj) if isinstance(row.obj, MqQueue) else None


def _semaphore_value(obj: PosixObject) -> float | None:
    return obj.semaphore.value if obj.semaphore is not None else None


def _semaphore_nwaiters(obj: PosixObject) -> float | None:
    return obj.semaphore.nwaiters if obj.semaphore is not None else None


POSIX_PER_OBJECT = (
    PosixPerObject(
        "shmtop_posix_size",
        "Size of a POSIX shared memory object or named semaphore file (st_size).",
        (PSHM, PSEM),
        _file(lambda o: o.size),
        "bytes",
    ),
    PosixPerObject(
        "shmtop_posix_allocated",
        "Memory (or swap) a POSIX object really holds (st_blocks * 512).",
        (PSHM, PSEM),
        _file(lambda o: o.allocated if o.stat_known else None),
        "bytes",
    ),
    PosixPerObject(
        "shmtop_posix_mappers",
        "Processes mapping a POSIX object shared (its attachments).",
        (PSHM, PSEM),
        _file(lambda o: len(o.mapper_pids)),
    ),
    PosixPerObject(
        "shmtop_posix_holders",
        "Processes holding a POSIX object (or queue) open on a file descriptor.",
        POSIX_KINDS,
        lambda row: len(row.obj.holder_pids),
    ),
    PosixPerObject(
        "shmtop_posix_semaphore_value",
        "The value of a glibc named semaphore (where its layout is known).",
        (PSEM,),
        _file(_semaphore_value),
    ),
    PosixPerObject(
        "shmtop_posix_semaphore_nwaiters",
        "glibc's count of a named semaphore's waiters (a killed waiter is never taken off).",
        (PSEM,),
        _file(_semaphore_nwaiters),
    ),
    PosixPerObject(
        "shmtop_posix_semaphore_waiters",
        "Threads blocked on a named semaphore (the waiter scan's futex waits).",
        (PSEM,),
        lambda row: row.waiters,
    ),
    PosixPerObject(
        "shmtop_pmq_messages",
        "Messages on a POSIX message queue (mq_curmsgs).",
        (PMQ,),
        _queue(lambda q: q.entry.state.messages),
    ),
    PosixPerObject(
        "shmtop_pmq_capacity_messages",
        "Messages a POSIX message queue holds at most (mq_maxmsg).",
        (PMQ,),
        _queue(lambda q: q.entry.state.max_messages),
    ),
    PosixPerObject(
        "shmtop_pmq",
        "Bytes of the messages on a POSIX message queue (QSIZE).",
        (PMQ,),
        _queue(lambda q: q.entry.state.qsize),
        "bytes",
    ),
    PosixPerObject(
        "shmtop_pmq_waiters",
        "Threads blocked in mq_timedsend or mq_timedreceive on a queue.",
        (PMQ,),
        lambda row: row.waiters,
    ),
)


def _labels(row: PosixRow) -> list[str]:
    obj = row.obj
    if isinstance(obj, MqQueue):
        dev, inode, uid, known = obj.entry.dev, obj.entry.inode, obj.entry.uid, True
    else:
        dev, inode, uid, known = obj.dev, obj.inode, obj.uid, obj.stat_known
    owner = user_name(uid) if known else ""
    device = f"{os.major(dev)}:{os.minor(dev)}"
    return [row.kind, str(inode), device, safe_text(obj.name), safe_text(owner), row.namespace]


def _facts(row: PosixRow) -> tuple[object, ...]:
    """Everything row's series say: labels, each family's value, the status."""
    values = tuple(spec.value(row) if row.kind in spec.kinds else None
                   for spec in POSIX_PER_OBJECT)  # fmt: skip
    return (*_labels(row), *values, row.status)


def posix_object_families(rows: Sequence[PosixRow]) -> list[Metric]:
    """The POSIX per-object families (always the same ones, in the same order)."""
    families = [
        GaugeMetricFamily(spec.name, spec.help, labels=POSIX_LABELS, unit=spec.unit)
        for spec in POSIX_PER_OBJECT
    ]
    status = GaugeMetricFamily(
        "shmtop_posix_object_status",
        "1 for a POSIX object the leak rule names: orphan, unused, or unlinked (still mapped or"
        " open: memory no ls shows).",
        labels=[*POSIX_LABELS, "status"],
    )
    for row in rows:
        labels = _labels(row)
        for spec, family in zip(POSIX_PER_OBJECT, families, strict=True):
            if row.kind in spec.kinds and (value := spec.value(row)) is not None:
                family.add_metric(labels, value)
        if row.status is not None:
            status.add_metric([*labels, row.status.value], 1)
    return [*families, status]


def posix_summary_families(found: PosixJudged, namespace: str) -> Iterable[Metric]:
    """The POSIX counts that are families of their own: unlinked objects, scan coverage."""
    unlinked = GaugeMetricFamily(
        "shmtop_posix_unlinked",
        "POSIX objects unlinked but still mapped or open: memory no ls shows, freed only when"
        " the last mapper or holder lets go.",
        labels=["kind", "namespace"],
    )
    found_unlinked = Counter(
        kind for (kind, _, _), status in found.statuses.items() if status is PosixStatus.UNLINKED
    )
    for kind in POSIX_KINDS:
        unlinked.add_metric([kind, namespace], found_unlinked[kind])
    unlinked_bytes = GaugeMetricFamily(
        "shmtop_posix_unlinked",
        "Bytes the unlinked POSIX shared memory objects still hold (allocated).",
        labels=["namespace"],
        unit="bytes",
    )
    unlinked_bytes.add_metric(
        [namespace], sum(o.allocated for o in found.reading.shm.objects if not o.linked)
    )
    complete = GaugeMetricFamily(
        "shmtop_posix_scan_complete",
        "1 if the POSIX scan read every process's maps and fds (else a mapper may be missing"
        " and nothing is an orphan), else 0.",
        labels=["namespace"],
    )
    complete.add_metric([namespace], 1 if found.reading.shm.complete else 0)
    taken = GaugeMetricFamily(
        "shmtop_posix_scan_timestamp",
        "When the POSIX scan served was taken (Unix time; reused for --posix-interval).",
        unit="seconds",
        value=found.reading.shm.taken_at,
    )
    return [unlinked, unlinked_bytes, complete, taken]


def posix_limit_rows(limits: PosixLimits) -> list[tuple[str, int, int | None]]:
    """(resource, used, limit) of the POSIX kinds: the queues against fs.mqueue.queues_max
    (when they could be listed), the /dev/shm filesystem's bytes and inodes (where statvfs
    answered: shm_open and writes to its objects fail with ENOSPC when it is full)."""
    rows: list[tuple[str, int, int | None]] = []
    if limits.mqueue.queues is not None:
        rows.append(("pmq_queues", limits.mqueue.queues, limits.mqueue.queues_max))
    shm_dir = next((f for f in limits.filesystems if f.mount_point == SHM_DIR), None)
    if shm_dir is not None and shm_dir.fstype and shm_dir.problem is None:
        rows.append(("dev_shm_bytes", shm_dir.used, shm_dir.size or None))
        rows.append(("dev_shm_inodes", shm_dir.inodes_used, shm_dir.inodes or None))
    return rows


def posix_orphans(found: PosixJudged) -> Counter[str]:
    """Orphans by the POSIX rule, by kind (pshm, psem)."""
    return Counter(
        kind for (kind, _, _), status in found.statuses.items() if status is PosixStatus.ORPHAN
    )
