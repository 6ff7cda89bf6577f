"""Recordings of real objects: written as they change, read back the same, whatever the cut."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import MakeMsg, MakeSem, MakeShm, Spawn, libc_semop, remove
from ns_helpers import foreign_namespace

from shmtop.core.binding import native
from shmtop.core.model import Snapshot
from shmtop.core.namespaces.discover import census, find
from shmtop.core.namespaces.snapshots import NamespaceCollectors
from shmtop.core.recording.frames import HEADER_SIZE, FrameType
from shmtop.core.recording.reader import Recording, RecordingError
from shmtop.core.recording.recorder import record
from shmtop.core.recording.writer import RecordingWriter
from shmtop.core.snapshot.collect import Collector


@pytest.fixture
def collector() -> Iterator[Collector]:
    made = Collector()
    yield made
    made.close()


def scripted(
    collector: Collector, make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, spawn: Spawn
) -> list[Snapshot]:
    """Objects created, attached, changed, detached and removed, a snapshot after each step."""
    taken = [collector.snapshot()]
    shmid = make_shm(8192)
    taken.append(collector.snapshot())
    child = spawn(name="rec-kid", attach=[(shmid, True)])
    taken.append(collector.snapshot())
    semid = make_sem(4)
    msqid = make_msg()
    taken.append(collector.snapshot())
    libc_semop(semid, 2, 3)
    native.msgsnd(msqid, 1, b"recorded")
    taken.append(collector.snapshot())
    taken.append(collector.snapshot())  # nothing changed: an empty change
    child.stop()
    taken.append(collector.snapshot())
    other = make_shm(4096)
    remove("shm", shmid)
    taken.append(collector.snapshot())
    remove("shm", other)
    taken.append(collector.snapshot())
    return taken


def write(path: Path, snapshots: list[Snapshot], keyframe_every: int = 3) -> None:
    with RecordingWriter(path, interval=1.0, keyframe_every=keyframe_every) as writer:
        for snapshot in snapshots:
            writer.add(snapshot)


def test_a_recording_replays_the_same_states_at_the_same_times(
    tmp_path: Path, collector: Collector, make_shm: MakeShm, make_sem: MakeSem,
    make_msg: MakeMsg, spawn: Spawn,
) -> None:  # fmt: skip
    taken = scripted(collector, make_shm, make_sem, make_msg, spawn)
    assert len({len(s.segments) for s in taken}) > 1  # the script did change things
    assert any(s.attachments for t in taken for s in t.segments)
    path = tmp_path / "scripted.rec"
    write(path, taken)
    recording = Recording.open(path)
    assert recording.torn == 0
    assert recording.times == [s.taken_at for s in taken]
    kinds = [f.type for f in recording.frames]
    assert kinds.count(FrameType.KEY) == 3 and FrameType.CHANGE in kinds
    # In order, backwards, and by time: every frame is the snapshot it recorded.
    for index in [*range(len(taken)), *reversed(range(len(taken)))]:
        assert recording.snapshot(index) == taken[index]
    for snapshot in taken:
        assert recording.snapshot_at(snapshot.taken_at) == snapshot
        assert recording.snapshot_at(snapshot.taken_at + 1e-6) == snapshot  # between frames


def test_a_file_cut_at_every_byte_of_its_last_frame_still_reads(
    tmp_path: Path, collector: Collector, make_shm: MakeShm, make_sem: MakeSem,
    make_msg: MakeMsg, spawn: Spawn,
) -> None:  # fmt: skip
    taken = scripted(collector, make_shm, make_sem, make_msg, spawn)
    path = tmp_path / "whole.rec"
    write(path, taken)
    data = path.read_bytes()
    last = Recording(data).frames[-1]
    begins = last.start - HEADER_SIZE
    for cut in range(begins, len(data)):
        recording = Recording(data[:cut])
        assert len(recording) == len(taken) - 1, cut
        assert recording.torn == cut - begins
        assert recording.snapshot(len(taken) - 2) == taken[-2]
    # A flipped bit in the last frame fails its checksum: left out like a torn one.
    damaged = bytearray(data)
    damaged[-1] ^= 0x40
    assert len(Recording(bytes(damaged))) == len(taken) - 1


def test_a_file_cut_in_the_middle_keeps_every_whole_frame(
    tmp_path: Path, collector: Collector, make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm()
    child = spawn(name="rec-cut", attach=[(shmid, False)])
    taken = [collector.snapshot()]
    child.stop()
    taken += [collector.snapshot(), collector.snapshot()]
    path = tmp_path / "cut.rec"
    write(path, taken, keyframe_every=2)
    data = path.read_bytes()
    ends = [f.start + f.length for f in Recording(data).frames]
    for count, end in enumerate(ends, start=1):
        for cut in (end, end + 1, (end + (ends[count] if count < len(ends) else len(data))) // 2):
            recording = Recording(data[:cut])
            assert len(recording) == count
            assert [recording.snapshot(i) for i in range(count)] == taken[:count]


def test_what_is_not_a_recording_says_so(tmp_path: Path) -> None:
    path = tmp_path / "not.rec"
    path.write_bytes(b"hello\n")
    with pytest.raises(RecordingError, match="not a shmtop recording"):
        Recording.open(path)
    with pytest.raises(RecordingError, match="empty"):
        Recording(b"shmtop recording\n" + b"\x01\x02")
    with pytest.raises(RecordingError, match="cannot read"):
        Recording.open(tmp_path / "missing.rec")


def test_the_recorder_skips_a_failed_snapshot_and_goes_on(
    tmp_path: Path, collector: Collector
) -> None:
    stop, calls = threading.Event(), []
    told: list[OSError] = []

    def take() -> list[Snapshot]:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(5, "a bad second")
        if len(calls) == 4:
            stop.set()
        return [collector.snapshot()]

    path = tmp_path / "loop.rec"
    with RecordingWriter(path, interval=0.01) as writer:
        assert record(writer, take, interval=0.01, stop=stop, on_error=told.append) == 3
    assert [str(e) for e in told] == ["[Errno 5] a bad second"]
    assert len(Recording.open(path)) == 3


def test_a_recording_of_two_namespaces_keeps_a_stream_for_each(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    with foreign_namespace("rec-ns-box", objects=2) as made:
        found = census()
        ours = next(ns for ns in found.namespaces if ns.current)
        theirs = find(found.namespaces, str(made["inode"]))
        assert theirs is not None
        collectors = NamespaceCollectors(only=[ours, theirs], found=found)
        taken: list[list[Snapshot]] = []
        path = tmp_path / "both.rec"
        try:
            with RecordingWriter(path, interval=1.0, keyframe_every=2) as writer:
                for step in range(4):
                    if step == 2:
                        make_shm()  # ours changes; theirs stays as it was
                    views = collectors.snapshot().views
                    round_ = [v.snapshot for v in views if v.snapshot is not None]
                    assert len(round_) == 2
                    for snapshot in round_:
                        writer.add(snapshot)
                    taken.append(round_)
        finally:
            collectors.close()
    mine = Recording.open(path)
    assert mine.namespaces == [ours.inode, theirs.inode] and mine.namespace == ours.inode
    other = Recording.open(path, theirs.inode)
    for index, (our, their) in enumerate(taken):
        assert mine.snapshot(index) == our
        assert other.snapshot(index) == their
    assert [s.id for s in other.snapshot(3).segments] == made["shm"]
    assert len(mine.snapshot(3).segments) == len(mine.snapshot(0).segments) + 1
    with pytest.raises(RecordingError, match="no snapshot of IPC namespace"):
        Recording.open(path, 1)
