"""A bounded history of each object's moving figures, fed one snapshot at a time.

Queue depth (messages, bytes), a segment's attachments and RSS, each semaphore's
value: what the detail pane graphs over the last minutes. Headless (no Textual).

Memory is bounded per object and in total: a figure is stored only when it
changes (a steady object keeps one point), points older than the window go
(the last one before it stays: the value the window starts with), an object keeps
at most PER_OBJECT points, and all objects together about TOTAL_POINTS (with many
objects each keeps fewer, never under MIN_PER_OBJECT). Objects that vanish are dropped.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter

from shmtop.core.model import IpcObject, Kind, MessageQueue, Segment, SemaphoreSet, Snapshot

WINDOW = 300.0  # seconds of history kept
PER_OBJECT = 512  # points an object keeps at most
# Points of all objects together: ~250 bytes a point with its deque and tuples (a set of 16's
# more, a queue's less), ~12 MiB when all are held (bench/bench_history.py measures it).
TOTAL_POINTS = 50_000
MIN_PER_OBJECT = 4
KINDS = (Kind.SHM, Kind.SEM, Kind.MSG)

Figures = tuple[int, ...]
Key = tuple[Kind, int]


def figures_of(obj: IpcObject) -> Figures:
    """The values of an object's moving figures (names_of names them)."""
    if isinstance(obj, MessageQueue):
        return (obj.qnum, obj.cbytes)
    if isinstance(obj, Segment):
        return (obj.nattch,) if obj.rss is None else (obj.nattch, obj.rss)
    if isinstance(obj, SemaphoreSet):
        return () if obj.semaphores is None else tuple(map(_VALUE, obj.semaphores))
    raise TypeError(obj)


def names_of(obj: IpcObject) -> tuple[str, ...]:
    """What each of figures_of's values is: 'messages', 'rss', 'sem 3'..."""
    if isinstance(obj, MessageQueue):
        return ("messages", "bytes")
    if isinstance(obj, Segment):
        return ("attached",) if obj.rss is None else ("attached", "rss")
    if isinstance(obj, SemaphoreSet):
        return () if obj.semaphores is None else tuple(f"sem {s.num}" for s in obj.semaphores)
    raise TypeError(obj)


_VALUE = attrgetter("value")


@dataclass(slots=True)
class Series:
    """One object's figures over time: (taken_at, figures) at each change."""

    names: tuple[str, ...]
    first_seen: float
    points: deque[tuple[float, Figures]] = field(default_factory=deque)
    last: object = None  # the object last recorded (a snapshot reuses unchanged ones)

    def values(self, index: int) -> list[tuple[float, int]]:
        """(time, value) of one figure at each point."""
        return [(when, figures[index]) for when, figures in self.points]


class HistoryStore:
    """Every object's Series, by (kind, id)."""

    def __init__(
        self,
        *,
        window: float = WINDOW,
        per_object: int = PER_OBJECT,
        total: int = TOTAL_POINTS,
    ) -> None:
        self.window = window
        self.per_object = per_object
        self.total = total
        self._series: dict[Kind, dict[int, Series]] = {}
        self._shown: dict[Kind, tuple[IpcObject, ...]] = {}  # the tuples last recorded
        self._cap = per_object

    def record(self, snapshot: Snapshot) -> None:
        """Add a snapshot's figures; drop the objects it no longer has."""
        now = snapshot.taken_at
        for kind in KINDS:
            objects = snapshot.objects(kind)
            if objects is self._shown.get(kind):
                continue  # the collector reused the whole tuple: nothing of this kind moved
            self._shown[kind] = objects
            series = self._series.setdefault(kind, {})
            for obj in objects:
                self._add(series, obj, now)
            for ident in series.keys() - {o.id for o in objects}:
                del series[ident]  # vanished (another may have come in its place)
        self._set_cap()

    def _add(self, by_id: dict[int, Series], obj: IpcObject, now: float) -> None:
        series = by_id.get(obj.id)
        if series is not None and series.last is obj:
            return  # the collector reused it: nothing of it changed
        figures = figures_of(obj)
        if series is None or len(series.names) != len(figures):
            series = by_id[obj.id] = Series(names_of(obj), now)
        series.last = obj
        points = series.points
        if points and points[-1][1] == figures:
            return
        points.append((now, figures))
        self._trim(points, now)

    def _trim(self, points: deque[tuple[float, Figures]], now: float) -> None:
        start = now - self.window
        while len(points) > 1 and points[1][0] <= start:
            points.popleft()  # the one left before the window gives its first value
        while len(points) > self._cap:
            points.popleft()

    def _set_cap(self) -> None:
        """Fewer points each when many objects share the total."""
        cap = max(MIN_PER_OBJECT, min(self.per_object, self.total // max(len(self), 1)))
        shrunk, self._cap = cap < self._cap, cap
        if shrunk:
            for by_id in self._series.values():
                for series in by_id.values():
                    while len(series.points) > cap:
                        series.points.popleft()

    def series(self, kind: Kind, ident: int) -> Series | None:
        return self._series.get(kind, {}).get(ident)

    def __len__(self) -> int:
        return sum(map(len, self._series.values()))

    def __iter__(self) -> Iterator[Key]:
        return ((kind, ident) for kind, by_id in self._series.items() for ident in by_id)

    def points(self) -> int:
        """Points held by all objects."""
        return sum(len(s.points) for by_id in self._series.values() for s in by_id.values())


def resample(
    points: list[tuple[float, int]], start: float, end: float, cells: int
) -> list[int | None]:
    """The highest value in effect during each of `cells` equal spans of [start, end]
    (None before the first point): a step function sampled so that spikes show."""
    if cells <= 0 or not points:
        return []
    span = max(end - start, 1e-9) / cells
    out: list[int | None] = []
    at, current = 0, None
    for cell in range(cells):
        low, high = start + cell * span, start + (cell + 1) * span
        if cell == cells - 1:
            high = math.nextafter(end, math.inf)  # the last span holds a point taken at end
        while at < len(points) and points[at][0] <= low:
            current = points[at][1]
            at += 1
        peak = current
        probe = at
        while probe < len(points) and points[probe][0] < high:
            value = points[probe][1]
            peak = value if peak is None else max(peak, value)
            probe += 1
        out.append(peak)
    return out
