"""change_between by position (the same ids in order, a few objects rebuilt) gives the Change
the table walk gave: a reader holding the old snapshot rebuilds the new one."""

from __future__ import annotations

import msgspec
from fake_source import fixed_snapshot

from shmtop.core.model import Kind, Snapshot
from shmtop.core.recording import codec
from shmtop.core.recording.changes import State, change_between


def rebuilt(old: Snapshot, new: Snapshot) -> Snapshot:
    change = codec.CHANGE.decode(codec.ENCODER.encode(change_between(old, new)))
    state = State(old)
    state.apply(change)
    return state.snapshot(new.taken_at)


def test_a_rebuilt_segment_in_place_is_the_only_one_written() -> None:
    old = fixed_snapshot()
    grown = msgspec.structs.replace(old.segments[1], rss=(old.segments[1].rss or 0) + 4096)
    segments = (old.segments[0], grown, *old.segments[2:])
    new = msgspec.structs.replace(old, segments=segments, taken_at=old.taken_at + 1)
    change = change_between(old, new)
    assert change.segments == (grown,)
    assert change.gone == {} and change.order == {}
    assert rebuilt(old, new) == new


def test_an_equal_copy_in_place_writes_nothing() -> None:
    old = fixed_snapshot()
    copies = tuple(msgspec.structs.replace(s) for s in old.segments)
    new = msgspec.structs.replace(old, segments=copies)
    assert change_between(old, new).segments == ()


def test_ids_that_moved_place_still_take_the_table_walk() -> None:
    old = fixed_snapshot()
    swapped = (old.segments[1], old.segments[0], *old.segments[2:])  # a slot reused
    new = msgspec.structs.replace(old, segments=swapped)
    change = change_between(old, new)
    assert change.order[str(Kind.SHM)] == tuple(s.id for s in swapped)
    assert rebuilt(old, new).segments == swapped
