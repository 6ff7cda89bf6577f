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

# A whole snapshot every 60 frames (a minute at 1 s): a seek decodes one and applies at most
# 59 changes; the large workload's whole snapshot is ~100x one minute of its changes.
KEYFRAME_EVERY = 60


class RecordingWriter:
    """Appends snapshots to a new file; each frame reaches the kernel in one write, so the file
    is whole up to its last write whenever the process stops."""

    def __init__(
        self, path: Path, *, interval: float, keyframe_every: int = KEYFRAME_EVERY
    ) -> None:
        # O_EXCL: a recording never overwrites anything.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self.path = path
        self.keyframe_every = max(1, keyframe_every)
        self.frames = 0  # snapshot frames written
        self.bytes = 0
        self._last: Snapshot | None = None
        meta = codec.meta_now(time.time(), interval, self.keyframe_every)
        self._write(MAGIC + encode_frame(FrameType.META, meta.started, codec.ENCODER.encode(meta)))

    def add(self, snapshot: Snapshot) -> None:
        """One snapshot: whole at every keyframe_every-th, else what changed since the last."""
        if self._last is None or self.frames % self.keyframe_every == 0:
            frame = encode_frame(FrameType.KEY, snapshot.taken_at, codec.ENCODER.encode(snapshot))
        else:
            change = change_between(self._last, snapshot)
            frame = encode_frame(FrameType.CHANGE, snapshot.taken_at, codec.ENCODER.encode(change))
        self._write(frame)
        self._last = snapshot
        self.frames += 1

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
