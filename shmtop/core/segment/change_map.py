"""Which parts of a segment changed lately: a CRC a bucket, refreshed by time-boxed sweeps."""

from __future__ import annotations

import math
import threading
import time
import zlib
from collections.abc import Callable
from typing import Protocol

PAGE = 4096
SWEEP_CHUNK = 1 << 20
NEVER = -math.inf


class Readable(Protocol):
    @property
    def size(self) -> int: ...

    def readinto(self, offset: int, buffer: memoryview) -> int: ...


class ChangeMap:
    """The segment cut into buckets; each remembers when it was last seen to change.

    A sweep reads on from where the last one stopped, for at most a time budget,
    and compares each finished bucket's CRC with the one of the previous pass;
    so a huge segment is covered over several sweeps, a small one every sweep.
    Rows the view re-reads mark their buckets directly. Thread-safe.
    """

    def __init__(
        self, size: int, buckets: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = max(size, 1)
        per = -(-self.size // max(buckets, 1))
        self.bucket_size = -(-per // PAGE) * PAGE if per > PAGE else per
        self.count = -(-self.size // self.bucket_size)
        self.clock = clock
        self.passes = 0  # complete passes over the whole segment
        self._crcs: list[int | None] = [None] * self.count
        self._changed: list[float] = [NEVER] * self.count
        self._position = 0
        self._crc = 0
        self._lock = threading.Lock()
        self._buffer = memoryview(bytearray(SWEEP_CHUNK))

    def bucket_of(self, offset: int) -> int:
        return min(max(offset, 0) // self.bucket_size, self.count - 1)

    def mark(self, offset: int, when: float | None = None) -> None:
        """Offset was seen to change (by the rows on screen)."""
        with self._lock:
            self._changed[self.bucket_of(offset)] = self.clock() if when is None else when

    def sweep(self, reader: Readable, budget: float) -> int:
        """Read on for about budget seconds; returns the bytes read (0: nothing to do)."""
        deadline = self.clock() + budget
        done = 0
        while True:
            bucket = self._position // self.bucket_size
            bucket_end = min((bucket + 1) * self.bucket_size, self.size)
            length = min(SWEEP_CHUNK, bucket_end - self._position)
            got = reader.readinto(self._position, self._buffer[:length])
            if got <= 0:
                break
            self._crc = zlib.crc32(self._buffer[:got], self._crc)
            self._position += got
            done += got
            if self._position >= bucket_end:
                self._finish(bucket)
            if self.clock() >= deadline:
                break
        return done

    def _finish(self, bucket: int) -> None:
        with self._lock:
            before = self._crcs[bucket]
            if before is not None and before != self._crc:
                self._changed[bucket] = self.clock()
            self._crcs[bucket] = self._crc
        self._crc = 0
        if self._position >= self.size:
            self._position = 0
            self.passes += 1

    def changed_at(self) -> tuple[float, ...]:
        """When each bucket was last seen to change (-inf: never)."""
        with self._lock:
            return tuple(self._changed)

    @property
    def progress(self) -> float:
        """How far the current pass has got, 0..1."""
        return self._position / self.size
