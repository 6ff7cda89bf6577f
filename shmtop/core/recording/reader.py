"""Reads a recording back: the snapshot at any frame or moment, in about one key frame's time."""

from __future__ import annotations

import bisect
import zlib
from collections import OrderedDict
from pathlib import Path

import msgspec

from shmtop.core.model import Snapshot
from shmtop.core.recording import codec
from shmtop.core.recording.changes import State
from shmtop.core.recording.frames import Frame, FrameType, NotARecording, payload, scan_frames
from shmtop.core.recording.posix_changes import PosixRecord, PosixState

SAME_MOMENT = 1e-5  # seconds: a time printed to the microsecond is that frame's
KEYS_KEPT = 4  # decoded key frames kept: stepping back and forth around one stays cheap
NO_POSIX = (
    "the recording holds no POSIX objects (recorded before shmtop stored them, with -A"
    " or with --no-posix)"
)
_POSIX_TYPES = (FrameType.POSIX_KEY, FrameType.POSIX_CHANGE)


class RecordingError(ValueError):
    """Why a file cannot be read as a recording (a sentence for the user)."""


class Recording:
    """A recording's snapshots of one IPC namespace by index (0 = first) and by time. A torn
    end (a recorder stopped mid-write) is left out: `torn` says how many bytes."""

    def __init__(self, data: bytes, path: Path | None = None, namespace: int | None = None) -> None:
        """namespace: the inode of the one to read (None: the first recorded, the recorder's
        own); `namespaces` lists every one the file holds."""
        self.path = path
        self._data = data
        try:
            frames, whole = scan_frames(data)
        except NotARecording as error:
            raise RecordingError(str(error)) from None
        if not frames or frames[0].type is not FrameType.META:
            raise RecordingError("the recording is empty (cut before its first frame)")
        self.meta = codec.META.decode(payload(data, frames[0]))
        if self.meta.format > codec.FORMAT:
            raise RecordingError(
                f"recording format {self.meta.format} is newer than this shmtop reads"
                f" ({codec.FORMAT})"
            )
        snapshots = [f for f in frames[1:] if f.type is not FrameType.META]
        self.namespaces = list(dict.fromkeys(f.namespace for f in snapshots))
        if namespace is not None and namespace not in self.namespaces:
            raise RecordingError(f"the recording holds no snapshot of IPC namespace {namespace}")
        self.namespace = namespace if namespace is not None else next(iter(self.namespaces), 0)
        ours = [f for f in snapshots if f.namespace == self.namespace]
        self.frames: list[Frame] = [f for f in ours if f.type not in _POSIX_TYPES]
        # The POSIX stream (format 2): its frames, and for each System V frame the last
        # POSIX frame at or before it (-1: none). A POSIX frame comes just before the
        # System V frame of its moment; one left after the last whole System V frame (a
        # torn write) belongs to no moment.
        self.posix_frames: list[Frame] = [f for f in ours if f.type in _POSIX_TYPES]
        self.has_posix = bool(self.meta.posix and self.posix_frames)
        self._posix_of: list[int] = []
        seen = -1
        for f in ours:
            if f.type in _POSIX_TYPES:
                seen += 1
            else:
                self._posix_of.append(seen)
        if self.posix_frames and self.posix_frames[0].type is not FrameType.POSIX_KEY:
            self.has_posix = False  # (never written so; damage: read as System V only)
        self._posix_state: tuple[int, PosixState] | None = None
        self._posix_shown: tuple[int, PosixRecord] | None = None
        if self.frames and self.frames[0].type is not FrameType.KEY:
            raise RecordingError("the recording's first snapshot is not whole")
        self.times = [f.taken_at for f in self.frames]
        self.torn = len(data) - whole
        self._keys: OrderedDict[int, Snapshot] = OrderedDict()
        self._state: tuple[int, State] | None = None  # the last frame rebuilt, and its state
        self._shown: tuple[int, Snapshot] | None = None  # the last snapshot handed out

    @classmethod
    def open(cls, path: Path, namespace: int | None = None) -> Recording:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise RecordingError(f"cannot read {path}: {error.strerror or error}") from error
        return cls(data, path, namespace)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def start(self) -> float:
        return self.times[0] if self.times else self.meta.started

    @property
    def end(self) -> float:
        return self.times[-1] if self.times else self.meta.started

    def index_at(self, when: float) -> int:
        """The frame shown at `when`: the last taken at or before it (the first, before it).
        A frame's own time written to the microsecond (as the JSON's taken_at) names it."""
        return max(0, bisect.bisect_right(self.times, when + SAME_MOMENT) - 1)

    def snapshot_at(self, when: float) -> Snapshot:
        return self.snapshot(self.index_at(when))

    def snapshot(self, index: int) -> Snapshot:
        """The snapshot of frame `index` (IndexError outside 0..len-1). Asked again, the same
        one; the next one shares every object (and each kind's tuple) that did not change,
        and so does one rebuilt from its key frame (going back, or jumping) with the one
        before it wherever they are equal: a viewer compares them by identity first."""
        if not 0 <= index < len(self.frames):
            raise IndexError(f"frame {index} of {len(self.frames)}")
        if self._shown is not None and self._shown[0] == index:
            return self._shown[1]
        frame = self.frames[index]
        key = self._key_before(index)
        last = self._state
        if last is not None and key <= last[0] <= index:
            (start, state), rebuilt = last, False  # forward from the last one rebuilt
        else:
            start, state, rebuilt = key, State(self._key(key)), True
        try:
            for at in range(start + 1, index + 1):
                state.apply(codec.CHANGE.decode(payload(self._data, self.frames[at])))
        except (msgspec.DecodeError, zlib.error) as error:
            self._state = None
            raise RecordingError(f"snapshot {index + 1} cannot be read: {error}") from error
        if rebuilt and self._shown is not None:
            state.adopt(self._shown[1])
        self._state = (index, state)
        snapshot = state.snapshot(frame.taken_at)
        self._shown = (index, snapshot)
        return snapshot

    def posix(self, index: int) -> PosixRecord | None:
        """The POSIX half of frame `index` (its scans' taken_at the frame's), or None where
        the recording holds none (has_posix False, or none recorded yet by then)."""
        if not 0 <= index < len(self.frames):
            raise IndexError(f"frame {index} of {len(self.frames)}")
        if self._posix_shown is not None and self._posix_shown[0] == index:
            return self._posix_shown[1]
        at = self._posix_of[index] if self.has_posix else -1
        if at < 0:
            return None
        key = at
        while self.posix_frames[key].type is not FrameType.POSIX_KEY:
            key -= 1
        last = self._posix_state
        try:
            if last is not None and key <= last[0] <= at:
                start, state = last
            else:
                body = payload(self._data, self.posix_frames[key])
                start, state = key, PosixState(codec.POSIX_RECORD.decode(body))
            for n in range(start + 1, at + 1):
                body = payload(self._data, self.posix_frames[n])
                state.apply(codec.POSIX_CHANGE.decode(body))
        except (msgspec.DecodeError, zlib.error) as error:
            self._posix_state = None
            raise RecordingError(f"snapshot {index + 1}'s POSIX part cannot be read: {error}"
                                 ) from error  # fmt: skip
        self._posix_state = (at, state)
        record = _at_moment(state.record(self.posix_frames[at].taken_at), self.times[index])
        self._posix_shown = (index, record)
        return record

    def _key_before(self, index: int) -> int:
        while self.frames[index].type is not FrameType.KEY:
            index -= 1
        return index

    def _key(self, index: int) -> Snapshot:
        found = self._keys.get(index)
        if found is None:
            try:
                found = codec.SNAPSHOT.decode(payload(self._data, self.frames[index]))
            except (msgspec.DecodeError, zlib.error) as error:
                raise RecordingError(f"snapshot {index + 1} cannot be read: {error}") from error
            self._keys[index] = found
            if len(self._keys) > KEYS_KEPT:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(index)
        return found


def _at_moment(record: PosixRecord, taken_at: float) -> PosixRecord:
    """The record as of a System V frame's moment (no POSIX frame is written when nothing
    changed: the scans' time is then the moment's, as live)."""
    shm, queues = record.shm, record.queues
    if shm is not None and shm.taken_at != taken_at:
        shm = msgspec.structs.replace(shm, taken_at=taken_at)
    if queues is not None and queues.taken_at != taken_at:
        queues = msgspec.structs.replace(queues, taken_at=taken_at)
    if shm is record.shm and queues is record.queues:
        return record
    return PosixRecord(shm, queues, record.problem)
