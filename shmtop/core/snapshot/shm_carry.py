"""When a steady snapshot may take its segments' rows from its last read of /proc/sysvipc/shm.

That file is the only source of each segment's RSS and swap, and the kernel formats it anew at
every read (10-14 ms for 4000 segments on the 2-core development machine, a third of a steady
snapshot). What it says of a segment is its shmid_ds (key, id, mode, size, pids, nattch,
owners, times) and its pages: `shm_add_rss_swap` (ipc/shm.c) gives rss = the pages in its
page cache, swap = its pages on swap. SHM_INFO, which every snapshot reads for the limits
anyway, gives the sums of those two over every segment of the namespace, made by the same
function with no text; one SHM_STAT_ANY a segment (one C loop, ~3 ms for 4000) gives every
shmid_ds. So the rows of the last read are taken again, the very list (whatever was built from
it is reused by identity), while

- every segment's shmid_ds is exactly what the read said (checked against the rows once, then
  against the look that matched them, in C), and
- SHM_INFO's segments, rss and swap are the sums of the read's rows, and
- no more than READ_EVERY seconds passed since the read, and
- while any segment page is on swap (now, and so in the read: the sums agree), the kernel's
  swap-out counters (/proc/vmstat: pswpout, zswpout, swpout_zero) did not move since then.

What that proves. A segment's pages change only by pages added (a fault or write in it; the
kernel filling a hole with a huge page), pages removed (MADV_REMOVE or fallocate punching a
hole in it, the kernel dropping a huge page's part past its end), and swap-out (rss -n, swap
+n) and swap-in (the reverse). Swap can only rise by a swap-out: with no swap-out since the
read, unchanged sums mean no segment's swap moved and no swap-in happened (each would lower
the sum for good). With no page on swap at either end every segment's swap is 0 at both, and
the moves between its rss and swap cancel in it. What is left, and not exact, is pages added
to some segments while as many were removed from others between two reads (a hole punched in
one segment as another grows, both in the same second); and on kernels whose swap of a
zero-filled page counts in no counter (6.12), a swap-out of such a page in one segment as
another is swapped in. Such a row shows its old RSS until the next read of the file, at most
READ_EVERY seconds later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter

from shmtop.core.binding import native
from shmtop.core.model import Limits

Row = tuple[int, ...]
READ_EVERY = 10.0  # seconds: the file is read again at least this often
VMSTAT = "/proc/vmstat"
# Every swap-out of a page is counted in one of these (those a kernel lacks are not there).
SWAP_OUT_COUNTERS = frozenset((b"pswpout", b"zswpout", b"swpout_zero"))


def swap_outs(path: str = VMSTAT) -> int | None:
    """Pages swapped out since boot (the counters' sum), or None if it cannot be read."""
    try:
        with open(path, "rb") as file:
            text = file.read()
    except OSError:
        return None
    total = 0
    for line in text.split(b"\n"):
        name, _, value = line.partition(b" ")
        if name in SWAP_OUT_COUNTERS:
            total += int(value)
    return total


class SegmentCarry:
    """One Collector's: carried(limits) before it reads the file (the rows to take instead,
    or None), read(...) after it read it. One caller at a time."""

    __slots__ = ("_blind", "_look", "_pending", "_read_at", "_rows", "_rss", "_state", "_sums",
                 "_swap", "_swapouts", "_verified", "carries", "reads")  # fmt: skip

    def __init__(self) -> None:
        self._look = native.ShmStateLook()
        self._rows: list[Row] | None = None  # those of the last read
        self._state: Callable[[Row], Sequence[int]] = tuple  # their shmid_ds columns
        self._rss: int | None = None
        self._swap: int | None = None
        self._sums: tuple[int, int, int] | None = None  # (rows, rss, swap bytes), once needed
        self._verified = False  # the kept look is the rows' shmid_ds
        self._blind = False  # SHM_STAT_ANY found nothing the file lists (Linux < 4.17)
        self._read_at = 0.0
        self._swapouts: int | None = None  # swap-outs before the last read (None: not read)
        self._pending: int | None = None  # swap-outs before the read that may follow
        self.carries = 0  # snapshots that took the rows (tests and benchmarks read these)
        self.reads = 0

    def carried(self, limits: Limits) -> list[Row] | None:
        """The last read's rows if they are what the file would say now (see the module's
        docstring), else None: then read the file and call read()."""
        swapped = limits.shm_swap_pages > 0
        self._pending = swap_outs() if swapped else None  # before any read that follows
        rows = self._rows
        if rows is None or self._blind or time.monotonic() - self._read_at > READ_EVERY:
            return None
        if self._sums is None:
            self._sums = self._sums_of(rows)
        page = limits.page_size
        count, rss, swap = self._sums
        if count != limits.shm_segments:
            return None
        if self._rss is not None and rss != limits.shm_rss_pages * page:
            return None
        if self._swap is not None and swap != limits.shm_swap_pages * page:
            return None
        if swapped and (self._pending is None or self._pending != self._swapouts):
            return None
        same = self._look.look()
        if not self._verified:  # the first look since the read: are its rows the file's?
            looked = self._look.rows()
            if looked != list(chain.from_iterable(map(self._state, rows))):
                # SHM_INFO counted the rows' segments but SHM_STAT_ANY saw none: a kernel
                # without it (< 4.17) whose file is read every time, with no more looks (a
                # race that removed them all meanwhile costs only this shortcut).
                self._blind = not looked and bool(rows)
                return None
            self._look.keep()
            self._verified = True
        elif not same:
            return None
        self.carries += 1
        return rows

    def read(
        self, rows: list[Row], state: Sequence[int], rss: int | None, swap: int | None
    ) -> None:
        """The rows just read from the file; state: where ShmStateLook.STATE_COLUMNS sit in
        a row, rss and swap: their columns (None: the kernel prints none)."""
        self._rows, self._state, self._rss, self._swap = rows, itemgetter(*state), rss, swap
        self._sums = None  # worked out at the next carried(): a one-shot never needs them
        self._verified = False
        self._read_at = time.monotonic()
        self._swapouts = self._pending
        self.reads += 1

    def _sums_of(self, rows: list[Row]) -> tuple[int, int, int]:
        rss = sum(map(itemgetter(self._rss), rows)) if self._rss is not None else 0
        swap = sum(map(itemgetter(self._swap), rows)) if self._swap is not None else 0
        return len(rows), rss, swap
