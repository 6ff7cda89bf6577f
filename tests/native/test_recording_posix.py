"""The POSIX half of a recording on real objects: POSIX shm objects, named semaphores and
queues made, mapped, posted and unlinked, recorded from a FullCollector and read back the
same at the same times; a cut file still opens; a file without the POSIX stream says so."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from pmq_kids import Queues, send
from pshm_kids import NamedSemaphores, children, objects, start

from shmtop.core.posix.full import FullCollector
from shmtop.core.posix.model import SEM_PREFIX, SHM_DIR, PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot
from shmtop.core.recording import codec
from shmtop.core.recording.frames import HEADER_SIZE, MAGIC, FrameType, encode_frame
from shmtop.core.recording.posix_changes import PosixRecord
from shmtop.core.recording.reader import Recording
from shmtop.core.recording.writer import RecordingWriter

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")

Taken = tuple[float, PosixRecord]


@pytest.fixture
def full() -> Iterator[FullCollector]:
    made = FullCollector()
    yield made
    made.close()


@pytest.fixture
def queues() -> Iterator[Queues]:
    made = Queues(f"/shmtop-rec-{os.getpid()}-")
    yield made
    made.cleanup()


def take(full: FullCollector, taken: list[tuple[object, PosixRecord]]) -> None:
    snap = full.snapshot()
    taken.append((snap.sysv, PosixRecord(snap.posix, snap.queues)))


def mine(record: PosixRecord, names: set[str]) -> PosixRecord:
    """The record's objects and queues of this test only (the machine's others move on
    their own), at the System V frame's time, a queue's atime and ctime left out (shmtop's
    own read of the queue's file moves them: not recorded on their own)."""
    shm, queues = record.shm, record.queues
    assert shm is not None and queues is not None
    objects = tuple(o for o in shm.objects if o.name in names)
    kept = tuple(
        msgspec.structs.replace(q, entry=msgspec.structs.replace(q.entry, atime=0.0, ctime=0.0))
        for q in queues.queues if q.name in names
    )  # fmt: skip
    pids = {m.pid for o in objects for m in o.mappings} | {h.pid for o in objects
                                                          for h in o.holders}  # fmt: skip
    shm = msgspec.structs.replace(shm, taken_at=0.0, objects=objects, uids_running=frozenset(),
                                  processes={p: shm.processes[p] for p in sorted(pids)
                                             if p in shm.processes},
                                  uninspected={}, scanned=0)  # fmt: skip
    queue_pids = {h.pid for q in kept for h in q.holders}
    queues = msgspec.structs.replace(queues, taken_at=0.0, queues=kept, uninspected={},
                                     processes={p: queues.processes[p] for p in sorted(queue_pids)
                                                if p in queues.processes},
                                     scanned=0)  # fmt: skip
    return PosixRecord(shm, queues, record.problem)


def test_a_recording_replays_the_same_posix_states_at_the_same_times(
    tmp_path: Path, full: FullCollector, queues: Queues
) -> None:
    taken: list[tuple[object, PosixRecord]] = []
    semaphores = NamedSemaphores()
    sem_name = f"/shmtop-rec-sem-{os.getpid()}"
    with objects() as made, children() as kids:
        take(full, taken)
        name = made.make(size=8192, data=b"recorded")
        take(full, taken)
        start(kids, name, "map-rw")
        take(full, taken)
        sem = semaphores.open(sem_name, 1)
        try:
            queue = queues.make()
            take(full, taken)
            sem.post()
            send(queue, b"one")
            take(full, taken)
            take(full, taken)  # nothing of ours changed
            os.unlink(SHM_DIR + name)  # unlinked while mapped
            os.unlink(f"{SHM_DIR}/{SEM_PREFIX}{sem_name[1:]}")
            take(full, taken)
            kids.pop().stop()
            take(full, taken)
        finally:
            sem.close()
    names = {name, sem_name, queue}
    seen = [mine(record, names) for _, record in taken]
    assert len({len(r.shm.objects) for r in seen if r.shm is not None}) > 1  # it did change
    assert any(q.entry.state.messages == 1 for r in seen if r.queues for q in r.queues.queues)
    path = tmp_path / "posix.rec"
    with RecordingWriter(path, interval=1.0, keyframe_every=3, posix=True) as writer:
        for sysv, record in taken:
            writer.add(sysv, record)  # type: ignore[arg-type]
    recording = Recording.open(path)
    assert recording.has_posix and recording.torn == 0
    assert recording.times == [s.taken_at for s, _ in taken]  # type: ignore[attr-defined]
    kinds = [f.type for f in recording.posix_frames]
    assert FrameType.POSIX_KEY in kinds and FrameType.POSIX_CHANGE in kinds
    for index in [*range(len(taken)), *reversed(range(len(taken)))]:
        got = recording.posix(index)
        assert got is not None
        assert got.shm is not None and got.shm.taken_at == recording.times[index]
        assert mine(got, names) == seen[index], index


def test_a_cut_file_still_opens_with_its_posix_half(tmp_path: Path, full: FullCollector) -> None:
    path = tmp_path / "whole.rec"
    with objects() as made, children() as kids:
        name = made.make()
        with RecordingWriter(path, interval=1.0, keyframe_every=2, posix=True) as writer:
            for step in range(4):
                if step == 3:  # the last write: a POSIX change frame, then the System V one
                    start(kids, name, "map-rw")
                snap = full.snapshot()
                writer.add(snap.sysv, PosixRecord(snap.posix, snap.queues))
    data = path.read_bytes()
    whole = Recording(data)
    wanted = [whole.posix(i) for i in range(len(whole))]
    last = whole.frames[-1]
    posix_last = whole.posix_frames[-1]
    assert posix_last.taken_at == last.taken_at and posix_last.type is FrameType.POSIX_CHANGE
    # Every cut inside the last write (its POSIX frame and its System V frame).
    for cut in range(posix_last.start - HEADER_SIZE, len(data), 3):
        recording = Recording(data[:cut])
        assert len(recording) == len(whole) - 1
        for index in range(len(recording)):
            assert recording.posix(index) == wanted[index]


def test_a_file_without_the_posix_stream_says_so(tmp_path: Path, full: FullCollector) -> None:
    """Format 1 (System V only, as shmtop wrote before): its snapshots, no POSIX part."""
    snap = full.snapshot()
    meta = codec.Meta(1, time.time(), 1.0, "host", 60)
    body = MAGIC + encode_frame(FrameType.META, meta.started, codec.ENCODER.encode(meta))
    body += encode_frame(FrameType.KEY, snap.sysv.taken_at, codec.ENCODER.encode(snap.sysv),
                         snap.sysv.ipc_namespace)  # fmt: skip
    path = tmp_path / "old.rec"
    path.write_bytes(body)
    recording = Recording.open(path)
    assert not recording.has_posix and len(recording) == 1
    assert recording.snapshot(0) == snap.sysv
    assert recording.posix(0) is None


def test_posix_records_round_trip_their_types(full: FullCollector) -> None:
    snap = full.snapshot()
    record = PosixRecord(snap.posix, snap.queues)
    back = codec.POSIX_RECORD.decode(codec.ENCODER.encode(record))
    assert back == record
    assert isinstance(back.shm, PosixSnapshot) and isinstance(back.queues, MqSnapshot)
    assert isinstance(back.shm.uids_running, frozenset)
