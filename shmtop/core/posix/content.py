"""Reading POSIX objects: pread on an fd, never mmap (a truncated object would SIGBUS us).

A linked object is opened by its path; an unlinked one (or one in another mount namespace)
through /proc/PID/map_files/START-END of a mapper or /proc/PID/fd/N of a holder. Every
open is checked against the object's (device, inode) with fstat before a byte is read, so
a name reused by another file is never read as the object.
"""

from __future__ import annotations

import errno
import functools
import os
import platform
import struct
from collections.abc import Iterator, Sequence

from shmtop.core.binding import native
from shmtop.core.posix.model import Holder, Mapping, PosixObject, SemState
from shmtop.core.posix.rooted import open_path

_Key = tuple[int, int]
# O_NOATIME: reading must not change the atime the leak verdict is judged on. The kernel
# allows it to the owner or CAP_FOWNER only; others read without it.
_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW


def _open(path: str | bytes, key: _Key, *, follow: bool = False) -> int | None:
    """An fd on path if it is the object key (same device and inode), else None."""
    flags = _FLAGS & ~os.O_NOFOLLOW if follow else _FLAGS  # /proc links must be followed
    try:
        try:
            fd = open_path(path, flags | os.O_NOATIME)
        except PermissionError:
            fd = open_path(path, flags)
    except OSError:
        return None
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino) != key:
        os.close(fd)
        return None
    return fd


def _routes(mappings: Sequence[Mapping], holders: Sequence[Holder]) -> Iterator[str]:
    for mapping in mappings:
        yield mapping.map_file
    for holder in holders:
        yield holder.fd_path


def open_object(
    key: _Key, path: bytes | None, mappings: Sequence[Mapping], holders: Sequence[Holder]
) -> int | None:
    """An fd on the object: by path (a name in /dev/shm), else through a mapper or holder."""
    if path is not None:
        fd = _open(path, key)
        if fd is not None:
            return fd
    for route in _routes(mappings, holders):
        fd = _open(route, key, follow=True)
        if fd is not None:
            return fd
    return None


def stat_through(
    key: _Key, mappings: Sequence[Mapping], holders: Sequence[Holder]
) -> os.stat_result | None:
    """stat of the object itself through a mapper's map_files or a holder's fd link."""
    for route in _routes(mappings, holders):
        try:
            info = os.stat(route)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == key:
            return info
    return None


class Unreadable(OSError):
    """The object could not be opened: gone, replaced, or no route to it (which, in words)."""


class ObjectReader:
    """An open POSIX object, read with pread only; its size as fstat says at open time.

    Reading a hole of a tmpfs or hugetlbfs file returns zeros and allocates nothing, so
    unlike an attach a dump never makes the object hold more memory.
    """

    def __init__(self, obj: PosixObject) -> None:
        fd = open_object(obj.key, obj.path if obj.in_shm_dir else None, obj.mappings, obj.holders)
        if fd is None:
            raise Unreadable(
                errno.ENOENT,
                f"{obj.name}: no longer there as the object the snapshot saw (device "
                f"{obj.dev}, inode {obj.inode}), and no mapper or holder lets it be opened",
            )
        self._fd = fd
        self.size = os.fstat(fd).st_size

    def read(self, offset: int, length: int) -> bytes:
        """Up to length bytes from offset: b"" past the end (also if truncated since)."""
        return os.pread(self._fd, length, offset)

    def chunks(self, start: int, stop: int, chunk: int = 1 << 16) -> Iterator[bytes]:
        """[start, stop) in chunks; ends early where the object ends now."""
        at = start
        while at < stop:
            data = self.read(at, min(chunk, stop - at))
            if not data:
                return
            yield data
            at += len(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def read_object(obj: PosixObject, offset: int = 0, length: int = 4096) -> bytes:
    """Up to length bytes of obj from offset, with pread (b"" past its end, also when it was
    truncated after the snapshot). Raises Unreadable when no route opens this very object."""
    with ObjectReader(obj) as reader:
        return reader.read(offset, length)


# glibc's struct new_sem on 64-bit: u64 data (value in the low 32 bits, nwaiters in the
# high 32) then int private; the file is sizeof(sem_t) = 32 bytes on x86_64 and aarch64.
GLIBC_SEM_SIZE = 32
_WORDS = struct.Struct("=II")  # native order: the words are the futex


@functools.cache  # the C library and the machine do not change while we run
def semaphore_layout_known() -> str | None:
    """None when this machine's named semaphores have the layout read here, else why not."""
    if platform.libc_ver()[0] != "glibc":
        return "layout unknown: not a glibc system"
    if platform.machine() not in ("x86_64", "aarch64"):
        return f"layout unknown on {platform.machine()}"
    return None


def _layout_problem(size: int) -> str | None:
    why = semaphore_layout_known()
    if why is None and size != GLIBC_SEM_SIZE:
        why = f"layout unknown: {size} bytes, glibc's sem_t is {GLIBC_SEM_SIZE}"
    return why


_TRUNCATED = SemState(None, None, "truncated")


def listed_semaphore_states(files: Sequence[tuple[bytes, _Key, int]]) -> dict[_Key, SemState]:
    """semaphore_state of named semaphores by their path in the shm directory, (path, key,
    size as listed) each, in one C loop (native.read_named_semaphores: open, fstat, pread,
    close each, checked to be the listed file). A file unlinked or replaced since the
    listing (or not openable) has no entry: semaphore_state finds it through a mapper or
    holder, or says it is gone."""
    wanted = []
    states: dict[_Key, SemState] = {}
    for path, key, size in files:
        why = _layout_problem(size)
        if why is None:
            wanted.append((path, key))
        else:
            states[key] = SemState(None, None, why)
    read = native.read_named_semaphores([(path, *key) for path, key in wanted])
    for (_, key), (status, value, nwaiters) in zip(wanted, read, strict=True):
        if status == 0:
            states[key] = SemState(value, nwaiters)
        elif status == native.SEM_SHORT:
            states[key] = _TRUNCATED
    return states


def semaphore_state(
    key: _Key, path: bytes | None, mappings: Sequence[Mapping], holders: Sequence[Holder],
    size: int,
) -> SemState:  # fmt: skip
    """value and nwaiters of a glibc named semaphore, read with pread (never a mapping)."""
    why = _layout_problem(size)
    if why is not None:
        return SemState(None, None, why)
    fd = open_object(key, path, mappings, holders)
    if fd is None:
        return SemState(None, None, "unreadable: gone or no route to it")
    try:
        data = os.pread(fd, _WORDS.size, 0)
    finally:
        os.close(fd)
    if len(data) < _WORDS.size:
        return _TRUNCATED
    value, nwaiters = _WORDS.unpack(data)
    return SemState(value, nwaiters)
