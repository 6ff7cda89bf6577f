"""The full snapshot (System V, POSIX shm and named semaphores, POSIX queues) from one read of
every process's maps and one of its fds (issues 11 and 12).

Alone, the System V Collector and the PosixCollector each read every maps file, and the
PosixCollector and the queues' scan each read every fd directory. Here two worker threads
read each half of the processes once: maps for both kinds (native.scan_shared_maps), then
fds on the shm devices and the queues' device; the Collector takes its scan from that read
whenever it must scan (snapshot/scan_parts.MapsRound), and the POSIX side and the queues
take theirs. An mmap or munmap of a tmpfs file changes nothing else the kernel shows, so a
steady snapshot reads again the processes that ran since the last one (their threads'
schedstat moved: core/snapshot/activity.py), appeared, or are the parent of one that
appeared, and carries the others' rows (core/posix/carry.py); where nothing differs, the
POSIX join is last time's (no row object is made again). Without that evidence (a first
snapshot, or tasks whose schedstat cannot be read) it reads every process, and where the C
read the same bytes as last time the join is last time's too.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from shmtop.core.binding import native
from shmtop.core.model import Snapshot
from shmtop.core.posix import mqueue
from shmtop.core.posix.carry import CarriedHalf
from shmtop.core.posix.collect import PosixCollector, ScanPlan, all_pids
from shmtop.core.posix.model import SHM_DIR, PosixSnapshot, ShmMount
from shmtop.core.posix.mounts import classify_device
from shmtop.core.posix.mqueue import MQUEUE_DIR, HeldFiles, MqSnapshot
from shmtop.core.snapshot.activity import Activity, TaskActivity
from shmtop.core.snapshot.collect import Collector, collector_paused
from shmtop.core.snapshot.scan_parts import MapsRound, SharedPart, part_of
from shmtop.core.snapshot.workers import Workers

# A first read guesses this many rows a process (more cost a second read of the processes
# from the first whose rows did not fit); later ones make room for a quarter more than
# the last found.
_FIRST_ROOM = (8, 4, 4)  # System V mappings, shared file mappings, fds on shm devices
_ROOM_MIN = 256
# A steady snapshot reads every process again at least this often (seconds): what a process
# that did not run can still have changed in its maps or fds through another (one sharing
# its memory or fd table without being its thread, or a seccomp supervisor's ADDFD: the
# one that ran is read, so the object shows as used, by that pid) is at most this old.
READ_ALL_EVERY = 10.0


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


def _room_for(processes: int) -> tuple[int, int, int]:
    """The rows a first read of that many processes makes room for."""
    n = max(processes, 1)
    return (_room(n * _FIRST_ROOM[0]), _room(n * _FIRST_ROOM[1]), _room(n * _FIRST_ROOM[2]))


class _SteadyRead:
    """A worker's share of a steady snapshot: the processes of its half that may have
    changed read, the others carried (kept in .carried for the next snapshot)."""

    def __init__(self, carried: CarriedHalf, pids: list[int], changed: frozenset[int]) -> None:
        self.carried = carried
        self.pids = pids
        # Those that may have changed, and any the carried half has no rows for (a process
        # that appeared between the last listing of /proc and that refresh: told as new
        # then, it is not new to the next one, and it may not have run since).
        known = set(carried.pids)
        self.read_pids = [pid for pid in pids if pid in changed or pid not in known]

    def __call__(self, plan: ScanPlan, fd_devices: list[int]) -> SharedPart:
        # The fds of the processes read on every device the carried ones were read on (a
        # container's shm mount that their maps showed); a device new to the half (a read
        # process maps a file of a shm mount not seen before): the whole half read again,
        # since the carried processes' fds on it were never read.
        carried_on = self.carried.part.fd_devices
        devices = sorted(carried_on.union(fd_devices))
        read = _read(_Half(self.read_pids, None, _room_for(len(self.read_pids))), plan,
                     devices, False)  # fmt: skip
        if read.fd_devices - carried_on:  # (fd_devices among them: the plan's, the queues')
            read = _read(_Half(self.pids, None, _room_for(len(self.pids))), plan, fd_devices,
                         False)  # fmt: skip
            self.carried = CarriedHalf(read, self.pids)
        else:
            self.carried = self.carried.merged(self.pids, read, self.read_pids)
        return self.carried.part


def _parents(pids: frozenset[int]) -> set[int]:
    """The parents of pids (a vfork child runs in its parent's memory until it execs, so
    its mmap would change the parent's maps though the parent did not run)."""
    found = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[1].isdigit():
            found.add(int(fields[1]))
    return found


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
        # The halves' file rows and the one list made of them: the same lists, the same list
        # (the POSIX join is reused for the same list object).
        self._files: tuple[list[native.FileMapRow], ...] = ()
        self._joined_files: list[native.FileMapRow] = []
        self._queue_dev: int | None = None  # the device the last queue scan read
        # Which processes ran since the last snapshot; the halves to carry from, and the
        # plan they were read under (another plan: read every process again).
        self._activity: TaskActivity | None = None  # where the Collector keeps none
        self._refreshes_seen = -1
        self._read_all_at = 0.0  # monotonic time of the last read of every process
        self._carried: tuple[CarriedHalf, ...] = ()
        self._carried_plan: tuple[dict[int, ShmMount], int | None] | None = None

    def close(self) -> None:
        if self._activity is not None:
            self._activity.close()
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
            try:
                return self._snapshot()
            except BaseException:
                # Its refresh told which processes ran since the last one, and the next
                # answers since this one: carried rows of a process that ran would be
                # kept unseen. The next snapshot reads every process (as a first does).
                self._carried, self._carried_plan = (), None
                raise

    def _snapshot(self) -> FullSnapshot:
        taken_at = time.time()
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
        # One refresh, for the semaphores too; since the last one of ours only if the
        # Collector made none of its own in between (the exporter's System V snapshots).
        # None on a first snapshot: a one-shot command takes no other, and a first look at
        # the tasks (a schedstat and a syscall file each) would cost it 10-40 ms for nothing.
        own_before = self.sysv.activity_refreshes == self._refreshes_seen
        evidence = self.sysv.refresh_activity() if self._carried else None
        self._refreshes_seen = self.sysv.activity_refreshes
        # Every process: the refresh listed /proc (2-3 ms at 1000 processes), else a listing.
        pids = list(evidence.pids) if evidence is not None and evidence.pids is not None else (
            all_pids()
        )  # fmt: skip
        # Split by pid parity, not by place in the list: a process that starts or ends
        # leaves the other half's pids as they were, so its rows can still be last time's.
        halves = [[pid for pid in pids if pid % 2 == n] for n in (0, 1)]
        changed = (
            self._changed(evidence, (plan.mounts, plan.shm_dev))
            if own_before and self._carried
            else None
        )
        now = time.monotonic()
        if changed is not None and now - self._read_all_at > READ_ALL_EVERY:
            changed = None
        if changed is None:
            self._read_all_at = now
        steady: list[_SteadyRead] = []
        if changed is not None and len(self._carried) == 2:
            steady = [_SteadyRead(carried, half, changed)
                      for carried, half in zip(self._carried, halves, strict=True)]  # fmt: skip
            tasks = [self._pool.submit(read, plan, fd_devices) for read in steady]
        else:
            lasts = [c.part for c in self._carried] if len(self._carried) == 2 else [None, None]
            tasks = [
                self._pool.submit(_read, self._half(half, last), plan, fd_devices,
                                  not self.sysv.scanned_before)
                for half, last in zip(halves, lasts, strict=True)
            ]  # fmt: skip
        maps_round = MapsRound(taken_at, tasks)
        sysv = self.sysv.snapshot_from(maps_round, evidence)
        parts = [task.result() for task in tasks]
        if steady:
            self._carried = tuple(read.carried for read in steady)
        else:
            self._carried = tuple(CarriedHalf(part, half)
                                  for part, half in zip(parts, halves, strict=True))  # fmt: skip
        self._carried_plan = (plan.mounts, plan.shm_dev)
        scans = [part.maps for part in parts]
        failures = {pid: n for scan in scans for pid, n in scan.files.failures.items()}
        text = any(scan.files.reader == native.TEXT for scan in scans)
        reader = native.TEXT if text else native.PROCMAP_QUERY
        files = native.FileMapsScan(self._file_rows(scans), failures, reader)
        owners = {pid: uid for scan in scans for pid, uid in scan.uids.items()}
        fd_rows, fd_failures, read_on = self._fd_rows(pids, halves, parts, fd_devices)
        posix = self.posix.from_scans(
            taken_at, plan._replace(fd_devices=tuple(sorted(read_on))), pids, files, owners,
            fd_rows, fd_failures, maps_round.facts(), changed if steady else None,
        )  # fmt: skip
        held = HeldFiles(fd_rows, fd_failures, frozenset(fd_devices))
        queues = mqueue.take_snapshot(pids, directory=self._mqueue_dir, fds=held)
        self._queue_dev = queues.device
        return FullSnapshot(sysv, posix, queues)

    def _changed(
        self, evidence: Activity | None, plan: tuple[dict[int, ShmMount], int | None]
    ) -> frozenset[int] | None:
        """The processes a steady snapshot must read again, or None: read every one."""
        if evidence is None:
            if self._activity is None:
                self._activity = TaskActivity()
            evidence = self._activity.refresh()
        activity = evidence
        if not activity.processes_known or plan != self._carried_plan:
            return None
        appeared = activity.appeared
        return activity.changed | _parents(appeared) if appeared else activity.changed

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
            return _Half(pids, None, _room_for(len(pids)))
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
