"""The one importer of the compiled binding: errno becomes OSError, C rows named tuples."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar, cast

import msgspec

from shmtop.core.binding import rows
from shmtop.core.binding._native import ffi, lib

if TYPE_CHECKING:  # cffi makes FFI.CData at run time, on the first FFI()
    from _cffi_backend import buffer as CBuffer

    from shmtop.core.binding._native import CData, _ShmidDs

# The C interface this file was written for (SHMTOP_NATIVE_ABI in native_helpers.c). A
# compiled module left from an older checkout would fail later, on a missing function or
# a shifted row; refuse it at import instead, in one line that names the cure.
NATIVE_ABI = 13
_LONG = ffi.sizeof("long long")
_INT = ffi.sizeof("int")


def check_native_abi(found: int | None) -> None:
    """Raise ImportError unless the compiled module's interface number is NATIVE_ABI."""
    if found != NATIVE_ABI:
        raise ImportError(
            f"shmtop's compiled module is stale (interface {found}, this shmtop needs "
            f"{NATIVE_ABI}): reinstall shmtop (in a checkout: pip install -e . --no-deps)"
        )


check_native_abi(getattr(lib, "SHMTOP_NATIVE_ABI", None))

IPC_PRIVATE: int = lib.IPC_PRIVATE
IPC_CREAT: int = lib.IPC_CREAT
IPC_EXCL: int = lib.IPC_EXCL
IPC_NOWAIT: int = lib.IPC_NOWAIT
SHM_RDONLY: int = lib.SHM_RDONLY
SHM_DEST: int = lib.SHM_DEST
SHM_LOCKED: int = lib.SHM_LOCKED
SEM_UNDO: int = lib.SEM_UNDO
MSG_COPY: int = lib.MSG_COPY
MSG_NOERROR: int = lib.MSG_NOERROR

SEM_FIELDS: int = lib.SHMTOP_SEM_FIELDS
MSG_FIELDS: int = lib.SHMTOP_MSG_FIELDS
MAP_FIELDS: int = lib.SHMTOP_MAP_FIELDS
TASK_FIELDS: int = lib.SHMTOP_TASK_FIELDS


# ---- the rows the C loops write, SHMTOP_*_FIELDS numbers each, named in their order ----
# (defined in rows.py, which says why; named here too: native.SemRow ...)
SemRow = rows.SemRow
MsgRow = rows.MsgRow
MapRow = rows.MapRow
TaskRow = rows.TaskRow
SemValue = rows.SemValue
ProcessFacts = rows.ProcessFacts
FileMapRow = rows.FileMapRow
FdRow = rows.FdRow
MqAttr = rows.MqAttr


def check_row_widths(
    widths: Mapping[type[SemRow] | type[MsgRow] | type[MapRow] | type[TaskRow], int],
) -> None:
    """Raise ImportError unless each row type names as many fields as the C writes a row.

    The C and these names must agree, or every field after a change would be misnamed
    (_rows does not check each row's length, to stay fast): a compiled module built from
    other sources fails at import, like a stale interface number.
    """
    for row, width in widths.items():
        named = len(row._fields)
        if named != width:
            raise ImportError(
                f"shmtop's compiled module writes {width} numbers a {row.__name__}, this "
                f"shmtop names {named}: reinstall shmtop (in a checkout: pip install -e . "
                "--no-deps)"
            )


check_row_widths({SemRow: SEM_FIELDS, MsgRow: MSG_FIELDS, MapRow: MAP_FIELDS,
                  TaskRow: TASK_FIELDS})  # fmt: skip


def _fail(call: str) -> OSError:
    """The OSError subclass (PermissionError, FileNotFoundError...) for errno, naming the call."""
    number = ffi.errno
    return OSError(number, f"{call}: {os.strerror(number)}")


def c_key(key: int) -> int:
    """A key as key_t (a C int): shmtop prints keys unsigned, the kernel takes them signed."""
    key &= 0xFFFFFFFF
    return key - 2**32 if key >= 2**31 else key


def _check(result: int, call: str) -> int:
    if result < 0:
        raise _fail(call)
    return result


# ---- shared memory ----


def shmget(key: int, size: int, flags: int) -> int:
    """Create or look up a segment; returns its id."""
    return _check(lib.shmget(c_key(key), size, flags), f"shmget(key={key:#x})")


def shmat(shmid: int, flags: int = SHM_RDONLY) -> CData:
    """Attach a segment (read-only unless told); returns the cffi pointer."""
    address = lib.shmat(shmid, ffi.NULL, flags)
    if int(ffi.cast("intptr_t", address)) == -1:
        raise _fail(f"shmat(shmid={shmid})")
    return address


def address_of(pointer: CData) -> int:
    """A pointer's address as a number (as /proc/PID/maps prints it)."""
    return int(ffi.cast("uintptr_t", pointer))


def shmdt(address: CData) -> None:
    """Detach what shmat attached."""
    _check(lib.shmdt(address), "shmdt")


@contextmanager
def attached(shmid: int, *, readonly: bool = True) -> Iterator[CData]:
    """Attach for the length of a with-block; always detach, also on errors."""
    address = shmat(shmid, SHM_RDONLY if readonly else 0)
    try:
        yield address
    finally:
        shmdt(address)


def copy_out(address: CData, offset: int, length: int) -> bytes:
    """Copy length bytes at offset out of an attached segment (reads, never writes)."""
    return bytes(ffi.buffer(ffi.cast("char *", address) + offset, length))


def memory(address: CData, size: int) -> CBuffer:
    """A buffer over size bytes of an attachment, writable if the attachment is.

    For programs that own a segment (the demo, tests); the viewer never writes.
    """
    return ffi.buffer(ffi.cast("char *", address), size)


def read_segment(shmid: int, offset: int, length: int) -> bytes:
    """Copy bytes out of a segment attached read-only for the call."""
    with attached(shmid) as address:
        return copy_out(address, offset, length)


def shm_rmid(shmid: int) -> None:
    """IPC_RMID: destroy now, or mark for destruction while attached."""
    _check(lib.shmctl(shmid, lib.IPC_RMID, ffi.NULL), f"shmctl(shmid={shmid}, IPC_RMID)")


class ShmStat(msgspec.Struct, frozen=True, gc=False):
    """What IPC_STAT/SHM_STAT* says of one segment."""

    id: int
    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    size: int
    atime: int
    dtime: int
    ctime: int
    cpid: int
    lpid: int
    nattch: int


def _shm_stat(ds: _ShmidDs, shmid: int) -> ShmStat:
    perm = ds.shm_perm
    return ShmStat(
        shmid, lib.shmtop_perm_key(ffi.addressof(perm)) & 0xFFFFFFFF, perm.uid, perm.gid,
        perm.cuid, perm.cgid, perm.mode, ds.shm_segsz, ds.shm_atime, ds.shm_dtime,
        ds.shm_ctime, ds.shm_cpid, ds.shm_lpid, ds.shm_nattch,
    )  # fmt: skip


def shm_stat(shmid: int) -> ShmStat:
    """IPC_STAT of one segment (needs read permission)."""
    ds = ffi.new("struct shmid_ds *")
    _check(lib.shmctl(shmid, lib.IPC_STAT, ds), f"shmctl(shmid={shmid}, IPC_STAT)")
    return _shm_stat(ds, shmid)


def shm_stat_all(*, any_permission: bool = True) -> list[ShmStat]:
    """Every segment by index, SHM_STAT_ANY (or SHM_STAT: only readable ones)."""
    info = ffi.new("struct shm_info *")
    highest = _check(
        lib.shmctl(0, lib.SHM_INFO, ffi.cast("struct shmid_ds *", info)), "shmctl(SHM_INFO)"
    )
    command = lib.SHM_STAT_ANY if any_permission else lib.SHM_STAT
    ds = ffi.new("struct shmid_ds *")
    found = []
    for index in range(highest + 1):
        shmid = lib.shmctl(index, command, ds)
        if shmid >= 0:
            found.append(_shm_stat(ds, shmid))
    return found


def shm_limits() -> tuple[dict[str, int], dict[str, int]]:
    """(IPC_INFO limits, SHM_INFO usage) for shared memory; sizes of usage in pages."""
    limits = ffi.new("struct shminfo *")
    _check(lib.shmctl(0, lib.IPC_INFO, ffi.cast("struct shmid_ds *", limits)), "shmctl(IPC_INFO)")
    usage = ffi.new("struct shm_info *")
    _check(lib.shmctl(0, lib.SHM_INFO, ffi.cast("struct shmid_ds *", usage)), "shmctl(SHM_INFO)")
    return (
        {name: getattr(limits, name) for name in ("shmmax", "shmmin", "shmmni", "shmall")},
        {name: getattr(usage, name) for name in ("used_ids", "shm_tot", "shm_rss", "shm_swp")},
    )


class ShmStateLook:
    """Every segment's shmid_ds by SHM_STAT_ANY in one C loop (shm_state_helpers.c), told
    apart from a kept look in C: look() says whether the rows are exactly the kept ones,
    rows() gives this look's rows (in /proc/sysvipc/shm's order of columns up to ctime:
    STATE_COLUMNS) and keep() keeps this look for the next. One caller at a time."""

    FIELDS: int = lib.SHMTOP_SHM_STATE_FIELDS
    STATE_COLUMNS = ("key", "shmid", "perms", "size", "cpid", "lpid", "nattch",
                     "uid", "gid", "cuid", "cgid", "atime", "dtime", "ctime")  # fmt: skip

    def __init__(self) -> None:
        self._cap = 0
        self._out = self._kept = ffi.NULL
        self._rows = 0
        self._kept_rows = -1  # nothing kept
        self._same = ffi.new("int *")

    def look(self) -> bool:
        """Read every segment again; True when the rows are exactly the kept look's."""
        while True:
            if self._out == ffi.NULL:
                self._out = ffi.new("long long[]", max(1, self._cap) * self.FIELDS)
            found = lib.shmtop_shm_state(
                self._out, self._cap, self._kept, self._kept_rows, self._same
            )
            if found < 0:
                raise OSError(-found, f"shmctl(IPC_INFO): {os.strerror(-found)}")
            if found <= self._cap:
                self._rows = found
                return bool(self._same[0])
            self._cap = 2 * found + 64  # some room for segments made while we look
            self._out = ffi.NULL

    def rows(self) -> list[int]:
        """The last look's rows, flat (FIELDS numbers a segment)."""
        return _ints(self._out, self._rows * self.FIELDS)

    def keep(self) -> None:
        """The last look is the one the next look() compares with."""
        if self._kept == ffi.NULL or len(self._kept) < len(self._out):
            self._kept = ffi.new("long long[]", len(self._out))
        ffi.memmove(self._kept, self._out, self._rows * self.FIELDS * ffi.sizeof("long long"))
        self._kept_rows = self._rows

    def forget(self) -> None:
        """Nothing kept: the next look() is never the same."""
        self._kept_rows = -1


# ---- semaphores ----


def semget(key: int, nsems: int, flags: int) -> int:
    """Create or look up a semaphore set; returns its id."""
    return _check(lib.semget(c_key(key), nsems, flags), f"semget(key={key:#x})")


def sem_rmid(semid: int) -> None:
    """IPC_RMID: the set is gone at once; blocked callers get EIDRM."""
    _check(lib.shmtop_semctl_val(semid, 0, lib.IPC_RMID, 0), f"semctl(semid={semid}, IPC_RMID)")


class SemStat(msgspec.Struct, frozen=True, gc=False):
    """What IPC_STAT says of one semaphore set."""

    id: int
    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    nsems: int
    otime: int
    ctime: int


def sem_stat(semid: int) -> SemStat:
    """IPC_STAT of one set by id (needs read permission)."""
    ds = ffi.new("struct semid_ds *")
    _check(lib.shmtop_semctl_ds(semid, lib.IPC_STAT, ds), f"semctl(semid={semid}, IPC_STAT)")
    perm = ds.sem_perm
    return SemStat(
        semid, lib.shmtop_perm_key(ffi.addressof(perm)) & 0xFFFFFFFF, perm.uid, perm.gid,
        perm.cuid, perm.cgid, perm.mode, ds.sem_nsems, ds.sem_otime, ds.sem_ctime,
    )  # fmt: skip


def sem_getall(semid: int, nsems: int) -> list[int]:
    values = ffi.new("unsigned short[]", max(nsems, 1))
    _check(lib.shmtop_semctl_array(semid, lib.GETALL, values), f"semctl(semid={semid}, GETALL)")
    return _ints(values, nsems)


def sem_setall(semid: int, values: Sequence[int]) -> None:
    array = ffi.new("unsigned short[]", list(values))
    _check(lib.shmtop_semctl_array(semid, lib.SETALL, array), f"semctl(semid={semid}, SETALL)")


def sem_getval(semid: int, semnum: int) -> int:
    return _check(lib.shmtop_semctl_val(semid, semnum, lib.GETVAL, 0), f"semctl(semid={semid})")


def sem_setval(semid: int, semnum: int, value: int) -> None:
    _check(lib.shmtop_semctl_val(semid, semnum, lib.SETVAL, value), f"semctl(semid={semid})")


def sem_counts(semid: int, semnum: int) -> tuple[int, int, int]:
    """(GETNCNT, GETZCNT, GETPID) of one semaphore."""
    call = f"semctl(semid={semid}, semnum={semnum})"
    return (
        _check(lib.shmtop_semctl_val(semid, semnum, lib.GETNCNT, 0), call),
        _check(lib.shmtop_semctl_val(semid, semnum, lib.GETZCNT, 0), call),
        _check(lib.shmtop_semctl_val(semid, semnum, lib.GETPID, 0), call),
    )


def semop(semid: int, operations: Sequence[tuple[int, int, int]]) -> None:
    """Apply (sem_num, sem_op, sem_flg) operations atomically."""
    sops = ffi.new("struct sembuf[]", len(operations))
    for slot, (num, op, flags) in zip(sops, operations, strict=True):
        slot.sem_num, slot.sem_op, slot.sem_flg = num, op, flags
    _check(lib.semop(semid, sops, len(operations)), f"semop(semid={semid})")


def sem_table() -> list[SemRow]:
    """Every set, read with SEM_STAT_ANY in one C loop."""
    return _table(lib.shmtop_sem_table, lib.SEM_STAT_ANY, SemRow, "semctl(SEM_STAT_ANY)")


def sem_values_flat(sets: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """For each (semid, nsems): 4 numbers a semaphore (value, ncnt, zcnt, pid), all sets
    packed in one list; and one errno a set (0 = read). A set's size never changes, so
    an id whose set no longer has nsems semaphores was removed and reused: EIDRM."""
    if not sets:
        return [], []
    ids = ffi.new("int[]", [semid for semid, _ in sets])
    sizes = ffi.new("int[]", [nsems for _, nsems in sets])
    total = 4 * sum(nsems for _, nsems in sets)
    out = ffi.new("long long[]", max(total, 1))
    errs = ffi.new("int[]", len(sets))
    lib.shmtop_sem_values(ids, sizes, len(sets), out, errs, ffi.NULL, 0, ffi.NULL)
    return _ints(out, total), _ints(errs, len(sets))


class SemValueReader:
    """sem_values_flat() again and again (a Collector's), each semaphore's pid read again
    only when it may have changed: GETPID is a third of the calls, and a set nobody
    touches keeps its sempid (native_helpers.c, shmtop_sem_values, says why that is exact).

    Its pids are kept when the set's otime and ctime are those they were read under and
    both are older than the second of that read, less one: the kernel writes the time of
    every change of a sempid in whole seconds, so one after the read shows as a later
    second. Only a wall clock set back could hide one (a change stamped with an earlier
    second): when the clock moved back against the monotonic one since the last read,
    every pid is read again. The same sets in the same order keep the buffers (and pids);
    any other list starts anew. One caller at a time.

    read(sets, unsettled, sleepers): unsettled (None: read every count) is the semids some
    task that ran since the last read sleeps or slept in (core/snapshot/activity.py), and
    sleepers how many tasks were seen asleep in each set: every other set keeps its ncnt
    and zcnt under the rule that keeps its pids, if they add up to its sleepers."""

    # How far the wall clock may seem to go back against the monotonic one (two reads
    # that are not simultaneous) before a step back is assumed: below the second kept.
    CLOCK_SLACK = 0.25

    def __init__(self) -> None:
        self._sets: list[tuple[int, int]] | None = None
        self._buffers: tuple[CData, CData, CData, CData, CData] | None = None
        self._total = 0
        self._read_at = 0.0  # wall clock of the last read
        self._offset = 0.0  # wall minus monotonic then
        self._raw = b""  # the last read's numbers and errnos, as C wrote them
        self._last: tuple[list[int], list[int]] = ([], [])

    def read(
        self,
        sets: Sequence[tuple[int, int]],
        unsettled: Collection[int] | None = None,
        sleepers: Mapping[int, int] | None = None,
    ) -> tuple[list[int], list[int]]:
        """As sem_values_flat(sets)."""
        if not sets:
            self._sets = None
            return [], []
        wall, monotonic = time.time(), time.monotonic()
        offset = wall - monotonic
        keep_before = 0
        wanted = list(sets)
        if self._buffers is not None and self._sets == wanted:
            if offset >= self._offset - self.CLOCK_SLACK:
                keep_before = int(self._read_at) - 1
        else:
            total = 4 * sum(nsems for _, nsems in sets)
            self._buffers = (
                ffi.new("int[]", [semid for semid, _ in sets]),
                ffi.new("int[]", [nsems for _, nsems in sets]),
                ffi.new("long long[]", max(total, 1)),
                ffi.new("int[]", len(sets)),
                ffi.new("long long[]", [-1] * (2 * len(sets))),  # no pids read yet
            )
            self._sets, self._total = wanted, total
            self._raw = b""  # (the last lists were of other sets)
        self._read_at, self._offset = wall, offset
        ids, sizes, out, errs, stamps = self._buffers
        expected = ffi.NULL
        if unsettled is not None and keep_before:
            seen = sleepers or {}
            expected = ffi.new(
                "int[]", [-1 if i in unsettled else seen.get(i, 0) for i, _ in wanted]
            )
        lib.shmtop_sem_values(ids, sizes, len(sets), out, errs, stamps, keep_before, expected)
        # Numbers byte for byte the last read's give back the very lists of last time: no
        # list of 4 ints a semaphore made, and the caller knows them unchanged by identity.
        raw = bytes(ffi.buffer(out, self._total * _LONG)) + bytes(
            ffi.buffer(errs, len(sets) * _INT)
        )
        if raw != self._raw:
            self._raw, self._last = raw, (_ints(out, self._total), _ints(errs, len(sets)))
        return self._last


class TaskTable:
    """The C table of every task and its schedstat (activity_helpers.c), kept between
    refreshes; core/snapshot/activity.py makes its report. One caller at a time."""

    RAN: int = lib.SHMTOP_ACTIVITY_RAN
    NEW: int = lib.SHMTOP_ACTIVITY_NEW
    GONE: int = lib.SHMTOP_ACTIVITY_GONE
    FIRST: int = lib.SHMTOP_ACTIVITY_FIRST
    # Reasons after which the events may miss a process that changed (nothing was compared).
    TOLD_NOTHING: frozenset[int] = frozenset((
        lib.SHMTOP_ACTIVITY_FIRST, lib.SHMTOP_ACTIVITY_SCHED_OFF, lib.SHMTOP_ACTIVITY_NO_MEMORY,
        lib.SHMTOP_ACTIVITY_NO_PROC,
    ))  # fmt: skip
    # Why a refresh's evidence is incomplete (0: it is complete).
    REASONS: Mapping[int, str] = {
        lib.SHMTOP_ACTIVITY_FIRST: "first look",
        lib.SHMTOP_ACTIVITY_SCHED_OFF: "sched_info is off",
        lib.SHMTOP_ACTIVITY_UNREADABLE: "a task's /proc files are unreadable",
        lib.SHMTOP_ACTIVITY_UNSURE: "a task sleeps in a call of another ABI",
        lib.SHMTOP_ACTIVITY_TOO_MANY: "too many tasks ran",
        lib.SHMTOP_ACTIVITY_NO_MEMORY: "out of memory",
        lib.SHMTOP_ACTIVITY_NO_PROC: "/proc cannot be listed",
    }

    def __init__(self) -> None:
        self._table = ffi.gc(lib.shmtop_activity_new(), lib.shmtop_activity_free)
        if self._table == ffi.NULL:
            raise MemoryError("shmtop_activity_new")

    def close(self) -> None:
        """Free the table now, with the schedstat files it keeps open (else when collected);
        a closed table starts again empty: its next refresh is a first look."""
        ffi.release(self._table)
        self._table = ffi.gc(lib.shmtop_activity_new(), lib.shmtop_activity_free)

    def refresh(
        self,
        semops: bool,
        cap: int,
        kept_files: tuple[int, int] = (0, 0),
        vouched: Collection[int] = (),
    ) -> tuple[int, list[int], list[int]]:
        """(reason, events as flat (tgid, flags) pairs, semids to read again). semops:
        learn the semaphore set each task that ran sleeps in (at most cap syscall reads);
        kept_files (most, lowest fd): schedstat files kept open, at fds from the lowest
        up (a kept one reads cheaper); vouched: processes whose unreadable syscall files
        do not make the evidence incomplete."""
        ordered = sorted(vouched)
        most, floor = kept_files
        reason = lib.shmtop_activity_refresh(
            self._table, int(semops), cap, most, floor,
            ffi.new("int[]", ordered) if ordered else ffi.NULL, len(ordered),
        )  # fmt: skip
        events = self._fetch(lib.shmtop_activity_events, 2)
        semids = self._fetch(lib.shmtop_activity_semids, 1) if semops else []
        return reason, events, semids

    def _fetch(self, call: Callable[[CData, CData, int], int], width: int) -> list[int]:
        count = call(self._table, ffi.NULL, 0)
        if not count:
            return []
        out = ffi.new("int[]", width * count)
        call(self._table, out, count)
        return _ints(out, width * count)

    def sleepers(self) -> list[int]:
        """The tasks seen asleep in semop: flat (semid, IPC namespace inode or 0) pairs."""
        count = lib.shmtop_activity_sleepers(self._table, ffi.NULL, 0)
        if not count:
            return []
        out = ffi.new("long long[]", 2 * count)
        lib.shmtop_activity_sleepers(self._table, out, count)
        return _ints(out, 2 * count)

    def listed(self) -> list[int] | None:
        """The last refresh's listing of /proc (tgids, ascending), or None where it made
        none: a caller that lists /proc for the same round takes this one."""
        count = lib.shmtop_activity_listed(self._table, ffi.NULL, 0)
        if count < 0:
            return None
        out = ffi.new("int[]", max(count, 1))
        lib.shmtop_activity_listed(self._table, out, count)
        return _ints(out, count)

    @property
    def tasks(self) -> int:
        """How many tasks the table holds."""
        return lib.shmtop_activity_tasks(self._table)


def sem_values(sets: Sequence[tuple[int, int]]) -> list[list[SemValue] | OSError]:
    """The semaphores of each (semid, nsems); OSError if unreadable."""
    flat, errs = sem_values_flat(sets)
    result: list[list[SemValue] | OSError] = []
    at = 0
    for (semid, nsems), number in zip(sets, errs, strict=True):
        if number:
            result.append(OSError(number, f"semctl(semid={semid}): {os.strerror(number)}"))
        else:
            result.append([
                SemValue(flat[i], flat[i + 1], flat[i + 2], flat[i + 3])
                for i in range(at, at + 4 * nsems, 4)
            ])  # fmt: skip
        at += 4 * nsems
    return result


def sem_limits() -> tuple[dict[str, int], dict[str, int]]:
    """(IPC_INFO limits, SEM_INFO usage: sets in semusz, semaphores in semaem)."""
    info = ffi.new("struct seminfo *")
    _check(lib.shmtop_semctl_info(lib.IPC_INFO, info), "semctl(IPC_INFO)")
    limits = {name: getattr(info, name) for name in ("semmni", "semmns", "semmsl", "semopm")}
    limits["semvmx"] = info.semvmx
    _check(lib.shmtop_semctl_info(lib.SEM_INFO, info), "semctl(SEM_INFO)")
    return limits, {"sets": info.semusz, "semaphores": info.semaem}


# ---- message queues ----


def msgget(key: int, flags: int) -> int:
    """Create or look up a queue; returns its id."""
    return _check(lib.msgget(c_key(key), flags), f"msgget(key={key:#x})")


def msg_rmid(msqid: int) -> None:
    """IPC_RMID: the queue and its messages are gone at once."""
    _check(lib.msgctl(msqid, lib.IPC_RMID, ffi.NULL), f"msgctl(msqid={msqid}, IPC_RMID)")


class MsgStat(msgspec.Struct, frozen=True, gc=False):
    """What IPC_STAT says of one queue."""

    id: int
    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    qnum: int
    lspid: int
    lrpid: int
    stime: int
    rtime: int
    ctime: int


def msg_stat(msqid: int) -> MsgStat:
    """IPC_STAT of one queue by id (needs read permission)."""
    ds = ffi.new("struct msqid_ds *")
    _check(lib.msgctl(msqid, lib.IPC_STAT, ds), f"msgctl(msqid={msqid}, IPC_STAT)")
    perm = ds.msg_perm
    return MsgStat(
        msqid, lib.shmtop_perm_key(ffi.addressof(perm)) & 0xFFFFFFFF, perm.uid, perm.gid,
        perm.cuid, perm.cgid, perm.mode, ds.msg_qnum, ds.msg_lspid, ds.msg_lrpid, ds.msg_stime,
        ds.msg_rtime, ds.msg_ctime,
    )  # fmt: skip


def msgsnd(msqid: int, mtype: int, payload: bytes, flags: int = IPC_NOWAIT) -> None:
    buffer = ffi.new("char[]", ffi.sizeof("long") + len(payload))
    ffi.cast("long *", buffer)[0] = mtype
    ffi.memmove(buffer + ffi.sizeof("long"), payload, len(payload))
    _check(lib.msgsnd(msqid, buffer, len(payload), flags), f"msgsnd(msqid={msqid})")


def msgrcv(msqid: int, size: int, mtype: int, flags: int) -> tuple[int, bytes]:
    """Receive (or with MSG_COPY, copy message number mtype); returns (type, bytes)."""
    buffer = ffi.new("char[]", ffi.sizeof("long") + size)
    got = lib.msgrcv(msqid, buffer, size, mtype, flags)
    if got < 0:
        raise _fail(f"msgrcv(msqid={msqid})")
    return ffi.cast("long *", buffer)[0], bytes(ffi.buffer(buffer + ffi.sizeof("long"), got))


def msg_table() -> list[MsgRow]:
    """Every queue, read with MSG_STAT_ANY in one C loop."""
    return _table(lib.shmtop_msg_table, lib.MSG_STAT_ANY, MsgRow, "msgctl(MSG_STAT_ANY)")


def msg_limits() -> tuple[dict[str, int], dict[str, int]]:
    """(IPC_INFO limits, MSG_INFO usage: queues, messages, bytes)."""
    info = ffi.new("struct msginfo *")
    as_ds = ffi.cast("struct msqid_ds *", info)
    _check(lib.msgctl(0, lib.IPC_INFO, as_ds), "msgctl(IPC_INFO)")
    limits = {name: getattr(info, name) for name in ("msgmni", "msgmax", "msgmnb")}
    _check(lib.msgctl(0, lib.MSG_INFO, as_ds), "msgctl(MSG_INFO)")
    return limits, {"queues": info.msgpool, "messages": info.msgmap, "bytes": info.msgtql}


# ---- whole tables, in C ----


_Row = TypeVar("_Row", bound=tuple[int, ...])
_NamedRow = TypeVar("_NamedRow", SemRow, MsgRow)


def _table(
    loop: Callable[[int, CData, int], int], command: int, row: type[_NamedRow], call: str
) -> list[_NamedRow]:
    width = len(row._fields)
    capacity = 256
    while True:
        out = ffi.new("long long[]", capacity * width)
        rows = loop(command, out, capacity)
        if rows < 0:
            raise OSError(-rows, f"{call}: {os.strerror(-rows)}")
        if rows < capacity:
            return _rows(out, rows, width, row)
        capacity *= 4  # objects appeared between SEM_INFO and the loop, or many


class TableReader(Generic[_NamedRow]):
    """_table() again and again (a Collector's sets' or queues' table): the buffer is kept at
    the size last needed (a first read starts at 256 rows and goes again, from the start,
    each time that is too few), and a table whose numbers are byte for byte the last one's
    gives back the very list of last time (its callers then know it unchanged by identity,
    with no NamedTuple made a row). One caller at a time."""

    def __init__(
        self, loop: Callable[[int, CData, int], int], command: int, row: type[_NamedRow],
        call: str,
    ) -> None:  # fmt: skip
        self._loop, self._command, self._call = loop, command, call
        self._row: type[_NamedRow] = row
        self._width = len(row._fields)
        self._capacity = 256
        self._out = ffi.new("long long[]", self._capacity * self._width)
        self._raw = b""
        self._last: list[_NamedRow] = []

    def read(self) -> list[_NamedRow]:
        """The rows, as _table() gives them."""
        while True:
            rows = self._loop(self._command, self._out, self._capacity)
            if rows < 0:
                raise OSError(-rows, f"{self._call}: {os.strerror(-rows)}")
            if rows < self._capacity:
                break
            self._capacity *= 4  # objects appeared since, or many
            self._out = ffi.new("long long[]", self._capacity * self._width)
        raw = bytes(ffi.buffer(self._out, rows * self._width * _LONG))
        if raw != self._raw:
            self._raw, self._last = raw, _rows(self._out, rows, self._width, self._row)
        return self._last


def sem_table_reader() -> TableReader[SemRow]:
    """A TableReader of sem_table()'s rows (SemRow)."""
    return TableReader(lib.shmtop_sem_table, lib.SEM_STAT_ANY, SemRow, "semctl(SEM_STAT_ANY)")


def msg_table_reader() -> TableReader[MsgRow]:
    """A TableReader of msg_table()'s rows (MsgRow)."""
    return TableReader(lib.shmtop_msg_table, lib.MSG_STAT_ANY, MsgRow, "msgctl(MSG_STAT_ANY)")


def _ints(out: CData, count: int) -> list[int]:
    """The first count numbers of a C integer array (ffi.unpack gives a list for those)."""
    return cast(list[int], ffi.unpack(out, count))


def _rows(out: CData, rows: int, width: int, row: type[_Row]) -> list[_Row]:
    """rows rows of width numbers each, as row (a NamedTuple of width fields, or tuple).

    zip cuts the flat list into tuples and tuple.__new__ retypes them, both in C: a 4000-row
    table costs ~10% more than plain tuples, where a _make per row would double it (and its
    length check is the import-time width check above).
    """
    flat = _ints(out, rows * width)
    tuples = zip(*[iter(flat)] * width, strict=True)  # len(flat) is a multiple of width
    return cast(list[_Row], list(map(tuple.__new__, repeat(row), tuples)))


def parse_columns(text: bytes, bases: Sequence[int]) -> list[tuple[int, ...]]:
    """Numbers of a /proc/sysvipc table below its header, in C; bases per column."""
    width = len(bases)
    capacity = text.count(b"\n") + 1
    out = ffi.new("long long[]", capacity * width)
    rows = lib.shmtop_parse_columns(text, len(text), ffi.new("int[]", list(bases)), width,
                                    out, capacity)  # fmt: skip
    if rows < 0:
        raise ValueError("a /proc/sysvipc line has fewer numbers than its header")
    return _rows(out, rows, width, tuple)


# The two ways scan_maps reads a process's mappings, as MapsScan.reader names them.
PROCMAP_QUERY = "procmap_query"  # the PROCMAP_QUERY ioctl (Linux >= 6.11)
TEXT = "text"  # parsing /proc/PID/maps line by line
READERS = (PROCMAP_QUERY, TEXT)
PROCMAP_QUERY_ENV = "SHMTOP_PROCMAP_QUERY"  # "0": always the text reader
MAPS_LINE_MAX: int = lib.SHMTOP_MAPS_LINE_MAX  # longer maps lines are skipped
MAPS_READ: int = lib.SHMTOP_MAPS_READ  # bytes the text reader asks a read() for

# Whether scans try the ioctl first: read once from the environment, then
# changed only by use_procmap_query() or by a scan that found the ioctl missing.
# Each scan gets it as an argument (the C keeps no state between calls), so
# concurrent scans need no lock: a bool assignment is atomic under the GIL.
_procmap_query: bool = os.environ.get(PROCMAP_QUERY_ENV, "") != "0"


class MapsScan(msgspec.Struct, frozen=True, gc=False):
    """System V mappings found in /proc/PID/maps."""

    rows: list[MapRow]
    failures: dict[int, int]  # pid -> errno for processes that could not be read
    scanned: int  # how many of the pids given were looked at
    reader: str  # PROCMAP_QUERY or TEXT: how the last pid was read (TEXT once it fell back)


def _reader_asked(reader: str | None) -> bool:
    """Whether a scan tries PROCMAP_QUERY first: reader's choice, None the process-wide one."""
    if reader is None:
        return _procmap_query
    if reader in READERS:
        return reader == PROCMAP_QUERY
    raise ValueError(f"unknown maps reader {reader!r}: choose one of {READERS}")


def _reader_used(asked: bool, used: int, reader: str | None) -> str:
    """The reader a scan ended with; one that found the ioctl missing turns it off for later
    scans of the process-wide choice (they go straight to text)."""
    global _procmap_query
    if asked and not used and reader is None:
        _procmap_query = False
    return PROCMAP_QUERY if used else TEXT


def scan_maps(pids: Sequence[int], want: int = -1, *, reader: str | None = None) -> MapsScan:
    """Read the maps of pids in order, stopping once `want` mappings are found (-1: all).

    reader: PROCMAP_QUERY (falls back to TEXT by itself where the kernel lacks the
    ioctl) or TEXT; None: the process-wide choice (see use_procmap_query).
    """
    asked = _reader_asked(reader)
    pid_array = ffi.new("int[]", list(pids))
    status = ffi.new("int[]", max(len(pids), 1))
    scanned = ffi.new("int *")
    used = ffi.new("int *")
    capacity = 4096
    while True:
        out = ffi.new("long long[]", capacity * MAP_FIELDS)
        used[0] = int(asked)
        rows = lib.shmtop_scan_maps(
            pid_array, len(pids), want, out, capacity, status, scanned, used
        )
        if rows < 0:
            raise OSError(-rows, f"reading /proc/PID/maps: {os.strerror(-rows)}")
        if rows < capacity:
            break
        capacity *= 4
    failures = {pids[i]: status[i] for i in range(scanned[0]) if status[i]}
    return MapsScan(_rows(out, rows, MAP_FIELDS, MapRow), failures, scanned[0],
                    _reader_used(asked, used[0], reader))  # fmt: skip


def use_procmap_query(enabled: bool) -> None:
    """Whether scans may use the PROCMAP_QUERY ioctl (they fall back to text by themselves)."""
    global _procmap_query
    _procmap_query = enabled


def procmap_query_enabled() -> bool:
    """Whether scans try PROCMAP_QUERY first (False: SHMTOP_PROCMAP_QUERY=0, or found missing)."""
    return _procmap_query


def parse_maps_fd(fd: int, pid: int, *, chunk: int = 0, capacity: int = 4096) -> list[MapRow]:
    """The scan's text reader on maps text read from fd (up to EOF), rows as scan_maps gives
    them with pid filled in; at most capacity rows. chunk > 0: ask each read() for at most
    that many bytes (0: the scan's read size)."""
    out = ffi.new("long long[]", max(capacity, 1) * MAP_FIELDS)
    rows = lib.shmtop_parse_maps_fd(fd, pid, out, capacity, chunk)
    if rows < 0:
        raise OSError(-rows, f"reading maps text from fd {fd}: {os.strerror(-rows)}")
    return _rows(out, rows, MAP_FIELDS, MapRow)


def parse_stat(text: bytes) -> tuple[int, bytes, int]:
    """process_facts' parser on the text of a /proc/PID/stat: (errno, comm, start ticks);
    errno is EPROTO, with comm b"" and start 0, for text that is not a whole stat line."""
    name = ffi.new("char[]", lib.SHMTOP_COMM_SIZE)
    start = ffi.new("long long *")
    # An exact-size copy: the C must not rely on the NUL cffi would add after bytes.
    buffer = ffi.new("char[]", max(len(text), 1))
    ffi.memmove(buffer, text, len(text))
    number = lib.shmtop_parse_stat(buffer, len(text), name, start)
    return number, cast(bytes, ffi.string(name)), start[0]


TITLE_SIZE: int = lib.SHMTOP_TITLE_SIZE


def process_facts(
    pids: Sequence[int], *, titles: bool = False, known: Mapping[int, int] | None = None
) -> list[ProcessFacts]:
    """For each pid (errno, comm bytes, start time in clock ticks since boot, effective uid,
    title); errno is 0 when read, ESRCH when the process is gone. With titles, the title is
    the first TITLE_SIZE bytes of /proc/PID/cmdline (b"" when empty or unreadable), read in
    the same loop, except for a pid whose start ticks `known` holds (its title is known):
    there, and without titles, it is None."""
    if not pids:
        return []
    count = len(pids)
    out = ffi.new("long long[]", 3 * count)
    size = lib.SHMTOP_COMM_SIZE
    names = ffi.new("char[]", size * count)
    title_buffer, lengths, known_ticks = ffi.NULL, ffi.NULL, ffi.NULL
    if titles:
        title_buffer = ffi.new("char[]", TITLE_SIZE * count)
        lengths = ffi.new("int[]", count)
        if known:
            known_ticks = ffi.new("long long[]", [known.get(pid, -1) for pid in pids])
    lib.shmtop_process_facts(
        ffi.new("int[]", list(pids)), count, known_ticks, out, names, title_buffer, lengths
    )
    flat = _ints(out, 3 * count)
    raw = cast(bytes, ffi.unpack(names, size * count))
    read: list[bytes | None] = [None] * count
    if titles:
        text = cast(bytes, ffi.unpack(title_buffer, TITLE_SIZE * count))
        for i, length in enumerate(_ints(lengths, count)):
            if length != -1:
                read[i] = text[TITLE_SIZE * i : TITLE_SIZE * i + length] if length > 0 else b""
    return [
        ProcessFacts(flat[3 * i + 2], raw[size * i : size * (i + 1)].split(b"\0", 1)[0],
                     flat[3 * i], flat[3 * i + 1], read[i])
        for i in range(count)
    ]  # fmt: skip


def ipc_namespaces(pids: Sequence[int]) -> list[int | None]:
    """The inode of each pid's IPC namespace (/proc/PID/ns/ipc), or None where it cannot be
    told (gone, or not ours to read), in one C loop."""
    if not pids:
        return []
    out = ffi.new("long long[]", len(pids))
    lib.shmtop_ipc_namespaces(ffi.new("int[]", list(pids)), len(pids), out)
    return [inode if inode >= 0 else None for inode in _ints(out, len(pids))]


# ---- waiters and queue contents ----


class SyscallScan(msgspec.Struct, frozen=True, gc=False):
    """Threads found in chosen system calls."""

    rows: list[TaskRow]
    failures: dict[int, int]  # pid -> errno for processes whose threads could not be read
    tasks: int  # threads looked at


def scan_syscalls(pids: Sequence[int], numbers: Sequence[int]) -> SyscallScan:
    """Read /proc/PID/task/TID/syscall of every thread of pids, in C; keep those in numbers."""
    pid_array = ffi.new("int[]", list(pids))
    wanted = ffi.new("long long[]", list(numbers))
    status = ffi.new("int[]", max(len(pids), 1))
    tasks = ffi.new("long long *")
    capacity = 256
    while True:
        out = ffi.new("long long[]", capacity * TASK_FIELDS)
        rows = lib.shmtop_scan_syscalls(
            pid_array, len(pids), wanted, len(numbers), out, capacity, status, tasks
        )
        if rows < capacity:
            break
        capacity *= 4
    failures = {pids[i]: status[i] for i in range(len(pids)) if status[i]}
    return SyscallScan(_rows(out, rows, TASK_FIELDS, TaskRow), failures, tasks[0])


MSG_COPY_MISSING = (
    "this kernel lacks MSG_COPY (CONFIG_CHECKPOINT_RESTORE): queued messages cannot be read "
    "without taking them off the queue"
)
_PEEK_START = 1 << 16


class PeekedMessage(msgspec.Struct, frozen=True, gc=False):
    """One queued message, copied off the queue with MSG_COPY (it stays queued)."""

    index: int  # position in the queue, from 0
    mtype: int
    size: int  # bytes of the message text
    data: bytes  # the text, or its first bytes when the peek's byte budget ran out

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.size


class MsgPeek(msgspec.Struct, frozen=True, gc=False):
    """What a peek at a queue found, and why it stopped."""

    messages: tuple[PeekedMessage, ...]
    unsupported: str | None = None  # set (and no messages) when the kernel lacks MSG_COPY
    more: bool = False  # stopped at max_messages or max_bytes with messages left
    problem: str | None = None  # a message that could not be copied, or a queue that moved
    changed: bool = False  # the queue changed while it was read: messages may be missing


def _queue_header(msqid: int) -> tuple[int, int, int, int]:
    ds = ffi.new("struct msqid_ds *")
    _check(lib.msgctl(msqid, lib.IPC_STAT, ds), f"msgctl(msqid={msqid}, IPC_STAT)")
    return ds.msg_qnum, ds.msg_stime, ds.msg_rtime, ds.msg_ctime


def msg_peek(msqid: int, max_messages: int = 100, max_bytes: int = 1 << 20) -> MsgPeek:
    """Copy up to max_messages queued messages (max_bytes of text in all) without consuming them.

    msgrcv(IPC_NOWAIT | MSG_COPY) with the index as type: qnum, lrpid and rtime
    stay as they were. Raises OSError when the queue is gone or unreadable
    (EACCES: MSG_COPY needs read permission).
    """
    msgmax = msg_limits()[0]["msgmax"]
    header = _queue_header(msqid)
    size = max(min(msgmax, _PEEK_START), 1)
    buffer = ffi.new("char[]", ffi.sizeof("long") + size)
    found: list[PeekedMessage] = []
    kept = 0
    problem: str | None = None
    while len(found) < max_messages and kept < max_bytes:
        index = len(found)
        got = lib.msgrcv(msqid, buffer, size, index, lib.IPC_NOWAIT | lib.MSG_COPY)
        if got >= 0:
            text = bytes(ffi.buffer(buffer + ffi.sizeof("long"), min(got, max_bytes - kept)))
            found.append(PeekedMessage(index, ffi.cast("long *", buffer)[0], got, text))
            kept += len(text)
            continue
        number = ffi.errno
        if number == errno.ENOMSG:
            break
        if number == errno.ENOSYS:
            return MsgPeek((), unsupported=MSG_COPY_MISSING)
        if number == errno.E2BIG and size < msgmax:
            size = min(size * 4, msgmax)  # a long message: a larger buffer, same index
            buffer = ffi.new("char[]", ffi.sizeof("long") + size)
            continue
        if number in (errno.E2BIG, errno.EINVAL):
            _queue_header(msqid)  # raises if the queue is gone; else msgmax was lowered
            problem = f"message {index} is longer than msgmax ({msgmax}) lets MSG_COPY copy"
            break
        raise OSError(number, f"msgrcv(msqid={msqid}, MSG_COPY): {os.strerror(number)}")
    after = _queue_header(msqid)
    more = len(found) < after[0] and problem is None
    return MsgPeek(tuple(found), more=more, problem=problem, changed=after != header)


# ---- namespaces ----

CLONE_NEWIPC: int = lib.CLONE_NEWIPC
CLONE_NEWUTS: int = lib.CLONE_NEWUTS
CLONE_NEWUSER: int = lib.CLONE_NEWUSER


def unshare(flags: int) -> None:
    """unshare(2): leave the given namespaces (CLONE_NEWIPC...) for new ones, this process only
    when single-threaded (the kernel refuses CLONE_NEWUSER in a threaded process)."""
    _check(lib.unshare(flags), f"unshare({flags:#x})")


def die_with_parent(signum: int, parent: int) -> bool:
    """prctl(PR_SET_PDEATHSIG): signum reaches this process when the thread that started it
    ends (its parent process, unless that forked it from a thread that ends sooner). False
    when parent (the pid read before arming) is already gone: no signal will come then."""
    _check(lib.shmtop_set_pdeathsig(signum), f"prctl(PR_SET_PDEATHSIG, {signum})")
    return os.getppid() == parent


def setns(fd: int, nstype: int = 0) -> None:
    """setns(2): join the namespace open as fd (a /proc/PID/ns/* file); nstype 0 = any kind."""
    _check(lib.setns(fd, nstype), f"setns(fd={fd}, {nstype:#x})")


def open_in_root(pid: int, path: str, flags: int = os.O_RDONLY) -> int:
    """An fd on path (relative) resolved inside pid's root as pid itself would resolve it:
    symlinks and ".." stay in that root (openat2 RESOLVE_IN_ROOT), where a plain open of
    /proc/PID/root/path would follow an absolute link from ours. OSError (ENOSYS before
    Linux 5.6) if it cannot be opened so."""
    fd = lib.shmtop_open_in_root(pid, os.fsencode(path), flags)
    if fd < 0:
        raise OSError(-fd, f"/proc/{pid}/root/{path}: {os.strerror(-fd)}")
    return int(fd)


TMPFS_MAGIC: int = lib.TMPFS_MAGIC
HUGETLBFS_MAGIC: int = lib.HUGETLBFS_MAGIC


def fs_magic(fd: int) -> int:
    """fstatfs(2)'s f_type of what fd is open on (TMPFS_MAGIC, HUGETLBFS_MAGIC, ...)."""
    magic = lib.shmtop_fs_magic(fd)
    if magic < 0:
        raise OSError(-magic, f"fstatfs(fd={fd}): {os.strerror(-magic)}")
    return int(magic)


# ---- POSIX shared memory (issue 12): files on shm filesystems, mapped or open ----

FMAP_FIELDS: int = lib.SHMTOP_FMAP_FIELDS
FMAP_NAME: int = lib.SHMTOP_FMAP_NAME
FD_FIELDS: int = lib.SHMTOP_FD_FIELDS


if len(FileMapRow._fields) - 1 != FMAP_FIELDS or len(FdRow._fields) - 1 != FD_FIELDS:
    raise ImportError(
        "shmtop's compiled module writes POSIX rows of another width than this shmtop names:"
        " reinstall shmtop (in a checkout: pip install -e . --no-deps)"
    )


class FileMapsScan(msgspec.Struct, frozen=True, gc=False):
    """Shared file mappings found in /proc/PID/maps."""

    rows: list[FileMapRow]
    failures: dict[int, int]  # pid -> errno
    reader: str  # PROCMAP_QUERY or TEXT


_Named = TypeVar("_Named", FileMapRow, FdRow)


def _named(out: CData, names: CData, rows: int, width: int, row: type[_Named]) -> list[_Named]:
    """rows rows of width numbers and a name each, as row (FileMapRow or FdRow: the last number
    is the name's length, which the slot holds whole when shorter than it: else cut, or
    shortened by an unescape, and the slot's NUL ends it). Made in C as _rows does (zip,
    tuple.__new__): 9000 rows cost a third of a tuple a row in Python."""
    flat = _ints(out, rows * width)
    text = cast(bytes, ffi.unpack(names, rows * FMAP_NAME))
    cut = FMAP_NAME - 1
    named = [
        text[at : at + (length if length < cut else cut)]
        for at, length in zip(range(0, rows * FMAP_NAME, FMAP_NAME), flat[width - 1 :: width],
                              strict=True)
    ]  # fmt: skip
    named = [name.split(b"\0", 1)[0] if b"\0" in name else name for name in named]
    # width numbers then the name, as one tuple a row: zip draws width of them from one
    # iterator over the numbers, then one name (one tuple made a row, then retyped).
    numbers = iter(flat)
    return cast(list[_Named], list(map(tuple.__new__, repeat(row),
                                       zip(*[numbers] * width, named, strict=True))))  # fmt: skip


def scan_file_maps(
    pids: Sequence[int], devices: Sequence[int], *, any_anonymous: bool = False,
    reader: str | None = None, capacity: int = 1024,
) -> FileMapsScan:  # fmt: skip
    """Shared mappings of files on `devices` in the maps of pids (never /SYSV segments).

    any_anonymous: also those on any other device of major 0 (tmpfs mounts of other mount
    namespaces; also internal ones such as memfd's: the caller sorts them). reader as for
    scan_maps; a scan that finds the ioctl missing turns it off for later scans too.
    capacity: rows to make room for (more cost a second pass over the maps files of the
    processes whose rows did not fit).
    """
    asked = _reader_asked(reader)
    pids = list(pids)
    dev_array = ffi.new("long long[]", list(devices) or [0])
    used = ffi.new("int *")
    used[0] = int(asked)
    found: list[FileMapRow] = []
    failures: dict[int, int] = {}
    capacity = max(capacity, 1)
    while pids:
        pid_array = ffi.new("int[]", pids)
        status = ffi.new("int[]", len(pids))
        out = ffi.new("long long[]", capacity * FMAP_FIELDS)
        names = ffi.new("char[]", capacity * FMAP_NAME)
        rows = lib.shmtop_scan_fmaps(
            pid_array, len(pids), dev_array, len(devices), int(any_anonymous), out, names,
            capacity, status, used,
        )  # fmt: skip
        if rows < 0:
            raise OSError(-rows, f"reading /proc/PID/maps: {os.strerror(-rows)}")
        written = _named(out, names, min(rows, capacity), FMAP_FIELDS, FileMapRow)
        if rows <= capacity:
            done = len(pids)
        else:
            # Rows come in pid order: the pids before the last written row's are whole; read
            # again only from that one on (the C counted the rest: room for them, and some).
            partial = written[-1].pid
            done = pids.index(partial)
            written = [row for row in written if row.pid != partial]
            capacity = rows - len(written) + (rows - len(written)) // 4 + 1
        found += written
        failures.update((pids[i], status[i]) for i in range(done) if status[i])
        pids = pids[done:]
    return FileMapsScan(found, failures, _reader_used(asked, used[0], reader))


class SharedMapsScan(msgspec.Struct, frozen=True, gc=False):
    """One read of each process's maps for both kinds: its System V segments and its shared
    files on chosen devices (POSIX shm), with the owner of each /proc/PID."""

    sysv: MapsScan
    files: FileMapsScan
    uids: dict[int, int]  # pid -> effective uid (owner of /proc/PID), or -errno
    raw: bytes  # the file rows as the C wrote them: the same bytes, the same rows


def _cut(
    rows: Sequence[MapRow] | Sequence[FileMapRow], cap: int, found: int, pids: list[int]
) -> int:
    """Where rows that did not fit begin: the index (in pids) of the last written row's pid
    when more were found than cap (rows come in pid order), else len(pids)."""
    return pids.index(rows[-1][0]) if found > cap else len(pids)


class _SharedRead(NamedTuple):
    """One call of shmtop_scan_shared_maps: what it found and wrote."""

    sysv: list[MapRow]  # the written ones
    sysv_found: int
    files: CData
    names: CData
    files_found: int
    status: CData
    uids: CData
    looked: int  # the pids read: it stops after the first whose rows did not fit


def _read_shared(
    pids: list[int], devices: CData, ndevs: int, any_anonymous: bool, caps: tuple[int, int],
    used: CData,
) -> _SharedRead:  # fmt: skip
    status = ffi.new("int[]", len(pids))
    uids = ffi.new("long long[]", len(pids))
    sysv = ffi.new("long long[]", caps[0] * MAP_FIELDS)
    files = ffi.new("long long[]", caps[1] * FMAP_FIELDS)
    names = ffi.new("char[]", caps[1] * FMAP_NAME)
    counts = ffi.new("int[3]")
    error = lib.shmtop_scan_shared_maps(
        ffi.new("int[]", pids), len(pids), devices, ndevs, int(any_anonymous), sysv, caps[0],
        files, names, caps[1], status, uids, used, counts,
    )  # fmt: skip
    if error < 0:
        raise OSError(-error, f"reading /proc/PID/maps: {os.strerror(-error)}")
    written = _rows(sysv, min(counts[0], caps[0]), MAP_FIELDS, MapRow)
    return _SharedRead(written, counts[0], files, names, counts[1], status, uids, counts[2])


def _room_left(found: int, kept: int) -> int:
    return found - kept + (found - kept) // 4 + 1


def scan_shared_maps(
    pids: Sequence[int], devices: Sequence[int], *, any_anonymous: bool = False,
    reader: str | None = None, capacity: tuple[int, int] = (4096, 1024),
    last: SharedMapsScan | None = None,
) -> SharedMapsScan:  # fmt: skip
    """scan_maps (every pid, no want) and scan_file_maps in one read of each maps file.

    capacity: (System V, file) rows to make room for; the pids from the first whose rows did
    not fit are read again with room for them. last: a scan of the same pids whose file rows
    are taken as they were (the same list) if the C wrote the same bytes: what the kernel
    said did not change, so neither do the rows (a steady scan makes no row objects).
    """
    asked = _reader_asked(reader)
    pids = list(pids)
    scanned = len(pids)
    dev_array = ffi.new("long long[]", list(devices) or [0])
    used = ffi.new("int *")
    used[0] = int(asked)
    sysv_rows: list[MapRow] = []
    file_rows: list[FileMapRow] = []
    failures: dict[int, int] = {}
    uids: dict[int, int] = {}
    raw = b""
    caps = (max(capacity[0], 1), max(capacity[1], 1))
    first = True
    while pids:
        read = _read_shared(pids, dev_array, len(devices), any_anonymous, caps, used)
        files_kept = min(read.files_found, caps[1])
        if first and read.sysv_found <= caps[0] and read.files_found <= caps[1]:
            raw = bytes(ffi.buffer(read.files, files_kept * FMAP_FIELDS * 8))
            raw += bytes(ffi.buffer(read.names, files_kept * FMAP_NAME))
        if last is not None and raw and raw == last.raw:
            files = last.files.rows
        else:
            files = _named(read.files, read.names, files_kept, FMAP_FIELDS, FileMapRow)
        sysv = read.sysv
        done = min(_cut(sysv, caps[0], read.sysv_found, pids),
                   _cut(files, caps[1], read.files_found, pids))  # fmt: skip
        if done < len(pids):  # read again from the pid whose rows were cut
            again = set(pids[done:])
            sysv = [row for row in sysv if row.pid not in again]
            files = [row for row in files if row.pid not in again]
            # Room for the rows the rest would have at the rate of those read (the C read
            # no further than the pid whose rows did not fit).
            rest = (len(pids) - done) / max(read.looked, 1)
            caps = (
                max(_room_left(read.sysv_found, len(sysv)), int(read.sysv_found * rest) + 1),
                max(_room_left(read.files_found, len(files)), int(read.files_found * rest) + 1),
            )
        sysv_rows += sysv
        # A whole first pass keeps its list: a reused one stays the same object.
        file_rows = files if first and done == len(pids) else file_rows + files
        failures.update((pids[i], read.status[i]) for i in range(done) if read.status[i])
        uids.update((pids[i], read.uids[i]) for i in range(done))
        pids = pids[done:]
        first = False
    name = _reader_used(asked, used[0], reader)
    return SharedMapsScan(
        MapsScan(sysv_rows, failures, scanned, name), FileMapsScan(file_rows, failures, name),
        uids, raw,
    )  # fmt: skip


def scan_fds(
    pids: Sequence[int], devices: Sequence[int], *, capacity: int = 1024
) -> tuple[list[FdRow], dict[int, int]]:
    """Regular files on `devices` open on the fds of pids, and pid -> errno of those unread
    (capacity: rows to make room for; where they do not fit, the C stops after the pid
    whose rows did not, and the rest are read from that one with room for them at the
    rate of those read: no process is read twice but that one)."""
    pids = list(pids)
    dev_array = ffi.new("long long[]", list(devices) or [0])
    looked = ffi.new("int *")
    capacity = max(capacity, 1)
    found: list[FdRow] = []
    failures: dict[int, int] = {}
    while True:
        status = ffi.new("int[]", max(len(pids), 1))
        out = ffi.new("long long[]", capacity * FD_FIELDS)
        names = ffi.new("char[]", capacity * FMAP_NAME)
        rows = lib.shmtop_scan_fds(ffi.new("int[]", pids), len(pids), dev_array, len(devices),
                                   out, names, capacity, status, looked)  # fmt: skip
        read = looked[0]
        if rows <= capacity:  # every pid read, every row written
            found += _named(out, names, rows, FD_FIELDS, FdRow)
            failures.update((pids[i], status[i]) for i in range(read) if status[i])
            return found, failures
        cut = pids[read - 1]  # its rows did not all fit: read again, with the rest
        kept = [row for row in _named(out, names, capacity, FD_FIELDS, FdRow) if row.pid != cut]
        found += kept
        failures.update((pids[i], status[i]) for i in range(read - 1) if status[i])
        rest = len(pids) - (read - 1)
        capacity = max(rows - len(kept), int(rows * rest / read)) + rows // 4 + 1
        pids = pids[read - 1 :]


DIRENT_FIELDS: int = lib.SHMTOP_DIRENT_FIELDS
DIRENT_NAME: int = lib.SHMTOP_DIRENT_NAME
_NS = 1e-9


class FileStat(NamedTuple):
    """What list_files read of one regular file (os.stat_result's names, times in seconds)."""

    st_dev: int
    st_ino: int
    st_mode: int
    st_nlink: int
    st_uid: int
    st_gid: int
    st_size: int
    st_blocks: int
    st_atime: float
    st_mtime: float
    st_ctime: float


class FileListing(NamedTuple):
    """A directory's regular files: (name, stat) each, and the bytes the C wrote for them
    (the same bytes: the same files with the same stats)."""

    files: list[tuple[bytes, FileStat]]
    raw: bytes


def list_files(
    directory: str, *, capacity: int = 1024, last: FileListing | None = None
) -> FileListing:
    """The regular files directly in directory, each with its lstat, in one C loop (a shm
    directory holds thousands); last itself when the C wrote last's bytes (no row made
    again); OSError if the directory cannot be read."""
    capacity = max(capacity, 1)
    while True:
        out = ffi.new("long long[]", capacity * DIRENT_FIELDS)
        names = ffi.new("char[]", capacity * DIRENT_NAME)
        found = lib.shmtop_list_files(os.fsencode(directory), out, names, capacity)
        if found < 0:
            raise OSError(-found, os.strerror(-found), directory)
        if found <= capacity:
            break
        capacity = found + found // 4  # files made meanwhile: room for them too
    raw = bytes(ffi.buffer(out, found * DIRENT_FIELDS * 8))
    raw += bytes(ffi.buffer(names, found * DIRENT_NAME))
    if last is not None and raw == last.raw:
        return last
    # Column at a time, the stats made by tuple.__new__ as _rows does (no Python call a
    # file: a first listing of 1100 files cost 5 ms a row at a time).
    numbers = _ints(out, found * DIRENT_FIELDS)
    columns = [numbers[n::DIRENT_FIELDS] for n in range(DIRENT_FIELDS)]
    times = [[t * _NS for t in column] for column in columns[8:]]
    stats = map(tuple.__new__, repeat(FileStat), zip(*columns[:8], *times, strict=True))
    text = raw[found * DIRENT_FIELDS * 8 :]  # the names' slots, NUL-padded
    slots = (text[at : at + DIRENT_NAME] for at in range(0, found * DIRENT_NAME, DIRENT_NAME))
    listed = [slot.split(b"\0", 1)[0] for slot in slots]
    return FileListing(list(zip(listed, stats, strict=True)), raw)


SEM_SHORT: int = lib.SHMTOP_SEM_SHORT  # read_named_semaphores: fewer than 8 bytes


class SemWords(NamedTuple):
    """read_named_semaphores' answer for one file: status 0 (value and nwaiters read),
    SEM_SHORT (truncated), ESTALE (its path names another file now) or the open's errno."""

    status: int
    value: int
    nwaiters: int


def read_named_semaphores(files: Sequence[tuple[bytes, int, int]]) -> list[SemWords]:
    """The first two 32-bit words (glibc: value, nwaiters) of each (path, device, inode),
    read with pread in one C loop, each file checked to be that (device, inode) first."""
    if not files:
        return []
    for path, _, _ in files:
        if b"\0" in path:
            raise ValueError(f"a path with a NUL byte: {path!r}")
    paths = b"\0".join(path for path, _, _ in files) + b"\0"
    keys = ffi.new("long long[]", [n for _, dev, ino in files for n in (dev, ino)])
    out = ffi.new("long long[]", 3 * len(files))
    lib.shmtop_read_sems(paths, keys, len(files), out)
    return _rows(out, len(files), 3, SemWords)


def parse_file_maps_fd(
    fd: int, pid: int, devices: Sequence[int], *, any_anonymous: bool = False,
    capacity: int = 1024,
) -> list[FileMapRow]:  # fmt: skip
    """scan_file_maps' text reader on maps text read from fd (up to EOF), pid filled in; the
    first capacity rows."""
    dev_array = ffi.new("long long[]", list(devices) or [0])
    out = ffi.new("long long[]", max(capacity, 1) * FMAP_FIELDS)
    names = ffi.new("char[]", max(capacity, 1) * FMAP_NAME)
    rows = lib.shmtop_parse_fmaps_fd(fd, pid, dev_array, len(devices), int(any_anonymous), out,
                                     names, capacity)  # fmt: skip
    if rows < 0:
        raise OSError(-rows, f"reading maps text from fd {fd}: {os.strerror(-rows)}")
    kept = min(rows, capacity)  # the C counts rows past capacity, writes only capacity
    return _named(out, names, kept, FMAP_FIELDS, FileMapRow)


# ---- POSIX message queues (issue 12 item 4) ----

MQ_FIELDS: int = lib.SHMTOP_MQ_FIELDS
CLONE_NEWNS: int = lib.CLONE_NEWNS
MS_REC: int = lib.MS_REC
MS_PRIVATE: int = lib.MS_PRIVATE
MS_NOSUID: int = lib.MS_NOSUID
MS_NODEV: int = lib.MS_NODEV
MS_NOEXEC: int = lib.MS_NOEXEC
MNT_DETACH: int = lib.MNT_DETACH


def mq_open(
    name: str | bytes, flags: int, mode: int = 0o600, *, max_messages: int = 0,
    max_size: int = 0,
) -> int:  # fmt: skip
    """mq_open(3) ("/NAME"); with os.O_CREAT, mode and max_messages > 0 set the queue's
    limits. Returns the descriptor (an fd on Linux)."""
    raw = os.fsencode(name)
    return _check(
        lib.shmtop_mq_open(raw, flags, mode, max_messages, max_size),
        f"mq_open({raw!r})",
    )


def mq_getattr(mqd: int) -> MqAttr:
    """mq_getattr(3) on any fd open on a queue (mq_open's, or open(2) of its file)."""
    out = ffi.new("long long[]", MQ_FIELDS)
    _check(lib.shmtop_mq_getattr(mqd, out), f"mq_getattr({mqd})")
    return MqAttr(*_ints(out, MQ_FIELDS))


def mq_notify(mqd: int, signo: int) -> None:
    """mq_notify(3): be sent signo when a message arrives on the empty queue (0: stop)."""
    _check(lib.shmtop_mq_notify_signal(mqd, signo), f"mq_notify({mqd}, {signo})")


def mq_close(mqd: int) -> None:
    _check(lib.mq_close(mqd), f"mq_close({mqd})")


def mq_unlink(name: str | bytes) -> None:
    raw = os.fsencode(name)
    _check(lib.mq_unlink(raw), f"mq_unlink({raw!r})")


def mq_send(mqd: int, payload: bytes, priority: int = 0) -> None:
    """mq_send(3): blocks while the queue is full unless the descriptor is O_NONBLOCK."""
    _check(lib.mq_send(mqd, payload, len(payload), priority), f"mq_send({mqd})")


def mq_receive(mqd: int, size: int) -> tuple[int, bytes]:
    """mq_receive(3) with a buffer of size bytes (at least the queue's message size):
    (priority, payload). Blocks on an empty queue unless O_NONBLOCK."""
    buffer = ffi.new("char[]", max(size, 1))
    priority = ffi.new("unsigned int *")
    got = _check(lib.mq_receive(mqd, buffer, size, priority), f"mq_receive({mqd})")
    return priority[0], cast(bytes, ffi.unpack(buffer, got))


def mqueue_detached() -> int:
    """An fd of the root of a detached mount of the calling thread's IPC namespace's mqueue
    fs (fsopen + fsmount: on no mount table; gone when the fd is closed)."""
    found = lib.shmtop_mqueue_detached()
    if found < 0:
        raise OSError(-found, f"a detached mqueue mount: {os.strerror(-found)}")
    return found


def mount(source: str, target: str, fstype: str | None, flags: int = 0) -> None:
    """mount(2) without data (the mqueue helper's private mounts; tests' too)."""
    kind = fstype.encode() if fstype is not None else ffi.NULL
    _check(lib.mount(os.fsencode(source), os.fsencode(target), kind, flags, ffi.NULL),
           f"mount({target!r})")  # fmt: skip


def umount(target: str, flags: int = 0) -> None:
    _check(lib.umount2(os.fsencode(target), flags), f"umount({target!r})")
