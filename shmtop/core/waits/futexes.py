"""Shared futex waits: threads asleep on a word inside a System V segment or a POSIX object.

A thread in futex(2) whose operation lacks FUTEX_PRIVATE_FLAG sleeps on a word that may be
shared between processes. Its address is looked up in the waiter's own maps (System V
segments, and files of a shm mount); the word is read with pread of /proc/PID/mem (never
written). What the word says about an owner is taken only where its layout is known:
robust and PI mutexes keep the owner's TID in the word itself (the kernel's FUTEX_TID_MASK);
a glibc normal mutex keeps it in __owner, 8 bytes after the lock word.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.core.posix import content
from shmtop.core.posix.libc import LibcCache
from shmtop.core.posix.model import SEM_PREFIX, SHM_DIR, Mapping, PosixKind, SemState
from shmtop.core.posix.mounts import our_mounts
from shmtop.core.snapshot.collect import ipc_namespace_of
from shmtop.core.waits.records import AnonKind, FutexWait, NamedSemaphore, WaitKind

# futex(2)'s number, by platform.machine() (arm64 and riscv64: the asm-generic table).
FUTEX_SYSCALLS = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98, "riscv64": 98}
FUTEX_PRIVATE_FLAG = 128  # the word is private to one process: no IPC wait
FUTEX_CLOCK_REALTIME = 256
FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
# The operations that sleep (linux/futex.h); FUTEX_WAKE and the rest return at once.
WAIT_OPS = {0: "FUTEX_WAIT", 6: "FUTEX_LOCK_PI", 9: "FUTEX_WAIT_BITSET",
            11: "FUTEX_WAIT_REQUEUE_PI", 13: "FUTEX_LOCK_PI2"}  # fmt: skip
PI_OPS = frozenset({"FUTEX_LOCK_PI", "FUTEX_LOCK_PI2"})  # the word's TID is the owner's
FUTEX_TID_MASK = 0x3FFFFFFF
FUTEX_WAITERS = 0x80000000
GLIBC_CONTENDED = 2  # glibc's lll_lock word: locked, with waiters
GLIBC_OWNER_OFFSET = 8  # pthread_mutex_t.__data.__owner on x86_64 and aarch64
# futex_waitv(waiters, nr_futexes, flags, timeout, clockid): 449 on x86_64 and in the
# asm-generic table alike (Linux >= 5.16). Each struct futex_waitv is u64 val, u64 uaddr,
# u32 flags, u32 reserved; FUTEX2_PRIVATE (128) marks a private word; at most 128 of them.
FUTEX_WAITV = 449
WAITV_OP = "futex_waitv"
FUTEX_WAITV_MAX = 128
FUTEX2_PRIVATE = FUTEX_PRIVATE_FLAG
_WAITV_ENTRY = struct.Struct("=QQII")

_Row = native.TaskRow


def futex_number(machine: str) -> int | None:
    return FUTEX_SYSCALLS.get(machine.lower())


def shared_wait_op(op: int) -> str | None:
    """The name of a sleeping futex operation on a shareable word, else None."""
    if op & FUTEX_PRIVATE_FLAG:
        return None
    return WAIT_OPS.get(op & FUTEX_CMD_MASK & 0x7F)


@dataclass(frozen=True, slots=True)
class Located:
    """A shared futex wait and the object its word lies in."""

    row: _Row
    kind: WaitKind
    object_id: int  # shmid, or the POSIX object's inode
    futex: FutexWait
    mapping: Mapping | None = None  # POSIX: the waiter's mapping of the object


def locate(rows: Sequence[_Row], ignored: Counter[str], libc: LibcCache,
           shm_dir: str = SHM_DIR) -> list[Located]:  # fmt: skip
    """Each row's object and what its word says; rows outside shared memory count as ignored."""
    if not rows:
        return []
    pids = sorted({row.pid for row in rows})
    sysv = native.scan_maps(pids).rows
    mounts = our_mounts(shm_dir)
    # With any_anonymous: also shared anonymous memory and memfds (internal shm devices).
    files = native.scan_file_maps(pids, list(mounts), any_anonymous=True).rows
    found = []
    for row in rows:
        address = row.arg0
        op = WAITV_OP if row.nr == FUTEX_WAITV else shared_wait_op(row.arg1) or "?"
        expected = row.arg2 & 0xFFFFFFFF if op not in PI_OPS else None
        segment = next((m for m in sysv if m.pid == row.pid and m.start <= address < m.end),
                       None)  # fmt: skip
        kind: WaitKind
        mapping = None
        if segment is not None:
            kind, ident, offset, name, device = (
                Kind.SHM,
                segment.shmid,
                address - segment.start,
                None,
                0,
            )
        else:
            mapped = next((m for m in files if m.pid == row.pid and m.start <= address < m.end),
                          None)  # fmt: skip
            anonymous = mapped is not None and mapped.dev not in mounts and is_anonymous(
                mapped.name)  # fmt: skip
            if mapped is None or (mapped.dev not in mounts and not anonymous):
                ignored["futex outside System V and POSIX shared memory"] += 1
                continue
            kind = AnonKind.ANON if anonymous else _posix_kind(mapped.name)
            ident, device = mapped.inode, mapped.dev
            offset = mapped.offset + address - mapped.start
            name = _posix_name(mapped.name)
            mapping = Mapping(mapped.pid, mapped.start, mapped.end, bool(mapped.writable),
                              mapped.offset)  # fmt: skip
        words, problem = _read_words(row.pid, address)
        futex = FutexWait(address, offset, op, expected, None if words is None else words[0],
                          "futex", object_name=name, device=device, problem=problem)  # fmt: skip
        if kind is PosixKind.SEM:
            futex = dataclasses.replace(futex, what="semaphore")
        elif words is not None:
            glibc = libc.glibc(row.pid)
            tid, source = mutex_owner(op, words, expected, glibc)
            if tid is not None:
                futex = dataclasses.replace(
                    futex, what="mutex", owner_tid=tid, owner_from=source, owner_pid=process_of(tid)
                )
            elif glibc and looks_like_glibc_sem(op, words, expected):
                futex = dataclasses.replace(futex, what="semaphore", sem_waiters=words[1])
        found.append(Located(row, kind, ident, futex, mapping))
    return found


def waitv_words(rows: Sequence[_Row], ignored: Counter[str]) -> list[_Row]:
    """The shared words of each blocked futex_waitv, one row each as a futex row has them
    (arg0 the address, arg2 the value it sleeps while the word holds, arg3 its index in the
    vector): the vector is read from the waiter's memory. Private words are left out, as
    private futexes are; a vector that cannot be read is counted in ignored."""
    found = []
    for row in rows:
        count = row.arg1 & 0xFFFFFFFF
        if not 0 < count <= FUTEX_WAITV_MAX:
            continue  # the kernel refuses such a call at once: nobody sleeps in it
        try:
            raw = read_memory(row.pid, row.arg0, count * _WAITV_ENTRY.size)
        except OSError as error:
            ignored[f"futex_waitv vector unreadable ({os.strerror(error.errno or errno.EIO)})"] += 1
            continue
        for index, (value, address, flags, _) in enumerate(_WAITV_ENTRY.iter_unpack(raw)):
            if not flags & FUTEX2_PRIVATE:
                found.append(row._replace(arg0=address, arg1=0, arg2=value & 0xFFFFFFFF,
                                          arg3=index))  # fmt: skip
    return found


def looks_like_glibc_sem(op: str, words: tuple[int, int, int], expected: int | None) -> bool:
    """A process-shared glibc sem_t (sem_init with pshared 1; PostgreSQL's): sem_wait sleeps
    in FUTEX_WAIT_BITSET while the value is 0, nwaiters (the next u32) counts it, and the
    private int after them is 0x80 (glibc's FUTEX_SHARED: the flag it XORs into the op).
    A label only: no owner is claimed from it."""
    value, nwaiters, private = words
    return op == "FUTEX_WAIT_BITSET" and expected == 0 and value == 0 and nwaiters > 0 \
        and private == FUTEX_PRIVATE_FLAG  # fmt: skip


def mutex_owner(op: str, words: tuple[int, int, int], expected: int | None,
                glibc: bool) -> tuple[int | None, str | None]:  # fmt: skip
    """The owner TID a futex word (and glibc's __owner) says, and which field said it.

    PI operations: the word is the owner's TID (FUTEX_TID_MASK), always. A FUTEX_WAIT whose
    word holds FUTEX_WAITERS and a TID: a robust mutex's word. A FUTEX_WAIT on 2 (glibc's
    locked-with-waiters) where the C library is glibc: __owner at +8, if it is set.
    """
    word, _, owner = words
    tid = word & FUTEX_TID_MASK
    if op in PI_OPS:
        return (tid, "futex word") if tid else (None, None)
    if word & FUTEX_WAITERS and tid and _thread_exists(tid):
        return tid, "futex word"
    # Also when that thread is gone: a normal mutex whose owner died locked stays locked.
    if glibc and expected == GLIBC_CONTENDED and word == GLIBC_CONTENDED and owner \
            and owner <= FUTEX_TID_MASK:  # fmt: skip
        return owner, "glibc __owner"
    return None, None


def read_memory(pid: int, address: int, length: int) -> bytes:
    """length bytes of a process's memory at address (needs ptrace access to it)."""
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.pread(fd, length, address)
    finally:
        os.close(fd)
    if len(data) != length:
        raise OSError(errno.EIO, f"short read of /proc/{pid}/mem")
    return data


POSIX_MAPPERS_AGE = 10.0  # seconds a POSIX object's mapper list is reused (no nattch to watch)
_ObjectKey = tuple[bool, int | tuple[int, int]]  # (System V?, shmid or (device, inode))


class MapperCache:
    """Who maps each object waited on without an owner: any of them may post or wake it.

    Finding them reads every process's maps (as costly as an attachment scan), so a list is
    reused while it can be trusted: a segment's while its nattch, lpid, atime and dtime stay
    (the collector's own rule); a POSIX object's, which has no such counters, for
    POSIX_MAPPERS_AGE seconds and while every one of them still exists.
    """

    def __init__(self) -> None:
        self._known: dict[_ObjectKey, tuple[object, float, tuple[int, ...]]] = {}

    def fill(self, located: list[Located], pids: Sequence[int], now: float) -> list[Located]:
        """located, each wait that names no owner with the mappers of its object."""
        keys = {_object_key(item) for item in located if item.futex.owner_pid is None}
        if not keys:
            self._known = {}
            return located
        signatures = {key: self._signature(key) for key in keys}
        stale = {key for key in keys if not self._fresh(key, signatures[key], now)}
        if stale:
            users = _mappers(stale, pids)
            for key in stale:
                self._known[key] = (signatures[key], now, tuple(sorted(users.get(key, ()))))
        self._known = {key: self._known[key] for key in keys}
        found = []
        for item in located:
            if item.futex.owner_pid is None:
                mappers = self._known[_object_key(item)][2]
                item = dataclasses.replace(  # noqa: PLW2901
                    item, futex=dataclasses.replace(item.futex, mappers=mappers)
                )
            found.append(item)
        return found

    @staticmethod
    def _signature(key: _ObjectKey) -> object:
        ident = key[1]
        if not isinstance(ident, int):
            return None
        try:
            stat = native.shm_stat(ident)
        except OSError:
            return None
        return (stat.nattch, stat.lpid, stat.atime, stat.dtime)

    def _fresh(self, key: _ObjectKey, signature: object, now: float) -> bool:
        known = self._known.get(key)
        if known is None or known[0] != signature:
            return False
        if key[0]:
            return signature is not None
        return now - known[1] < POSIX_MAPPERS_AGE and all(
            os.path.exists(f"/proc/{pid}") for pid in known[2]
        )


def _object_key(item: Located) -> _ObjectKey:
    if item.kind is Kind.SHM:
        return (True, item.object_id)
    return (False, (item.futex.device, item.object_id))


def _mappers(keys: set[_ObjectKey], pids: Sequence[int]) -> dict[_ObjectKey, set[int]]:
    """Every process of pids mapping each object (one maps scan per kind of object)."""
    segments = {ident for _, ident in keys if isinstance(ident, int)}
    files = {ident for _, ident in keys if isinstance(ident, tuple)}
    users: dict[_ObjectKey, set[int]] = {}
    if segments:
        # A shmid names a segment of one IPC namespace: the same number in another
        # namespace's maps is another segment.
        ours = ipc_namespace_of("self")
        spaces: dict[int, int | None] = {}
        for row in native.scan_maps(pids).rows:
            if row.shmid in segments:
                if row.pid not in spaces:
                    spaces[row.pid] = ipc_namespace_of(row.pid)
                if spaces[row.pid] == ours:
                    users.setdefault((True, row.shmid), set()).add(row.pid)
    if files:
        devices = sorted({dev for dev, _ in files})
        for frow in native.scan_file_maps(pids, devices).rows:
            if (frow.dev, frow.inode) in files:
                users.setdefault((False, (frow.dev, frow.inode)), set()).add(frow.pid)
    return users


def _read_words(pid: int, address: int) -> tuple[tuple[int, int, int] | None, str | None]:
    """The lock word and the two u32 after it (a glibc mutex's __count and __owner)."""
    try:
        data = read_memory(pid, address, 12)
    except OSError as error:
        try:
            data = read_memory(pid, address, 4) + b"\0" * 8  # the word ends its mapping
        except OSError:
            return None, f"the word is unreadable ({os.strerror(error.errno or errno.EIO)})"
    first, second, third = struct.unpack("=III", data)
    return (first, second, third), None


def _thread_exists(tid: int) -> bool:
    return os.path.exists(f"/proc/{tid}/status")


def process_of(tid: int) -> int:
    """The process (Tgid) of a thread id; the id itself when the thread is gone."""
    try:
        with open(f"/proc/{tid}/status", "rb") as file:
            for line in file:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return tid


def is_anonymous(path: bytes) -> bool:
    """A shared mapping of no file anyone can open: MAP_SHARED | MAP_ANONYMOUS memory (maps
    print its shmem file as /dev/zero (deleted)) or a memfd (/memfd:NAME (deleted))."""
    return path == ANON_PATH or (path.startswith(b"/memfd:") and path.endswith(b" (deleted)"))


ANON_PATH = b"/dev/zero (deleted)"


def _posix_kind(path: bytes) -> PosixKind:
    directory, _, name = path.removesuffix(b" (deleted)").rpartition(b"/")
    is_sem = directory == SHM_DIR.encode() and name.startswith(SEM_PREFIX.encode())
    return PosixKind.SEM if is_sem else PosixKind.SHM


def _posix_name(path: bytes) -> str:
    """'/NAME' for /dev/shm/NAME (and sem.NAME), else the path as maps printed it."""
    text = path.decode("utf-8", "replace").removesuffix(" (deleted)")
    directory, _, name = text.rpartition("/")
    if directory != SHM_DIR:
        return text
    return "/" + name.removeprefix(SEM_PREFIX)


def _unless_foreign(state: SemState, pid: int | None) -> SemState:
    """The words as read, unless a waiter runs another C library than glibc: then unknown."""
    if pid is None:
        return state
    return SemState(None, None, f"layout unknown: process {pid} does not use glibc")


def named_semaphores(located: Iterable[Located], libc: LibcCache,
                     shm_dir: str = SHM_DIR) -> list[NamedSemaphore]:  # fmt: skip
    """Every named semaphore in shm_dir whose nwaiters is not 0, and every one waited on, each
    with its live waiters: a stale nwaiters (more than are live) shows a killed waiter."""
    live: Counter[tuple[int, int]] = Counter()
    routes: dict[tuple[int, int], Located] = {}
    foreign: dict[tuple[int, int], int] = {}  # waited on by a process without glibc
    for item in located:
        if item.kind is PosixKind.SEM:
            key = (item.futex.device, item.object_id)
            live[key] += 1
            routes.setdefault(key, item)
            if not libc.glibc(item.row.pid):
                foreign.setdefault(key, item.row.pid)
    found: dict[tuple[int, int], NamedSemaphore] = {}
    try:
        entries = [e for e in os.scandir(shm_dir) if e.name.startswith(SEM_PREFIX)]
    except OSError:
        entries = []
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        key = (info.st_dev, info.st_ino)
        state = content.semaphore_state(key, os.fsencode(entry.path), (), (), info.st_size)
        state = _unless_foreign(state, foreign.get(key))
        if live[key] or state.nwaiters:
            name = "/" + entry.name.removeprefix(SEM_PREFIX)
            found[key] = NamedSemaphore(key[0], key[1], name, state.value, state.nwaiters,
                                        live[key], state.problem)  # fmt: skip
    for key, item in routes.items():
        if key in found:
            continue  # unlinked, or in another mount namespace: read through the waiter's map
        futex = item.futex
        mappings = () if item.mapping is None else (item.mapping,)
        info_of = content.stat_through(key, mappings, ())
        size = info_of.st_size if info_of is not None else 0
        state = _unless_foreign(content.semaphore_state(key, None, mappings, (), size),
                                foreign.get(key))  # fmt: skip
        found[key] = NamedSemaphore(key[0], key[1], futex.object_name or "?", state.value,
                                    state.nwaiters, live[key], state.problem)  # fmt: skip
    return sorted(found.values(), key=lambda s: (s.name, s.inode))
