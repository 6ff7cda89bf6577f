"""The bounded per-object history store and its rendering (headless)."""

from __future__ import annotations

import msgspec
from fake_source import TAKEN_AT, fixed_snapshot

from shmtop.core.history import HistoryStore, figures_of, names_of, resample
from shmtop.core.model import Kind, MessageQueue, Snapshot
from shmtop.text.history_lines import history_lines
from shmtop.text.sparkline import SPARK_BLOCKS

QUEUE = 98304


def with_queue(base: Snapshot, at: float, qnum: int, *, keep: bool = True) -> Snapshot:
    """base at time `at`, its first queue holding qnum messages (or gone: keep=False)."""
    first, *rest = base.queues
    queues = (msgspec.structs.replace(first, qnum=qnum, cbytes=qnum * 10), *rest) if keep else (
        tuple(rest))  # fmt: skip
    return msgspec.structs.replace(base, taken_at=at, queues=queues)


def test_figures_of_each_kind() -> None:
    snapshot = fixed_snapshot()
    queue, first_set, unreadable = snapshot.queues[0], *snapshot.semaphore_sets[::2]
    assert (names_of(queue), figures_of(queue)) == (("messages", "bytes"), (3, 120))
    assert names_of(first_set) == ("sem 0", "sem 1", "sem 2")
    assert figures_of(first_set) == (1, 14, 0)
    assert names_of(unreadable) == () and figures_of(unreadable) == ()  # nothing to graph
    segment = snapshot.segments[0]
    assert names_of(segment) == ("attached", "rss")
    assert figures_of(segment) == (segment.nattch, segment.rss)


def test_a_point_only_when_a_figure_changes() -> None:
    store, base = HistoryStore(), fixed_snapshot()
    for step, depth in enumerate((3, 3, 5, 5, 5, 2)):
        store.record(with_queue(base, TAKEN_AT + step, depth))
    series = store.series(Kind.MSG, QUEUE)
    assert series is not None
    assert series.values(0) == [(TAKEN_AT, 3), (TAKEN_AT + 2, 5), (TAKEN_AT + 5, 2)]
    assert series.values(1) == [(TAKEN_AT, 30), (TAKEN_AT + 2, 50), (TAKEN_AT + 5, 20)]


def test_reused_objects_are_not_looked_at_again() -> None:
    store, base = HistoryStore(), fixed_snapshot()
    store.record(base)
    store.record(msgspec.structs.replace(base, taken_at=TAKEN_AT + 1))  # the same objects
    assert store.points() == len(store)  # one point each: nothing moved


def test_vanished_objects_are_dropped() -> None:
    store, base = HistoryStore(), fixed_snapshot()
    store.record(with_queue(base, TAKEN_AT, 1))
    assert store.series(Kind.MSG, QUEUE) is not None
    store.record(with_queue(base, TAKEN_AT + 1, 1, keep=False))
    assert store.series(Kind.MSG, QUEUE) is None
    assert (Kind.MSG, QUEUE) not in set(store)


def test_an_object_gone_as_another_comes_is_dropped() -> None:
    store, base = HistoryStore(), fixed_snapshot()
    store.record(base)
    newcomer = msgspec.structs.replace(base.queues[0], id=QUEUE + 7)
    store.record(msgspec.structs.replace(base, queues=(newcomer, base.queues[1])))
    assert store.series(Kind.MSG, QUEUE) is None
    assert store.series(Kind.MSG, QUEUE + 7) is not None


def test_points_older_than_the_window_go_but_the_one_before_it_stays() -> None:
    store, base = HistoryStore(window=10.0), fixed_snapshot()
    for step in range(30):
        store.record(with_queue(base, TAKEN_AT + step, step))
    series = store.series(Kind.MSG, QUEUE)
    assert series is not None
    times = [when for when, _ in series.values(0)]
    assert times[0] <= TAKEN_AT + 29 - 10 < times[1]  # the value the window starts with
    assert len(times) == 11


def test_memory_is_bounded_per_object() -> None:
    store, base = HistoryStore(per_object=8), fixed_snapshot()
    for step in range(100):
        store.record(with_queue(base, TAKEN_AT + step * 0.01, step))
    series = store.series(Kind.MSG, QUEUE)
    assert series is not None and len(series.points) == 8
    assert series.values(0)[-1] == (TAKEN_AT + 0.99, 99)  # the newest are kept


def test_memory_is_bounded_in_total() -> None:
    base = fixed_snapshot()
    objects = len(base.segments) + len(base.semaphore_sets) + len(base.queues)
    store = HistoryStore(per_object=100, total=objects * 5)
    for step in range(200):
        store.record(with_queue(base, TAKEN_AT + step * 0.01, step))
    assert store.points() <= objects * 5
    series = store.series(Kind.MSG, QUEUE)
    assert series is not None and len(series.points) == 5


def test_resample_takes_the_highest_value_of_each_span() -> None:
    points = [(0.0, 1), (2.5, 7), (2.6, 2), (9.0, 4)]
    # spans of 2 s: [0,2) 1; [2,4) 1 then 7 then 2; [4,6) 2; [6,8) 2; [8,10] 2 then 4
    assert resample(points, 0.0, 10.0, 5) == [1, 7, 2, 2, 4]
    assert resample(points, -4.0, 0.0, 2) == [None, 1]  # nothing before the first point
    assert resample([], 0.0, 1.0, 3) == []


def test_history_lines_show_the_range_and_the_movement() -> None:
    store, base = HistoryStore(), fixed_snapshot()
    for step, depth in enumerate((0, 4, 8, 2)):
        store.record(with_queue(base, TAKEN_AT + step * 10, depth))
    lines = history_lines(store.series(Kind.MSG, QUEUE), TAKEN_AT + 30, 6, store.window)
    assert lines[0].startswith("history (last 30s")
    messages = next(line for line in lines if line.lstrip().startswith("messages"))
    assert messages.endswith("0..8, now 2")
    spark = messages.split()[1]
    assert len(spark) == 6 and set(spark) <= set(SPARK_BLOCKS) and len(set(spark)) >= 3
    assert "0B..80B, now 20B" in next(line for line in lines if "bytes" in line)


def test_no_history_lines_for_what_has_no_figures() -> None:
    store, snapshot = HistoryStore(), fixed_snapshot()
    store.record(snapshot)
    unreadable = snapshot.semaphore_sets[2].id
    assert history_lines(store.series(Kind.SEM, unreadable), TAKEN_AT, 10, 300.0) == []
    assert history_lines(None, TAKEN_AT, 10, 300.0) == []
    steady = history_lines(store.series(Kind.MSG, QUEUE), TAKEN_AT, 10, 300.0)
    assert steady[1].endswith("steady, now 3")


def test_queue_struct_is_what_the_store_reads() -> None:
    # the store graphs the kernel's qnum and cbytes: the fields a queue has
    assert {"qnum", "cbytes"} <= set(MessageQueue.__struct_fields__)
