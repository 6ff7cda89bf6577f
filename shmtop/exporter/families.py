"""The metric families of one reading: every name, HELP text and unit is defined here, once.

Built from a Reading (source.py) by plain functions; exposition.py encodes them with
prometheus_client (as Collectors, the per-object lines kept per object). Three groups:

- `health_families`: shmtop_up and the snapshot counters, on every scrape, also when the
  snapshot failed (then nothing else is served: stale objects would mislead);
- `snapshot_families`: usage against the kernel's limits, the objects one by one (at most
  `max_objects` of each kind: orphans first, then the largest), orphans by the rule, the
  waiter scan's waits, stuck waits and deadlocks;
- `scrape_families`: what belongs to one scrape (its duration, the snapshot's age).
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from shmtop import __version__
from shmtop.core.model import (
    IpcObject,
    Kind,
    MessageQueue,
    Process,
    Segment,
    SemaphoreSet,
    Snapshot,
)
from shmtop.core.posix.model import PosixKind
from shmtop.core.verdicts import Status, judge
from shmtop.core.waits.records import AnonKind, MqKind, WaitKind
from shmtop.core.waits.wait_report import WaitReport
from shmtop.core.waits.wait_verdict import Outcome
from shmtop.exporter.posix_families import (
    JUDGED_KINDS,
    POSIX_KINDS,
    PosixJudged,
    PosixRow,
    judge_posix,
    posix_limit_rows,
    posix_object_families,
    posix_orphans,
    posix_summary_families,
)
from shmtop.exporter.posix_source import PosixReading
from shmtop.exporter.settings import DEFAULT_MAX_OBJECTS
from shmtop.exporter.source import Reading
from shmtop.text.export import limit_rows
from shmtop.text.sanitize import safe_text
from shmtop.text.units import hex_key

OBJECT_LABELS = ("kind", "id", "key", "owner", "namespace")
# What shmtop_waiters counts by: System V, POSIX shm and semaphores (futex), queues, anon.
WAIT_KINDS: tuple[WaitKind, ...] = (*Kind, *PosixKind, *MqKind, *AnonKind)


@dataclass(frozen=True, slots=True)
class PerObject:
    """One per-object family: which kind it describes and how to read its value (None: no
    sample for that object, e.g. rss on a kernel that does not report it)."""

    name: str
    help: str
    kind: Kind
    value: Callable[[IpcObject], float | None]
    unit: str = ""


def _segment(read: Callable[[Segment], float | None]) -> Callable[[IpcObject], float | None]:
    return lambda obj: read(obj) if isinstance(obj, Segment) else None


def _set(read: Callable[[SemaphoreSet], float | None]) -> Callable[[IpcObject], float | None]:
    return lambda obj: read(obj) if isinstance(obj, SemaphoreSet) else None


def _queue(read: Callable[[MessageQueue], float | None]) -> Callable[[IpcObject], float | None]:
    return lambda obj: read(obj) if isinstance(obj, MessageQueue) else None


PER_OBJECT = (
    PerObject(
        "shmtop_segment_size",
        "Size of a shared memory segment.",
        Kind.SHM,
        _segment(lambda s: s.size),
        "bytes",
    ),
    PerObject(
        "shmtop_segment_rss",
        "Resident bytes of a segment (where the kernel says).",
        Kind.SHM,
        _segment(lambda s: s.rss),
        "bytes",
    ),
    PerObject(
        "shmtop_segment_swap",
        "Swapped-out bytes of a segment (where the kernel says).",
        Kind.SHM,
        _segment(lambda s: s.swap),
        "bytes",
    ),
    PerObject(
        "shmtop_segment_attachments",
        "Attachments of a segment (the kernel's nattch).",
        Kind.SHM,
        _segment(lambda s: s.nattch),
    ),
    PerObject(
        "shmtop_semaphore_set_semaphores",
        "Semaphores in a set (nsems).",
        Kind.SEM,
        _set(lambda s: s.nsems),
    ),
    PerObject(
        "shmtop_semaphore_set_waiters",
        "Processes blocked on a semaphore set (the sum of its semncnt and semzcnt).",
        Kind.SEM,
        _set(lambda s: s.waiters),
    ),
    PerObject(
        "shmtop_queue_messages", "Messages on a queue (qnum).", Kind.MSG, _queue(lambda q: q.qnum)
    ),
    PerObject(
        "shmtop_queue",
        "Bytes of the messages on a queue (cbytes).",
        Kind.MSG,
        _queue(lambda q: q.cbytes),
        "bytes",
    ),
    PerObject(
        "shmtop_queue_capacity",
        "Capacity of a queue (msg_qbytes).",
        Kind.MSG,
        _queue(lambda q: q.qbytes),
        "bytes",
    ),
)


def health_families(reading: Reading) -> list[Metric]:
    """shmtop_up and the snapshot counters: served on every scrape, whatever happened."""
    info = GaugeMetricFamily("shmtop_build_info", "The shmtop release serving.", labels=["version"])
    info.add_metric([__version__], 1)
    return [
        GaugeMetricFamily(
            "shmtop_up",
            "1 if the last snapshot of the IPC tables succeeded, "
            "else 0 (the error is on the exporter's stderr).",
            value=1 if reading.up else 0,
        ),
        CounterMetricFamily(
            "shmtop_snapshot_errors", "Snapshots that failed since start.", value=reading.failures
        ),
        CounterMetricFamily(
            "shmtop_snapshots",
            "Snapshots attempted since start (each serves every scrape within the interval).",
            value=reading.attempts,
        ),
        GaugeMetricFamily(
            "shmtop_snapshot_duration",
            "Time the last snapshot and its waiter scan took.",
            value=reading.duration,
            unit="seconds",
        ),
        GaugeMetricFamily(
            "shmtop_snapshot_timestamp",
            "When the last snapshot was taken (Unix time).",
            value=reading.taken_at,
            unit="seconds",
        ),
        info,
    ]


def scrape_families(reading: Reading, started: float, now: float) -> list[Metric]:
    """What belongs to one scrape: its duration so far and the served snapshot's age."""
    return [
        GaugeMetricFamily(
            "shmtop_scrape_duration",
            "Time this scrape took to gather (the encoding of a reused snapshot is reused too).",
            value=max(now - started, 0.0),
            unit="seconds",
        ),
        GaugeMetricFamily(
            "shmtop_snapshot_age",
            "Age of the snapshot this scrape serves.",
            value=max(now - reading.monotonic, 0.0),
            unit="seconds",
        ),
    ]


@dataclass(frozen=True, slots=True, eq=False)
class Row:
    """One object that gets per-object series, with what they say besides the object."""

    kind: Kind
    obj: IpcObject
    status: Status | None  # what the orphan rule calls it
    waiters: int | None  # threads the waiter scan found blocked on a queue (None: no scan)
    namespace: str

    @property
    def key(self) -> tuple[object, ...]:
        return (self.kind, self.obj.id, self.namespace)  # ids repeat across namespaces

    def same(self, other: object) -> bool:
        """Whether its series are other's: the same object (the Collector hands out the same
        instance while the kernel says the same of it), status, waiters and namespace."""
        return (
            isinstance(other, Row) and self.obj is other.obj and self.status is other.status
            and self.waiters == other.waiters and self.namespace == other.namespace
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Judged:
    """A good snapshot with every object judged by the rule, and the objects that get series."""

    snapshot: Snapshot
    waits: WaitReport | None
    namespace: str
    statuses: dict[tuple[Kind, int], Status | None]
    rows: tuple[Row | PosixRow, ...]
    omitted: dict[str, int]  # by kind: System V and POSIX
    posix: PosixJudged | None = None  # None: no POSIX scan in the reading


class Verdicts:
    """The rule's status of every object, from verdicts.judge, with one saving: an object
    the rule found in use (its `busy`) or with a user that runs (`users_gone` False) has no
    status, and is not judged again while nothing judge read of it changed: the Collector
    hands out the same instance (it makes a new one whenever the kernel says anything new
    of the object), the waiter scan says the same of it, and the processes its verdict
    named are the same (or as unknown) in the new snapshot.

    It also keeps, from one reading to the next, each kind's rows while nothing they say
    changed, and the POSIX objects judged while the POSIX reading served is the same one
    (reused for --posix-interval): the rows are then the same instances, and the encoder
    (exposition.ObjectLines) recognises them at once."""

    def __init__(self) -> None:
        self._kept: dict[tuple[Kind, int], _Kept] = {}
        self._kinds: dict[Kind, _KindVerdicts] = {}
        self._world: tuple[object, ...] | None = None  # processes, hidden, blocked
        self._posix: tuple[PosixReading, tuple[object, ...], PosixJudged] | None = None
        # by kind: the verdicts and what else the rows said, the rows, how many left out
        self._picked: dict[Kind, tuple[_KindVerdicts | None, tuple[object, ...], list[Row], int]]
        self._picked = {}

    def posix_judged(
        self, reading: PosixReading, waits: WaitReport | None, namespace: str, max_objects: int
    ) -> PosixJudged:
        """judge_posix(...), last reading's while the POSIX reading is the same one (reused
        for --posix-interval) and the waiter scan finds as many threads on each semaphore."""
        scanned = waits is not None and not waits.unsupported
        on_sems = (
            {k: n for k, n in waits.counts().items() if k[0] is PosixKind.SEM}
            if waits is not None and scanned else None
        )  # fmt: skip
        extra = (on_sems, namespace, max_objects)
        last = self._posix
        if last is not None and last[0] is reading and last[1] == extra:
            return last[2]
        found = judge_posix(reading, waits, namespace, max_objects)
        self._posix = (reading, extra, found)
        return found

    def kind_rows(
        self, kind: Kind, extra: tuple[object, ...], build: Callable[[], tuple[list[Row], int]]
    ) -> tuple[list[Row], int]:
        """kind's rows and how many were left out: last reading's when its verdicts are last
        reading's (the same objects in the same world, none judged again: statuses()) and
        extra (what else the rows say: waiter counts, max_objects, namespace) is equal;
        else build()'s, each Row that says what last reading's said replaced by that one."""
        verdicts = self._kinds.get(kind)
        last = self._picked.get(kind)
        if last is not None and last[0] is verdicts and last[1] == extra:
            return last[2], last[3]
        rows, omitted = build()
        if last is not None:
            old = {row.obj.id: row for row in last[2]}
            rows = [known if (known := old.get(row.obj.id)) is not None and known.same(row)
                    else row for row in rows]  # fmt: skip
        self._picked[kind] = (verdicts, extra, rows, omitted)
        return rows, omitted

    def statuses(
        self, snapshot: Snapshot, blocked: set[tuple[Kind, int]] | None
    ) -> dict[tuple[Kind, int], Status | None]:
        # What judge reads besides the objects: when it is as last time, a kind whose objects
        # are last time's instances, in order, keeps its kept verdicts without a look at each.
        world = (snapshot.processes, snapshot.hidden, blocked)
        same_world = self._world is not None and all(
            a == b for a, b in zip(self._world, world, strict=True)
        )
        self._world = world
        found: dict[tuple[Kind, int], Status | None] = {}
        kept: dict[tuple[Kind, int], _Kept] = {}
        kinds: dict[Kind, _KindVerdicts] = {}
        for kind in Kind:
            objects = snapshot.objects(kind)
            last = self._kinds.get(kind)
            if same_world and last is not None and _same_objects(last.objects, objects):
                kinds[kind] = last.again(snapshot, blocked)
            else:
                kinds[kind] = self._judge(kind, objects, snapshot, blocked)
            found.update(kinds[kind].found)
            kept.update(kinds[kind].kept)
        self._kept, self._kinds = kept, kinds
        return found

    def _judge(
        self, kind: Kind, objects: tuple[IpcObject, ...], snapshot: Snapshot,
        blocked: set[tuple[Kind, int]] | None,
    ) -> _KindVerdicts:  # fmt: skip
        """One kind's objects, each kept verdict checked, the others judged."""
        found: dict[tuple[Kind, int], Status | None] = {}
        kept: dict[tuple[Kind, int], _Kept] = {}
        judged_again: list[IpcObject] = []
        for obj in objects:
            key = (kind, obj.id)
            waited = blocked is not None and key in blocked
            known = self._kept.get(key)
            if (
                known is not None and known.obj is obj and known.waited == waited
                and _same_facts(snapshot, known)
            ):  # fmt: skip
                found[key], kept[key] = None, known
                continue
            judged_again.append(obj)
            verdict = judge(obj, snapshot, blocked=blocked)
            found[key] = verdict.status
            if verdict.busy is not None or verdict.users_gone is False:
                pids = tuple(u.pid for u in verdict.users)
                kept[key] = _Kept(obj, waited, pids, _facts(snapshot, pids))
        rest = tuple(o for o in judged_again if (kind, o.id) not in kept)
        return _KindVerdicts(kind, objects, found, kept, rest)


def _same_objects(last: tuple[IpcObject, ...], now: tuple[IpcObject, ...]) -> bool:
    """The same instances in the same order (the Collector's: nothing new of any)."""
    return len(last) == len(now) and all(map(operator.is_, last, now))


@dataclass(frozen=True, slots=True, eq=False)
class _KindVerdicts:
    """One kind's statuses in a reading: the verdicts kept, and the objects judged each time
    (those with a status, or whose users are unknown)."""

    kind: Kind
    objects: tuple[IpcObject, ...]
    found: dict[tuple[Kind, int], Status | None]
    kept: dict[tuple[Kind, int], _Kept]
    rest: tuple[IpcObject, ...]

    def again(self, snapshot: Snapshot, blocked: set[tuple[Kind, int]] | None) -> _KindVerdicts:
        """The same objects and the same world: the kept verdicts hold, the rest are judged
        again (an orphan's grace period runs on the snapshot's clock)."""
        if not self.rest:
            return self
        found = dict(self.found)
        for obj in self.rest:
            found[(self.kind, obj.id)] = judge(obj, snapshot, blocked=blocked).status
        return _KindVerdicts(self.kind, self.objects, found, self.kept, self.rest)


@dataclass(frozen=True, slots=True, eq=False)
class _Kept:
    """An object without status, and what its verdict rested on."""

    obj: IpcObject
    waited: bool
    pids: tuple[int, ...]  # the users its verdict named
    facts: tuple[tuple[Process | None, str | None], ...]


def _facts(
    snapshot: Snapshot, pids: tuple[int, ...]
) -> tuple[tuple[Process | None, str | None], ...]:
    """What the snapshot knows of each pid: its process, or why it is hidden (None, None: gone)."""
    return tuple((snapshot.processes.get(p), snapshot.hidden.get(p)) for p in pids)


def _same_facts(snapshot: Snapshot, known: _Kept) -> bool:
    """Whether the snapshot knows of known's pids what it knew (known.facts == _facts(...),
    without building the tuple: this runs for every object in use, every reading)."""
    processes, hidden = snapshot.processes, snapshot.hidden
    for pid, (process, why) in zip(known.pids, known.facts, strict=True):
        if processes.get(pid) != process or hidden.get(pid) != why:
            return False
    return True


def judged(
    reading: Reading, max_objects: int = DEFAULT_MAX_OBJECTS, verdicts: Verdicts | None = None
) -> Judged | None:
    """The reading's objects judged (None when the snapshot failed); `verdicts` kept from
    one reading to the next saves judging objects still in use."""
    if reading.snapshot is None:
        return None
    return judged_part(
        reading.snapshot, reading.waits, reading.posix, str(reading.namespace), max_objects,
        verdicts,
    )  # fmt: skip


def judged_part(
    snapshot: Snapshot, waits: WaitReport | None, posix_reading: PosixReading | None,
    namespace: str, max_objects: int = DEFAULT_MAX_OBJECTS, verdicts: Verdicts | None = None,
) -> Judged:  # fmt: skip
    """One namespace's objects judged (judged(), and each other namespace of -A)."""
    scanned = waits is not None and not waits.unsupported
    blocked = (
        {(w.kind, w.object_id) for w in waits.waiters if isinstance(w.kind, Kind)}  # System V
        if waits and scanned
        else None
    )
    verdicts = verdicts or Verdicts()
    statuses = verdicts.statuses(snapshot, blocked)
    counts = waits.counts() if waits is not None else {}
    rows: list[Row | PosixRow] = []
    omitted: dict[str, int] = {}
    for kind in Kind:
        queue = kind is Kind.MSG and scanned
        waiting = {k: n for k, n in counts.items() if k[0] is kind} if queue else None
        kind_rows, omitted[kind] = verdicts.kind_rows(
            kind, (waiting, max_objects, namespace),
            functools.partial(_kind_rows, snapshot, kind, statuses, waiting, namespace,
                              max_objects),
        )  # fmt: skip
        rows += kind_rows
    posix = None
    if posix_reading is not None:
        posix = verdicts.posix_judged(posix_reading, waits, namespace, max_objects)
        rows += posix.rows
        omitted.update(posix.omitted)
    return Judged(snapshot, waits, namespace, statuses, tuple(rows), omitted, posix)


def _kind_rows(
    snapshot: Snapshot, kind: Kind, statuses: dict[tuple[Kind, int], Status | None],
    waiting: dict[tuple[WaitKind, int], int] | None, namespace: str, max_objects: int,
) -> tuple[list[Row], int]:  # fmt: skip
    """The rows of kind's picked objects (waiting: queue waiters, None without a scan), and
    how many objects were left out."""
    everything = snapshot.objects(kind)
    orphans = {o.id for o in everything if statuses[kind, o.id] is Status.ORPHAN}
    picked = chosen(everything, orphans, max_objects)
    rows = [
        Row(kind, o, statuses[kind, o.id],
            None if waiting is None else waiting.get((kind, o.id), 0), namespace)
        for o in picked
    ]  # fmt: skip
    return rows, len(everything) - len(picked)


def snapshot_families(reading: Reading, max_objects: int = DEFAULT_MAX_OBJECTS) -> list[Metric]:
    """Everything a good snapshot says (none when it failed)."""
    found = judged(reading, max_objects)
    return [] if found is None else [*summary_families(found), *object_families(found.rows)]


def summary_families(found: Judged) -> list[Metric]:
    """The families of counts, not objects: usage, limits, orphans, waits, omitted."""
    return [
        *_usage(found.snapshot, found.namespace, found.posix),
        _omitted(found),
        *_orphans(found.statuses, found.namespace, found.posix),
        *_waits(found.waits, found.namespace),
        *(posix_summary_families(found.posix, found.namespace) if found.posix else []),
    ]


def _usage(snapshot: Snapshot, namespace: str, posix: PosixJudged | None) -> Iterable[Metric]:
    objects = GaugeMetricFamily(
        "shmtop_objects",
        "IPC objects shmtop sees, by kind (System V; POSIX pshm, psem, pmq).",
        labels=["kind", "namespace"],
    )
    for kind in Kind:
        objects.add_metric([kind.value, namespace], len(snapshot.objects(kind)))
    sizes = GaugeMetricFamily(
        "shmtop_memory",
        "Bytes the objects of a kind hold: segments' sizes, queued messages, POSIX objects'"
        " allocated bytes.",
        labels=["kind", "namespace"],
        unit="bytes",
    )
    sizes.add_metric(["shm", namespace], sum(s.size for s in snapshot.segments))
    sizes.add_metric(["msg", namespace], sum(q.cbytes for q in snapshot.queues))
    if posix is not None:
        for posix_kind in POSIX_KINDS:
            objects.add_metric([posix_kind, namespace], posix.counts[posix_kind])
            sizes.add_metric([posix_kind, namespace], posix.held[posix_kind])
    resident = GaugeMetricFamily(
        "shmtop_shm_resident",
        "Resident and swapped bytes of all segments (the kernel's SHM_INFO).",
        labels=["state", "namespace"],
        unit="bytes",
    )
    limits = snapshot.limits
    resident.add_metric(["resident", namespace], limits.shm_rss_pages * limits.page_size)
    resident.add_metric(["swapped", namespace], limits.shm_swap_pages * limits.page_size)
    used = GaugeMetricFamily(
        "shmtop_resource_used",
        "Use of a kernel IPC resource: "
        "shm_segments, shm_pages, sem_sets, sem_semaphores, msg_queues; pmq_queues,"
        " dev_shm_bytes, dev_shm_inodes.",
        labels=["resource", "namespace"],
    )
    limit = GaugeMetricFamily(
        "shmtop_resource_limit",
        "The kernel's limit on a resource "
        "(SHMMNI, SHMALL, SEMMNI, SEMMNS, MSGMNI; fs.mqueue.queues_max, the size and inodes"
        " of the /dev/shm filesystem); absent when unlimited.",
        labels=["resource", "namespace"],
    )
    ratio = GaugeMetricFamily(
        "shmtop_resource_usage",
        "Use of a resource over its limit (0 to 1); absent when unlimited.",
        labels=["resource", "namespace"],
        unit="ratio",
    )
    rows = list(limit_rows(limits))
    if posix is not None:
        rows += posix_limit_rows(posix.reading.limits)
    for resource, count, cap in rows:
        used.add_metric([resource, namespace], count)
        if cap is not None and cap > 0:
            limit.add_metric([resource, namespace], cap)
            ratio.add_metric([resource, namespace], count / cap)
    return objects, sizes, resident, used, limit, ratio


def chosen(objects: Sequence[IpcObject], orphans: set[int], max_objects: int) -> list[IpcObject]:
    """The objects of one kind that get series: orphans first, then the largest (segment
    size, queued bytes, semaphores in a set), ties by id; at most max_objects."""

    def size(obj: IpcObject) -> int:
        if isinstance(obj, Segment):
            return obj.size
        return obj.nsems if isinstance(obj, SemaphoreSet) else obj.cbytes

    if len(objects) <= max_objects:
        return list(objects)
    return sorted(objects, key=lambda o: (o.id not in orphans, -size(o), o.id))[:max_objects]


def object_families(rows: Sequence[Row | PosixRow]) -> list[Metric]:
    """The per-object families (always the same ones, in the same order) with rows' samples:
    System V, then POSIX (posix_families.py)."""
    posix_rows = [row for row in rows if isinstance(row, PosixRow)]
    families = [
        GaugeMetricFamily(spec.name, spec.help, labels=OBJECT_LABELS, unit=spec.unit)
        for spec in PER_OBJECT
    ]
    queue_waiters = GaugeMetricFamily(
        "shmtop_queue_waiters",
        "Threads blocked sending to or receiving from a queue (the waiter scan).",
        labels=OBJECT_LABELS,
    )
    status = GaugeMetricFamily(
        "shmtop_object_status",
        "1 for an object the orphan rule names: orphan, unattached (a keyed segment) or"
        " unused (a keyed set or queue).",
        labels=[*OBJECT_LABELS, "status"],
    )
    for row in rows:
        if isinstance(row, PosixRow):
            continue
        obj = row.obj
        labels = [row.kind.value, str(obj.id), hex_key(obj.owner.key),
                  safe_text(obj.owner.user), row.namespace]  # fmt: skip
        for spec, family in zip(PER_OBJECT, families, strict=True):
            if spec.kind is row.kind and (value := spec.value(obj)) is not None:
                family.add_metric(labels, value)
        if row.waiters is not None:
            queue_waiters.add_metric(labels, row.waiters)
        if row.status is not None:
            status.add_metric([*labels, row.status.value], 1)
    return [*families, queue_waiters, status, *posix_object_families(posix_rows)]


def _omitted(found: Judged) -> Metric:
    omitted = GaugeMetricFamily(
        "shmtop_objects_omitted",
        "Objects left out of the per-object series by --max-objects.",
        labels=["kind", "namespace"],
    )
    for kind, count in found.omitted.items():
        omitted.add_metric([kind, found.namespace], count)
    return omitted


def _orphans(
    statuses: dict[tuple[Kind, int], Status | None], namespace: str, posix: PosixJudged | None
) -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "shmtop_orphans",
        "Orphans by the rule (README: Orphans): System V private, unused, their users shown"
        " gone, untouched 60 s; POSIX (pshm, psem) a /dev/shm name nobody maps or holds, its"
        " owner's processes gone, untouched 60 s.",
        labels=["kind", "namespace"],
    )
    found = Counter(kind for (kind, _), status in statuses.items() if status is Status.ORPHAN)
    for kind in Kind:
        family.add_metric([kind.value, namespace], found[kind])
    if posix is not None:
        posix_found = posix_orphans(posix)
        for posix_kind in JUDGED_KINDS:
            family.add_metric([posix_kind, namespace], posix_found[posix_kind])
    return [family]


def _waits(waits: WaitReport | None, namespace: str) -> Iterable[Metric]:
    complete = GaugeMetricFamily(
        "shmtop_waiter_scan_complete",
        "1 if the waiter scan saw every process (a wait not counted does not exist), else 0.",
        labels=["namespace"],
    )
    complete.add_metric([namespace], 1 if waits is not None and waits.complete else 0)
    if waits is None or waits.unsupported:
        return [complete]
    waiters = GaugeMetricFamily(
        "shmtop_waiters",
        "Threads blocked in semop/semtimedop (sem), msgsnd or msgrcv (msg), mq_timedsend or"
        " mq_timedreceive (pmq), or futex on a word in shared memory (shm, pshm, psem, anon).",
        labels=["kind", "namespace"],
    )
    by_kind = Counter(w.kind for w in waits.waiters)
    for kind in WAIT_KINDS:
        waiters.add_metric([kind.value, namespace], by_kind[kind])
    outcomes = GaugeMetricFamily(
        "shmtop_waits",
        "Blocked threads by verdict: waiting (a runner can release it), stuck, deadlock, unknown.",
        labels=["outcome", "namespace"],
    )
    by_outcome = Counter(v.outcome for v in waits.verdicts)
    for outcome in Outcome:
        outcomes.add_metric([outcome.value, namespace], by_outcome[outcome])
    stuck = GaugeMetricFamily(
        "shmtop_stuck_waits",
        "Waits nobody can release (their object unchanged for the stuck-after time).",
        labels=["namespace"],
    )
    stuck.add_metric([namespace], len(waits.stuck))
    deadlocks = GaugeMetricFamily(
        "shmtop_deadlocks",
        "Deadlocks: groups of blocked processes only their own members could release.",
        labels=["namespace"],
    )
    deadlocks.add_metric([namespace], len(waits.cycles))
    return [complete, waiters, outcomes, stuck, deadlocks]
