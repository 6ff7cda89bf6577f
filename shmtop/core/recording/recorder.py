"""The recording loop: a snapshot every interval into a RecordingWriter until told to stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from shmtop.core.model import Snapshot
from shmtop.core.recording.posix_changes import PosixRecord
from shmtop.core.recording.writer import RecordingWriter

Taken = Snapshot | tuple[Snapshot, PosixRecord | None]  # a snapshot, with its POSIX half


def record(
    writer: RecordingWriter,
    take: Callable[[], Sequence[Taken]],
    *,
    interval: float,
    duration: float | None = None,
    stop: threading.Event | None = None,
    on_error: Callable[[OSError], object] | None = None,
) -> int:
    """Snapshots every `interval` seconds from the first (no burst to catch up after a slow
    one) for `duration` seconds (None: until `stop` is set); the frames written. `take` gives
    one snapshot a namespace (one, or every namespace's: each is a stream of its own), each
    alone or with its POSIX half (PosixRecord). A round
    that fails (OSError) is told to on_error and skipped: a recording left running at night
    outlives a bad second. A failed write (OSError from the writer) ends it."""
    stop = stop or threading.Event()
    begun = time.monotonic()
    due = begun
    while not stop.is_set():
        try:
            snapshots = take()
        except OSError as error:
            if on_error is None:
                raise
            on_error(error)
        else:
            for taken in snapshots:
                if isinstance(taken, Snapshot):
                    writer.add(taken)
                else:
                    writer.add(*taken)
        due = max(due + interval, time.monotonic())
        if duration is not None and due - begun > duration + 1e-9:
            break
        stop.wait(due - time.monotonic())
    return writer.frames
