"""Writes a recording: a META frame, then a frame a snapshot (whole every so often)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

from shmtop.core.model import Snapshot
from shmtop.core.recording import codec
from shmtop.core.recording.changes import change_between
from shmtop.core.recording.frames import MAGIC, FrameType, encode_frame
from shmtop.core.recording.posix_changes import PosixRecord
from shmtop.core.recording.posix_changes import change_between as posix_change

# A whole snapshot every 60 frames (a minute at 1 s): a seek decodes one and applies at most
# 59 changes; the large workload's whole snapshot is ~100x one minute of its changes.
KEYFRAME_EVERY = 60


class RecordingWriter:
    """Appends snapshots to a new file; each frame reaches the kernel in one write, so the file
    is whole up to its last write whenever the process stops."""

    def __init__(
        self, path: Path, *, interval: float, keyframe_every: int = KEYFRAME_EVERY,
        posix: bool = False,
    ) -> None:  # fmt: skip
        """posix: add() is given each snapshot's POSIX half (Meta.posix says so)."""
        # O_EXCL: a recording never overwrites anything.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self.path = path
        self.keyframe_every = max(1, keyframe_every)
        self.frames = 0  # snapshot frames written
        self.bytes = 0
        # Each namespace's stream: its last snapshot, and its frames so far.
        self._last: dict[int, Snapshot] = {}
        self._count: dict[int, int] = {}
        self._posix: dict[int, PosixRecord] = {}  # each namespace's last POSIX half
        self.posix_frames = 0
        meta = codec.meta_now(time.time(), interval, self.keyframe_every, posix)
        self._write(MAGIC + encode_frame(FrameType.META, meta.started, codec.ENCODER.encode(meta)))

    def add(self, snapshot: Snapshot, posix: PosixRecord | None = None) -> None:
        """One snapshot: whole at every keyframe_every-th of its namespace, else what changed
        since that namespace's last. posix: its POSIX half, written just before it in the
        same write (whole with a whole snapshot; else what changed, nothing if nothing did)."""
        namespace = snapshot.ipc_namespace
        last, count = self._last.get(namespace), self._count.get(namespace, 0)
        whole = last is None or count % self.keyframe_every == 0
        if last is None or whole:
            kind, body = FrameType.KEY, codec.ENCODER.encode(snapshot)
        else:
            kind, body = FrameType.CHANGE, codec.ENCODER.encode(change_between(last, snapshot))
        frame = encode_frame(kind, snapshot.taken_at, body, namespace)
        if posix is not None:
            frame = self._posix_frame(namespace, snapshot.taken_at, posix, whole) + frame
        self._write(frame)
        self._last[namespace] = snapshot
        self._count[namespace] = count + 1
        self.frames += 1

    def _posix_frame(
        self, namespace: int, taken_at: float, posix: PosixRecord, whole: bool
    ) -> bytes:
        last = self._posix.get(namespace)
        self._posix[namespace] = posix
        change = None if whole or last is None else posix_change(last, posix)
        if change is None:
            kind, body = FrameType.POSIX_KEY, codec.ENCODER.encode(posix)
        elif change.empty:
            return b""
        else:
            kind, body = FrameType.POSIX_CHANGE, codec.ENCODER.encode(change)
        self.posix_frames += 1
        return encode_frame(kind, taken_at, body, namespace)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # a regular file takes it at once; a short write only on a full disk
            view = view[os.write(self._fd, view) :]
        self.bytes += len(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
