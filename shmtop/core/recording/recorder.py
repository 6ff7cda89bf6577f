"""The recording loop: a snapshot every interval into a RecordingWriter until told to stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shmtop.core.model import Snapshot
from shmtop.core.recording.writer import RecordingWriter


def record(
    writer: RecordingWriter,
    take: Callable[[], Snapshot],
    *,
    interval: float,
    duration: float | None = None,
    stop: threading.Event | None = None,
    on_frame: Callable[[RecordingWriter], object] | None = None,
) -> int:
    """Snapshots every `interval` seconds from the first (no burst to catch up after a slow
    one) for `duration` seconds (None: until `stop` is set); the frames written."""
    stop = stop or threading.Event()
    begun = time.monotonic()
    due = begun
    while not stop.is_set():
        writer.add(take())
        if on_frame is not None:
            on_frame(writer)
        due = max(due + interval, time.monotonic())
        if duration is not None and due - begun > duration + 1e-9:
            break
        stop.wait(due - time.monotonic())
    return writer.frames
