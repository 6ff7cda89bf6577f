"""The POSIX half's changes (core/recording/posix_changes.py) on scans built by hand: what a
change holds, what a reader rebuilds from it, and that a steady half writes no frame."""

from __future__ import annotations

from pathlib import Path

import msgspec
from fake_posix import fixed_mq_snapshot, fixed_posix_snapshot
from fake_source import fixed_snapshot

from shmtop.core.recording.posix_changes import PosixRecord, PosixState, change_between
from shmtop.core.recording.reader import Recording
from shmtop.core.recording.writer import RecordingWriter

replace = msgspec.structs.replace


def _record() -> PosixRecord:
    return PosixRecord(fixed_posix_snapshot(), fixed_mq_snapshot())


def test_the_same_half_is_an_empty_change_and_writes_no_frame(tmp_path: Path) -> None:
    record = _record()
    assert change_between(record, record) == change_between(record, _record())
    assert change_between(record, _record()).empty  # type: ignore[union-attr]
    path = tmp_path / "steady.rec"
    with RecordingWriter(path, interval=1.0, posix=True) as writer:
        for n in range(5):
            writer.add(replace(fixed_snapshot(), taken_at=100.0 + n), record)
    recording = Recording.open(path)
    assert len(recording) == 5 and len(recording.posix_frames) == 1  # the key frame alone
    for index in range(5):
        got = recording.posix(index)
        assert got is not None and got.shm is not None and got.queues is not None
        assert got.shm.taken_at == 100.0 + index  # the moment's, as a live scan's
        assert replace(got.shm, taken_at=record.shm.taken_at) == record.shm  # type: ignore[union-attr]


def test_a_queue_read_again_is_no_change_but_a_message_is() -> None:
    record = _record()
    queues = record.queues
    assert queues is not None
    queue = queues.queues[0]
    read = replace(queue, entry=replace(queue.entry, atime=queue.entry.atime + 5,
                                        ctime=queue.entry.ctime + 5))  # fmt: skip
    again = PosixRecord(record.shm, replace(queues, queues=(read, *queues.queues[1:])))
    assert change_between(record, again).empty  # type: ignore[union-attr]
    state = replace(queue.entry.state, messages=(queue.entry.state.messages or 0) + 1)
    sent = replace(queue, entry=replace(queue.entry, state=state))
    moved = PosixRecord(record.shm, replace(queues, queues=(sent, *queues.queues[1:])))
    change = change_between(record, moved)
    assert change is not None and change.queues == (sent,)
    rebuilt = PosixState(record)
    rebuilt.apply(change)
    assert rebuilt.record(0.0).queues.queues[0] == sent  # type: ignore[union-attr]


def test_objects_gone_made_and_reordered_rebuild_the_same() -> None:
    record = _record()
    shm = record.shm
    assert shm is not None and len(shm.objects) >= 2
    first, *rest = shm.objects
    made = replace(first, inode=first.inode + 1000, path=b"/dev/shm/new")
    grown = replace(rest[0], size=rest[0].size + 4096)
    orders = [(made, grown, *rest[1:]), (grown, *rest[1:], made), tuple(rest[1:])]
    for objects in orders:
        new = PosixRecord(replace(shm, objects=objects, scanned=shm.scanned + 1), record.queues)
        change = change_between(record, new)
        assert change is not None and not change.empty
        state = PosixState(record)
        state.apply(change)
        assert state.record(shm.taken_at) == new


def test_a_failed_scan_needs_a_key_frame() -> None:
    record = _record()
    failed = PosixRecord(None, record.queues, "POSIX scan failed: [Errno 13]")
    assert change_between(record, failed) is None
    assert change_between(failed, record) is None
