"""The POSIX shared memory collector: /dev/shm listed, every process's maps and fds joined on
(device, inode), a frozen PosixSnapshot out. A separate entry point from the System V one."""

from __future__ import annotations

import errno
import functools
import os
import stat
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import NamedTuple

from shmtop.core.binding import native
from shmtop.core.posix import content
from shmtop.core.posix.libc import LibcCache
from shmtop.core.posix.model import (
    SEM_PREFIX,
    SHM_DIR,
    Holder,
    Mapping,
    PosixKind,
    PosixObject,
    PosixProcess,
    PosixSnapshot,
    SemState,
    ShmMount,
)
from shmtop.core.posix.mounts import classify_device, our_mounts
from shmtop.core.snapshot.procs import start_time  # the clock the System V side uses
from shmtop.core.snapshot.visibility import processes_hidden
from shmtop.core.snapshot.workers import Workers  # not concurrent.futures: see there

_Key = tuple[int, int]


_Listed = dict[_Key, tuple[bytes, native.FileStat]]  # the shm directory: path and stat
# What an object was made from: path, stat, mappings, holders, a semaphore's words (read in
# the listing's C loop: None for any other object, and for a semaphore read otherwise).
_Made = tuple[bytes, native.FileStat, tuple[Mapping, ...], tuple[Holder, ...], SemState | None]
_Joined = tuple[list[native.FileMapRow], "_Seen", dict[int, ShmMount | None], set[int]]


class ScanPlan(NamedTuple):
    """What one POSIX scan looks for (PosixCollector.plan)."""

    mounts: dict[int, ShmMount]  # our shm mounts by device
    shm_dev: int | None  # the shm directory's device
    fd_devices: tuple[int, ...]  # fds open on files of these count


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


_SHM_DIR, _SEM_PREFIX = SHM_DIR.encode(), SEM_PREFIX.encode()


@functools.lru_cache(maxsize=4096)  # a steady scan asks it of the same paths again
def _kind(path: bytes, shm_dir: str = SHM_DIR) -> PosixKind:
    """sem.NAME directly in a /dev/shm (ours or, as a mapper printed it, a container's) or
    in the directory scanned (a namespace's, through /proc/PID/root)."""
    directory, _, name = path.removesuffix(b" (deleted)").rpartition(b"/")
    is_sem = directory in (_SHM_DIR, os.fsencode(shm_dir)) and name.startswith(_SEM_PREFIX)
    return PosixKind.SEM if is_sem else PosixKind.SHM


class PosixCollector:
    """Takes PosixSnapshots; remembers which devices of other mount namespaces were shm ones."""

    def __init__(self, shm_dir: str = SHM_DIR, *, threads: int = 2) -> None:
        self.shm_dir = shm_dir
        # Devices of major 0 seen in maps but not mounted here: a shm mount of another
        # mount namespace, or None for an internal one (memfd, /dev/zero). Sorted again in
        # every scan (an anonymous device number is reused once its mount is gone); the
        # last scan's shm ones are only a hint for the fd scan that runs beside the maps.
        self._foreign: dict[int, ShmMount | None] = {}
        self._hiding = processes_hidden()  # the /proc mount does not change under us
        self._libc = LibcCache()  # each mapper's C library, read once per program
        self._room: tuple[int, int] | None = None  # rows to make room for: maps, fds
        # The last maps rows joined: (rows, the join, the devices it sorted, our mounts').
        self._last_mapped: _Joined | None = None
        self._last_processes: dict[int, PosixProcess] = {}
        self._last_owners: dict[int, int] = {}
        self._last_facts_at = -FACTS_KEPT_FOR  # monotonic time of the facts last read
        # Objects that left the shm directory's listing while in use: unlinked, though the
        # rows of a mapper that has not run since (core/posix/carry.py) still name them.
        self._listed_before: set[_Key] = set()
        self._left: set[_Key] = set()
        # The last listing of the shm directory (its C bytes and its dict) and the objects
        # made from it: an object whose stat, mappings and holders are those it was made
        # from is that object again (but a semaphore, whose value its file's stat misses).
        self._listing: native.FileListing | None = None
        self._listed: _Listed = {}
        self._made: dict[_Key, tuple[_Made, PosixObject]] = {}
        self._last_join: _Join | None = None
        self._states: dict[_Key, SemState] = {}  # the listed semaphores' words last read
        self._sem_files: tuple[_Listed | None, list[tuple[bytes, _Key, int]]] = (None, [])
        # The maps scan and the fd scan are C loops that release the GIL and share
        # nothing: run side by side, a scan costs about the longer of the two.
        self._pool = Workers(threads, "shmtop-posix") if threads > 1 else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> PosixCollector:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def plan(self) -> ScanPlan:
        """What this scan looks for: our shm mounts, and the devices whose open files count
        (ours and the shm mounts of other mount namespaces the last scan found). Once a scan."""
        mounts = our_mounts(self.shm_dir)
        shm_dev = next((m.dev for m in mounts.values() if m.shm_dir), None)
        known = set(mounts) | {dev for dev, mount in self._foreign.items() if mount is not None}
        self._foreign = {}
        return ScanPlan(mounts, shm_dev, tuple(sorted(known)))

    def snapshot(self, pids: Sequence[int] | None = None) -> PosixSnapshot:
        """One scan of every process (or of pids)."""
        taken_at = time.time()
        plan = self.plan()
        pids = all_pids() if pids is None else list(pids)
        # A first scan guesses two rows a process (a second pass costs a whole scan again).
        room = self._room or (_room_for(2 * len(pids)), _room_for(len(pids)))
        scan_maps = functools.partial(native.scan_file_maps, pids, list(plan.mounts),
                                      any_anonymous=True, capacity=room[0])  # fmt: skip
        scan_fds = functools.partial(native.scan_fds, pids, plan.fd_devices, capacity=room[1])
        if self._pool is not None:
            maps_job, fds_job = self._pool.submit(scan_maps), self._pool.submit(scan_fds)
            owners = _owners(pids)
            listed = self._list_shm_dir()
            maps = maps_job.result()
            fd_rows, fd_failures = fds_job.result()
        else:
            owners = _owners(pids)
            listed = self._list_shm_dir()
            maps = scan_maps()
            fd_rows, fd_failures = scan_fds()
        # Room for a quarter more rows next time: a steady scan reads every maps file once.
        self._room = (_room_for(len(maps.rows)), _room_for(len(fd_rows)))
        return self._build(taken_at, plan, pids, maps, owners, fd_rows, fd_failures, listed, {})

    def from_scans(
        self, taken_at: float, plan: ScanPlan, pids: list[int], maps: native.FileMapsScan,
        owners: dict[int, int], fd_rows: list[native.FdRow], fd_failures: dict[int, int],
        facts: dict[int, native.ProcessFacts] | None = None,
        changed: frozenset[int] | None = None,
    ) -> PosixSnapshot:  # fmt: skip
        """A snapshot from scans made by the caller for this plan (core/posix/full.py: one
        read of every maps file for System V and POSIX): maps of every shared file on
        plan.mounts' devices and any of major 0; fds on plan.fd_devices (others are left
        out); owners: pid -> uid or -errno, as _owners; facts: of processes read in the same
        round (the System V side's attachers), not read again; changed: the processes that
        ran, appeared or vanished since the last call (core/snapshot/activity.py), whose
        names are read again (None: unknown; the others' are kept while recent)."""
        return self._build(taken_at, plan, pids, maps, owners, fd_rows, fd_failures,
                           self._list_shm_dir(), facts or {}, changed)  # fmt: skip

    def _mapped(self, rows: list[native.FileMapRow], mounts: dict[int, ShmMount]) -> _Seen:
        """The maps rows joined; the same rows list as last time (the C read the same
        bytes: core/binding/native.py) gives last time's join, and its devices' sorting:
        a device that a mapping still holds cannot have been reused by another mount."""
        last = self._last_mapped
        if last is not None and last[0] is rows and last[3] == mounts.keys():
            self._foreign.update(last[2])
            return last[1].copy(reused=True)
        seen = _Seen()
        seen.mapped(rows, self._shm_device(mounts))
        self._last_mapped = (rows, seen.copy(), dict(self._foreign), set(mounts))
        return seen

    def _processes(
        self, seen: _Seen, owners: dict[int, int], facts: dict[int, native.ProcessFacts],
        changed: frozenset[int] | None,
    ) -> dict[int, PosixProcess]:  # fmt: skip
        """Name, uid and start of every mapper and holder, read in C (a few, or 1000 on the
        benchmark), but for those in facts (read in this round by the caller). A mapper of a
        reused join (its maps read the same bytes: the same mappings at the same addresses,
        so the same process, as the System V side takes an unchanged attacher) keeps last
        time's name and start, and its uid while the owner of its /proc/PID is the same:
        only within FACTS_KEPT_FOR of that read, since a forked child has its parent's
        mappings, so a pid reused by a sibling reads the same bytes. Where changed tells
        which processes ran since the last call, every other mapper or holder keeps its
        facts, however old (a name, a uid and a pid change only by running or ending:
        /proc/PID/comm takes a write from the process's own threads only)."""
        holders = {h.pid for held in seen.holders.values() for h in held}
        every = seen.mappers | holders
        last_known = self._last_processes
        if (
            every
            and changed is not None
            and changed.isdisjoint(every)
            and (last_known.keys() == every)
        ):
            # None of them ran, and each has its facts: the loop below would keep every
            # one (the same dict, in the same order). Exact, as that loop's rule.
            self._last_owners = owners
            return last_known
        users = sorted(every)
        now = time.monotonic()
        kept = {}
        if changed is not None:
            last = self._last_processes
            for pid in users:
                known = last.get(pid)
                if known is not None and pid not in changed:
                    kept[pid] = known
        else:
            recent = now - self._last_facts_at <= FACTS_KEPT_FOR
            last = self._last_processes if seen.reused and recent else {}
            for pid in seen.mappers:
                known = last.get(pid)
                if known is not None and owners.get(pid) == self._last_owners.get(pid):
                    kept[pid] = known  # its uid unchanged too (a setuid: read again)
        unread = []
        for pid in users:
            fact = facts.get(pid)
            if pid in kept:
                continue
            if fact is not None and not fact.errno:
                kept[pid] = PosixProcess(
                    pid, fact.comm.decode("utf-8", "replace"), fact.uid, start_time(fact.start)
                )
            else:
                unread.append(pid)
        for pid, fact in zip(unread, native.process_facts(unread), strict=True):
            if not fact.errno:
                kept[pid] = PosixProcess(
                    pid, fact.comm.decode("utf-8", "replace"), fact.uid, start_time(fact.start)
                )
        self._last_processes = {pid: kept[pid] for pid in users if pid in kept}
        self._last_owners = owners
        if not last:  # read now, every one: kept from this read on
            self._last_facts_at = now
        return self._last_processes

    def _build(
        self, taken_at: float, plan: ScanPlan, pids: list[int], maps: native.FileMapsScan,
        owners: dict[int, int], fd_rows: list[native.FdRow], fd_failures: dict[int, int],
        listed: _Listed,
        facts: dict[int, native.ProcessFacts], changed: frozenset[int] | None = None,
    ) -> PosixSnapshot:  # fmt: skip
        mounts, shm_dev, known = plan.mounts, plan.shm_dev, set(plan.fd_devices)
        seen = self._mapped(maps.rows, mounts)
        new = {dev for dev, _ in seen.mappings} - known  # a shm mount first seen in this scan
        if new:
            more, more_failures = native.scan_fds(pids, sorted(new))
            fd_rows = fd_rows + more
            fd_failures = {**fd_failures, **more_failures}
        for fd in fd_rows:
            key = (fd.dev, fd.inode)
            if key in listed or key in seen.mappings or fd.dev == shm_dev:
                seen.held(fd)
        last = self._last_join
        if (
            last is not None and last.rows is maps.rows and last.listed is listed
            and last.fd_rows == fd_rows and last.devices == mounts.keys()
        ):  # fmt: skip
            # The same maps rows, fds and listing: last time's objects, but those whose
            # state the scans do not show (semaphore values, unlisted objects' stats).
            keys, same = [o.key for o in last.objects], True
        else:
            self._mark_left(seen, listed)
            keys, same = sorted(set(listed) | set(seen.mappings) | set(seen.holders)), False
        objects = self._objects(keys, seen, listed, shm_dev, same)
        self._last_join = _Join(maps.rows, listed, fd_rows, set(mounts), tuple(objects))
        uninspected = {
            pid: number
            for pid, number in (
                *maps.failures.items(),
                *fd_failures.items(),
                *((pid, -uid) for pid, uid in owners.items() if uid < 0),
            )
            if number not in (0, errno.ESRCH)
        }  # fmt: skip  (a process whose uid is unknown is a blind spot for the leak rule too)
        processes = self._processes(seen, owners, facts, changed)
        uids = {uid for uid in owners.values() if uid >= 0}
        every_mount = (*mounts.values(), *(m for m in self._foreign.values() if m is not None))
        return PosixSnapshot(taken_at, tuple(objects), every_mount, processes, frozenset(uids),
                             uninspected, maps.reader, len(pids), self._hiding)  # fmt: skip

    def _objects(
        self, keys: list[_Key], seen: _Seen, listed: _Listed, shm_dev: int | None, same: bool
    ) -> list[PosixObject]:
        """The object of each key; one whose stat, mappings and holders are those it was
        made from is that object again (a semaphore: and its words, which its stat misses,
        read again every time). same: the rows and listing are last time's, so every one
        made from them holds."""
        objects = []
        before, made = self._made, {}
        states = self._listed_semaphores(listed)
        last = self._last_join
        if same and last is not None and len(before) == len(keys) and states == self._states:
            # Every key was made last time from these rows and listing (made holds only
            # keys of the last call, as many as now: all of them), and every semaphore's
            # words are those it was made with (each kept entry's words equalled the last
            # call's states, which equal these): the loop below would keep each object,
            # in this order. Exact, not a bound: no object is made of an unstated or
            # unlisted key (those are never in made, so the lengths differ).
            return list(last.objects)
        self._states = states
        for key in keys:
            kept = before.get(key)
            state = states.get(key)
            if kept is not None and same and kept[0][4] == state:
                made[key] = kept
                objects.append(kept[1])
                continue
            mappings, holders = seen.users(key)
            entry = listed.get(key)
            inputs = None if entry is None else (entry[0], entry[1], mappings, holders, state)
            if kept is not None and kept[0] == inputs:
                made[key] = kept
                objects.append(kept[1])
                continue
            found = self._object(key, entry, seen.names.get(key, b""), shm_dev, mappings,
                                 holders, state)  # fmt: skip
            if found is None and key not in listed:  # seen in use, but no stat: what is known
                found = seen.unstated(key)
            if found is not None:
                objects.append(found)
                if inputs is not None and (found.kind is not PosixKind.SEM or state is not None):
                    made[key] = (inputs, found)
        self._made = made
        return objects

    def _listed_semaphores(self, listed: _Listed) -> dict[_Key, SemState]:
        """The words of the listing's named semaphores (every key of the listing is an
        object's), read in one C loop (content.listed_semaphore_states; those it could not
        read by their path are read one by one in _object, through a mapper or holder).
        Which files they are is kept while the listing is the same dict."""
        if self._sem_files[0] is not listed:
            files = [
                (path, key, info.st_size)
                for key, (path, info) in listed.items()
                if _kind(path, self.shm_dir) is PosixKind.SEM
            ]
            self._sem_files = (listed, files)
        files = self._sem_files[1]
        return content.listed_semaphore_states(files) if files else {}

    def _mark_left(self, seen: _Seen, listed: _Listed) -> None:
        """Mark unlinked what left the listing since an earlier scan and is still in use: a
        carried row says what maps said when its process last ran, not an unlink since."""
        used = seen.mappings.keys() | seen.holders.keys()
        self._left = {key for key in (self._left | (self._listed_before - listed.keys()))
                      if key in used and key not in listed}  # fmt: skip
        seen.unlinked |= self._left
        self._listed_before = set(listed)

    def _list_shm_dir(self) -> _Listed:
        """Regular files directly in the shm directory (shm_open names have no '/'): last
        time's dict when the C read the same files with the same stats."""
        last = self._listing
        try:
            listing = native.list_files(self.shm_dir, capacity=len(self._listed) + 64, last=last)
        except OSError:
            return {}
        if listing is not last:
            directory = os.fsencode(self.shm_dir) + b"/"
            self._listed = {(info.st_dev, info.st_ino): (directory + name, info)
                            for name, info in listing.files}  # fmt: skip
            self._listing = listing
        return self._listed

    def _here(self, path: bytes) -> bytes:
        return os.fsencode(self.shm_dir) + b"/" + path.rpartition(b"/")[2]

    def _named_here(self, key: _Key, path: bytes) -> bool:
        """Whether our shm directory has the object under the name a mapper printed."""
        try:
            info = os.stat(self._here(path), follow_symlinks=False)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) == key

    def _shm_device(self, mounts: dict[int, ShmMount]) -> Callable[[int, int], bool]:
        """Whether a device (first seen in pid's maps) is a shm one: ours or another's."""
        return lambda dev, pid: dev in mounts or self._foreign_mount(dev, pid) is not None

    def _foreign_mount(self, dev: int, pid: int) -> ShmMount | None:
        if dev not in self._foreign:
            self._foreign[dev] = classify_device(dev, pid)
        return self._foreign[dev]

    def _in_users_layout(self, state: SemState, mappings: tuple[Mapping, ...]) -> SemState:
        """The words as read (glibc's layout, ours), unless a process that maps the
        semaphore runs another C library (a static or musl program, a container's): its
        words are then not glibc's to read, and the value is unknown rather than guessed."""
        for pid in dict.fromkeys(m.pid for m in mappings):
            if not self._libc.glibc(pid):
                return SemState(None, None, f"layout unknown: process {pid} does not use glibc")
        return state

    def _object(
        self, key: _Key, listed: tuple[bytes, native.FileStat] | None, seen_as: bytes,
        shm_dev: int | None, mappings: tuple[Mapping, ...], holders: tuple[Holder, ...],
        state: SemState | None = None,
    ) -> PosixObject | None:  # fmt: skip
        """state: a listed semaphore's words, read already (None: read them here)."""
        info: native.FileStat | os.stat_result
        if listed is not None:
            path, info = listed
            in_dir = True
        else:
            # Not a name in /dev/shm: stat the object itself through a mapper or holder.
            opened = content.stat_through(key, mappings, holders)
            if opened is None:
                return None  # gone since the scan, or no route to it (no CAP_SYS_ADMIN)
            info = opened
            path = seen_as
            in_dir = info.st_nlink > 0 and key[0] == shm_dev and self._named_here(key, path)
            if in_dir:
                path = self._here(path)  # created after the listing: our path for it
        kind = _kind(path, self.shm_dir)
        semaphore = state if listed is not None else None
        if kind is PosixKind.SEM and semaphore is None:
            semaphore = content.semaphore_state(
                key, path if in_dir else None, mappings, holders, info.st_size
            )
        if semaphore is not None and semaphore.value is not None:
            semaphore = self._in_users_layout(semaphore, mappings)
        return PosixObject(
            key[0], key[1], kind, path, in_dir or info.st_nlink > 0, in_dir, info.st_size,
            info.st_blocks * 512, info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode),
            info.st_atime, info.st_mtime, info.st_ctime, mappings, holders, semaphore,
        )  # fmt: skip


_ROOM = 1024
# How long the name and start of a mapper whose maps read the same bytes are kept without
# reading them again: a pid is reused only once the kernel's pids wrapped around (pid_max,
# 32768 at the least), which takes longer than this even on a host forking thousands a
# second; the TUI's idle views and the exporter's 30 s POSIX interval read them again.
FACTS_KEPT_FOR = 2.0
_ROOM_MAX = 1 << 16  # a guess stops here: past it the C counts, and one more pass reads all


def _room_for(rows: int) -> int:
    return min(max(_ROOM, rows + rows // 4), max(_ROOM_MAX, rows + 1))


def _owners(pids: Sequence[int]) -> dict[int, int]:
    """The effective uid of each pid (the owner of /proc/PID, as ps shows), or -errno.

    One stat a process: five times cheaper than reading /proc/PID/stat for all of them.
    """
    found = {}
    for pid in pids:
        try:
            found[pid] = os.stat(f"/proc/{pid}").st_uid
        except OSError as error:
            found[pid] = (
                -(error.errno or errno.EIO) if error.errno != errno.ENOENT else -errno.ESRCH
            )
    return found


class _Join(NamedTuple):
    """What the last snapshot's objects were made from (the same rows and listing: the
    same keys, so their order need not be made again)."""

    rows: list[native.FileMapRow]
    listed: _Listed
    fd_rows: list[native.FdRow]
    devices: set[int]
    objects: tuple[PosixObject, ...]


class _Seen:
    """What the maps and fd scans showed of each object, gathered by (device, inode)."""

    def __init__(self) -> None:
        self.mappings: dict[_Key, list[Mapping]] = defaultdict(list)
        self.holders: dict[_Key, list[Holder]] = defaultdict(list)
        self.names: dict[_Key, bytes] = {}  # the path a mapper or holder printed
        self.unlinked: set[_Key] = set()  # maps said " (deleted)", or an fd's nlink was 0
        self.sizes: dict[_Key, int] = {}  # the size mappings and fds show
        self.mappers: set[int] = set()  # the pids of the mappings
        self.reused = False  # the mappings are last scan's join (the maps read the same)

    def mapped(self, rows: Sequence[native.FileMapRow], is_shm: Callable[[int, int], bool]) -> None:
        """The rows on shm devices (is_shm asked once a device, with its first row's pid).

        One loop over plain locals: a scan has a row a mapping (9000 on the benchmark's
        workload), and a method call and attribute reads a row were a sixth of its cost."""
        mappings, names, unlinked, sizes = self.mappings, self.names, self.unlinked, self.sizes
        wanted: dict[int, bool] = {}
        for pid, start, end, writable, dev, inode, offset, deleted, _, name in rows:
            ok = wanted.get(dev)
            if ok is None:
                ok = wanted[dev] = is_shm(dev, pid)
            if not ok:
                continue
            key = (dev, inode)
            mappings[key].append(Mapping(pid, start, end, writable != 0, offset))
            if key not in names:
                names[key] = name
            if deleted:
                unlinked.add(key)
            extent = offset + end - start
            if extent > sizes.get(key, 0):
                sizes[key] = extent
        self.mappers = {m.pid for found in mappings.values() for m in found}

    def copy(self, *, reused: bool = False) -> _Seen:
        """A join to add fds to: held() adds to every dict but the mappings' (shared)."""
        other = _Seen()
        other.reused = reused
        other.mappings, other.mappers = self.mappings, self.mappers
        other.names, other.unlinked = dict(self.names), set(self.unlinked)
        other.sizes = dict(self.sizes)
        other.holders = defaultdict(list)
        return other

    def held(self, fd: native.FdRow) -> None:
        key = (fd.dev, fd.inode)
        self.holders[key].append(Holder(fd.pid, fd.fd, bool(fd.access & 1), bool(fd.access & 2)))
        self.names.setdefault(key, fd.name)
        if fd.nlink == 0:
            self.unlinked.add(key)
        self.sizes[key] = fd.size

    def users(self, key: _Key) -> tuple[tuple[Mapping, ...], tuple[Holder, ...]]:
        return tuple(self.mappings.get(key, ())), tuple(self.holders.get(key, ()))

    def unstated(self, key: _Key) -> PosixObject:
        """An object in use that could not be stat'ed: what the maps and fds showed of it."""
        path = self.names.get(key, b"")
        kind = _kind(path)
        sem = SemState(None, None, "unreadable: no route to it") if kind is PosixKind.SEM else None
        mappings, holders = self.users(key)
        return PosixObject(
            key[0], key[1], kind, path, key not in self.unlinked, False, self.sizes.get(key, 0),
            0, -1, -1, 0, 0.0, 0.0, 0.0, mappings, holders, sem, stat_known=False,
        )  # fmt: skip


def take_snapshot(pids: Sequence[int] | None = None) -> PosixSnapshot:
    """One POSIX scan with a fresh collector (a long-lived one caches foreign devices)."""
    with PosixCollector() as collector:
        return collector.snapshot(pids)
