"""The full snapshot (System V, POSIX shm and named semaphores, POSIX queues) from one read of
every process's maps and one of its fds (issues 11 and 12).

Alone, the System V Collector and the PosixCollector each read every maps file, and the
PosixCollector and the queues' scan each read every fd directory. Here two worker threads
read each half of the processes once: maps for both kinds (native.scan_shared_maps), then
fds on the shm devices and the queues' device; the Collector takes its scan from that read
whenever it must scan (snapshot/scan_parts.MapsRound), and the POSIX side and the queues
take theirs. A steady snapshot still reads every maps file (an mmap or munmap of a tmpfs
file changes nothing else the kernel shows), but where the C read the same bytes as last
time the POSIX join is last time's (no row object is made again).
"""

from __future__ import annotations

import time
from typing import NamedTuple

from shmtop.core.binding import native
from shmtop.core.model import Snapshot
from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector, ScanPlan, all_pids
from shmtop.core.posix.model import SHM_DIR, PosixSnapshot
from shmtop.core.posix.mounts import classify_device
from shmtop.core.posix.mqueue import MQUEUE_DIR, HeldFiles, MqSnapshot
from shmtop.core.snapshot.collect import Collector, collector_paused
from shmtop.core.snapshot.scan_parts import MapsRound, SharedPart, part_of
from shmtop.core.snapshot.workers import Workers

# A first read guesses this many rows a process (more cost a second read of the processes
# from the first whose rows did not fit); later ones make room for a quarter more than
# the last found.
_FIRST_ROOM = (8, 4, 4)  # System V mappings, shared file mappings, fds on shm devices
_ROOM_MIN = 256


class FullSnapshot(NamedTuple):
    """One full snapshot: the System V one, POSIX shm + named semaphores, POSIX queues."""

    sysv: Snapshot
    posix: PosixSnapshot
    queues: MqSnapshot


class _Half(NamedTuple):
    """What one worker reads: its pids' maps and fds, with the rows it last read."""

    pids: list[int]
    last: native.SharedMapsScan | None
    room: tuple[int, int, int]


def _read(half: _Half, plan: ScanPlan, fd_devices: list[int], facts: bool) -> SharedPart:
    """A worker's share: maps (both kinds), the System V facts if surely needed, fds (on
    fd_devices and on the shm mounts of other mount namespaces its maps show)."""
    maps = native.scan_shared_maps(
        half.pids, list(plan.mounts), any_anonymous=True, capacity=half.room[:2],
        last=half.last,
    )  # fmt: skip
    part = part_of(maps.sysv, {}) if facts else None  # a first scan: no title known yet
    devices = frozenset(fd_devices)
    devices |= _foreign_shm_devices(maps.files.rows, devices)
    fds, failures = native.scan_fds(half.pids, sorted(devices), capacity=half.room[2])
    return SharedPart(maps, part, fds, failures, devices)


def _foreign_shm_devices(rows: list[native.FileMapRow], known: frozenset[int]) -> set[int]:
    """The shm mounts of other mount namespaces (a container's /dev/shm) that rows map files
    of, as a mapper's mountinfo tells (mounts.classify_device, as PosixCollector asks it).
    Such a mount is known only from a mapping of one of its files, and its open files count
    too: read here, in the same read of each process's fds, they spare the read of every
    process's fds again that PosixCollector makes for a device its plan did not have (a
    first snapshot's, so every `list`'s)."""
    mappers: dict[int, int] = {}
    for row in rows:
        if row.dev not in known:
            mappers.setdefault(row.dev, row.pid)
    return {dev for dev, pid in mappers.items() if classify_device(dev, pid) is not None}


def _room(rows: int) -> int:
    return max(_ROOM_MIN, rows + rows // 4)


class FullCollector:
    """Takes FullSnapshots; keep one alive and call snapshot() every refresh (the System V
    side reuses what did not change, as its Collector does)."""

    def __init__(
        self, shm_dir: str = SHM_DIR, mqueue_dir: str = MQUEUE_DIR,
        sysv: Collector | None = None,
    ) -> None:  # fmt: skip
        # sysv: the System V Collector to feed (the exporter's: it also takes snapshots of
        # its own, System V alone, between full ones); closed with this one.
        self.sysv = sysv or Collector()
        self.posix = PosixCollector(shm_dir, threads=1)  # it starts no scan of its own here
        self._mqueue_dir = mqueue_dir
        self._pool = Workers(2, "shmtop-full")
        self._last: tuple[SharedPart, ...] = ()
        # The halves' file rows and the one list made of them: the same lists, the same list
        # (the POSIX join is reused for the same list object).
        self._files: tuple[list[native.FileMapRow], ...] = ()
        self._joined_files: list[native.FileMapRow] = []
        self._queue_dev: int | None = None  # the device the last queue scan read

    def close(self) -> None:
        self.sysv.close()
        self.posix.close()
        self._pool.shutdown()

    def __enter__(self) -> FullCollector:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def snapshot(self) -> FullSnapshot:
        """System V, POSIX shm and semaphores, queues: one read of every process."""
        with collector_paused():  # as the Collector's, for the POSIX objects made too
            return self._snapshot()

    def _snapshot(self) -> FullSnapshot:
        taken_at = time.time()
        pids = all_pids()
        plan = self.posix.plan()
        # The queues' device: the mount's, and the one the last queue scan read (where the
        # mount shows another namespace's queues, ours are read through a detached mount).
        # A first snapshot asks a detached mount for ours: else, where /dev/mqueue is not
        # mounted or is another namespace's, the queues' scan read every process's fds
        # again (native.scan_fds in the calling thread, after the workers' scan: 30-60 ms of
        # `list` at the benchmark's workload, bench/bench_oneshot_phases.py).
        last = self._queue_dev if self._queue_dev is not None else mqueue.detached_device()
        queue_devs = {mqueue.queue_device(self._mqueue_dir), last} - {None}
        fd_devices = sorted({*plan.fd_devices, *(d for d in queue_devs if d is not None)})
        # Split by pid parity, not by place in the list: a process that starts or ends
        # leaves the other half's pids as they were, so its rows can still be last time's.
        halves = [[pid for pid in pids if pid % 2 == n] for n in (0, 1)]
        lasts = self._last if len(self._last) == 2 else (None, None)
        tasks = [
            self._pool.submit(_read, self._half(half, last), plan, fd_devices,
                              not self.sysv.scanned_before)
            for half, last in zip(halves, lasts, strict=True)
        ]  # fmt: skip
        maps_round = MapsRound(taken_at, tasks)
        sysv = self.sysv.snapshot_from(maps_round)
        parts = [task.result() for task in tasks]
        self._last = tuple(parts)
        scans = [part.maps for part in parts]
        failures = {pid: n for scan in scans for pid, n in scan.files.failures.items()}
        text = any(scan.files.reader == native.TEXT for scan in scans)
        reader = native.TEXT if text else native.PROCMAP_QUERY
        files = native.FileMapsScan(self._file_rows(scans), failures, reader)
        owners = {pid: uid for scan in scans for pid, uid in scan.uids.items()}
        fd_rows, fd_failures, read_on = self._fd_rows(pids, halves, parts, fd_devices)
        posix = self.posix.from_scans(
            taken_at, plan._replace(fd_devices=tuple(sorted(read_on))), pids, files, owners,
            fd_rows, fd_failures, maps_round.facts(),
        )  # fmt: skip
        held = HeldFiles(fd_rows, fd_failures, frozenset(fd_devices))
        queues = mqueue.take_snapshot(pids, directory=self._mqueue_dir, fds=held)
        self._queue_dev = queues.device
        return FullSnapshot(sysv, posix, queues)

    @staticmethod
    def _fd_rows(
        pids: list[int], halves: list[list[int]], parts: list[SharedPart], fd_devices: list[int]
    ) -> tuple[list[native.FdRow], dict[int, int], frozenset[int]]:
        """Both halves' fd rows, their failures and the devices read on for every process.

        A device only one half's maps show is read on the other half's fds too (only that
        device). The rows on the plan's devices come in the halves' order; those on devices
        the maps showed after them, in the order of pids (a holder list is in row order: as
        PosixCollector made them when it read such a device on every process's fds)."""
        planned = frozenset(fd_devices)
        fd_rows = [row for part in parts for row in part.fds if row.dev in planned]
        later = [row for part in parts for row in part.fds if row.dev not in planned]
        fd_failures = {pid: n for part in parts for pid, n in part.fd_failures.items()}
        read_on = planned.union(*(part.fd_devices for part in parts))
        for half, part in zip(halves, parts, strict=True):
            missing = read_on - part.fd_devices
            if missing:
                more, more_failures = native.scan_fds(half, sorted(missing))
                later += more
                fd_failures.update(more_failures)
        if later:
            place = {pid: n for n, pid in enumerate(pids)}
            fd_rows += sorted(later, key=lambda row: place.get(row.pid, -1))  # stable
        return fd_rows, fd_failures, read_on

    def _half(self, pids: list[int], last: SharedPart | None) -> _Half:
        if last is None:
            n = max(len(pids), 1)
            return _Half(pids, None, (_room(n * _FIRST_ROOM[0]), _room(n * _FIRST_ROOM[1]),
                                      _room(n * _FIRST_ROOM[2])))  # fmt: skip
        room = (_room(len(last.maps.sysv.rows)), _room(len(last.maps.files.rows)),
                _room(len(last.fds)))  # fmt: skip
        return _Half(pids, last.maps, room)

    def _file_rows(self, scans: list[native.SharedMapsScan]) -> list[native.FileMapRow]:
        """Both halves' file rows in pid and address order, one list (last time's list when
        both halves' rows are last time's)."""
        halves = tuple(scan.files.rows for scan in scans)
        if len(halves) == len(self._files) and all(
            a is b for a, b in zip(halves, self._files, strict=True)
        ):
            return self._joined_files
        self._files = halves
        self._joined_files = sorted(row for rows in halves for row in rows)
        return self._joined_files


def take_snapshot() -> FullSnapshot:
    """One full snapshot with fresh collectors (what `shmtop list` takes)."""
    with FullCollector() as collector:
        return collector.snapshot()
