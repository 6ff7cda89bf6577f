"""A recording read back shares what did not change between snapshots, as the Collector does.

The view compares by identity first (a kind's tuple, then each object), so a step that shares
the untouched kinds and objects redraws only what changed; these tests hold the reader to it,
and to giving the very snapshot a fresh open of the same frame gives (by value).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import MakeMsg, MakeSem, MakeShm, libc_semop

from shmtop.core.model import Kind, Snapshot
from shmtop.core.recording.reader import Recording
from shmtop.core.recording.writer import RecordingWriter
from shmtop.core.snapshot.collect import Collector


@pytest.fixture
def taken(make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg) -> Iterator[list[Snapshot]]:
    """Five snapshots: still; one set changed; still; a segment made; still."""
    collector = Collector()
    try:
        make_shm(4096)
        semid, _ = make_sem(2), make_sem(2)
        make_msg()
        snapshots = [collector.snapshot()]
        libc_semop(semid, 1, 2)
        snapshots.append(collector.snapshot())
        snapshots.append(collector.snapshot())
        make_shm(8192)
        snapshots.append(collector.snapshot())
        snapshots.append(collector.snapshot())
        yield snapshots
    finally:
        collector.close()


def write(path: Path, snapshots: list[Snapshot], keyframe_every: int) -> None:
    with RecordingWriter(path, interval=1.0, keyframe_every=keyframe_every) as writer:
        for snapshot in snapshots:
            writer.add(snapshot)


def shared_kinds(before: Snapshot, after: Snapshot) -> set[Kind]:
    return {kind for kind in Kind if before.objects(kind) is after.objects(kind)}


def test_a_step_shares_every_kind_and_object_it_did_not_change(
    tmp_path: Path, taken: list[Snapshot]
) -> None:
    path = tmp_path / "shared.rec"
    write(path, taken, keyframe_every=60)
    recording = Recording.open(path)
    shown = [recording.snapshot(i) for i in range(len(taken))]
    assert shown == taken
    assert shared_kinds(shown[0], shown[1]) == {Kind.SHM, Kind.MSG}  # a set changed
    assert shared_kinds(shown[1], shown[2]) == set(Kind)  # nothing did
    assert shared_kinds(shown[2], shown[3]) == {Kind.SEM, Kind.MSG}  # a segment came
    assert shown[2].processes is shown[1].processes
    # Within the kind that changed, the objects that did not are the same objects.
    old = {s.id: s for s in shown[0].semaphore_sets}
    same = [s for s in shown[1].semaphore_sets if old[s.id] is s]
    assert len(same) == len(shown[1].semaphore_sets) - 1
    old_segments = {s.id: s for s in shown[2].segments}
    assert all(old_segments.get(s.id, s) is s for s in shown[3].segments)
    # The last one asked again (a view opened, a repeated poll): the same snapshot.
    assert recording.snapshot(4) is shown[4]


def test_going_back_or_across_a_key_frame_adopts_the_objects_shown(
    tmp_path: Path, taken: list[Snapshot]
) -> None:
    path = tmp_path / "keys.rec"
    write(path, taken, keyframe_every=2)  # key frames at 0, 2 and 4
    recording = Recording.open(path)
    third = recording.snapshot(3)
    back = recording.snapshot(2)  # a key frame, decoded anew
    assert back == taken[2]
    assert shared_kinds(third, back) == {Kind.SEM, Kind.MSG}
    earlier = recording.snapshot(1)  # rebuilt from frame 0's key frame: nothing differs
    assert earlier == taken[1] and shared_kinds(back, earlier) == set(Kind)
    first = recording.snapshot(0)
    assert shared_kinds(earlier, first) == {Kind.SHM, Kind.MSG}  # the set's change undone
    assert recording.snapshot(1) == taken[1]
    across = recording.snapshot(2)  # forward onto a key frame
    assert across == taken[2] and shared_kinds(recording.snapshot(1), across) == set(Kind)
    # Each is what a fresh open of that frame reads.
    for index in (1, 2, 3):
        assert Recording.open(path).snapshot(index) == recording.snapshot(index)
