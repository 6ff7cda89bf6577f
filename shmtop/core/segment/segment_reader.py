"""Reads a segment without writing to it: attached read-only, or through another process's file."""

from __future__ import annotations

import enum
import errno
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from shmtop.core.binding import native
from shmtop.core.errors import DENIED, mistake_of
from shmtop.core.snapshot.collect import ipc_namespace_of

CHUNK = 4 << 20  # bytes a scan reads at once: big enough for C speed, small for memory
ZERO_RUN = bytes(16)  # zeros that separate two non-zero regions
Cancelled = Callable[[], bool]
Lines = Callable[[Iterable[bytes], int], Iterable[str]]  # chunks, start offset -> text lines
NEEDS_ROOT = (
    "shm {shmid}: reading without attaching goes through another process's "
    "/proc/PID/map_files, which needs root (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)"
)


class ReadPath(enum.StrEnum):
    """How the bytes reach the viewer."""

    ATTACH = "attach"  # shmat(SHM_RDONLY): works for anyone with read permission; nattch +1
    PROCESS = "process"  # /proc/PID/map_files of an attacher: root only; no counter moves


class CannotRead(Exception):
    """Why a segment cannot be read this way, in one line a user can act on.

    Where the segment itself refused (shmid and mistake set: gone, no permission) the
    message is only the kernel's words: text/errors.py says it as every command does.
    """

    def __init__(
        self, message: str, error: OSError | None = None, *, shmid: int | None = None
    ) -> None:
        super().__init__(message)
        self.errno = error.errno if error is not None else None
        self.shmid = shmid
        self.mistake = mistake_of(self.errno) if shmid is not None else None


class ReaderClosed(OSError):
    """The reader was closed (the view ended, or the segment went away)."""


@dataclass(frozen=True, slots=True)
class Mapper:
    """A process that has the segment mapped: where a counter-free read can go through."""

    pid: int
    start: int
    end: int
    writable: bool = False


def find_mappers(shmid: int, *, include_self: bool = False) -> list[Mapper]:
    """Processes of our IPC namespace that map the segment (maps inode = shmid); without
    include_self, not this one."""
    return _scan_mappers(shmid, include_self)[0]


def _scan_mappers(
    shmid: int, include_self: bool, namespace: int | None = None
) -> tuple[list[Mapper], int]:
    """The mappers in the IPC namespace whose inode is namespace (default ours: a shmid
    and the inode of its maps lines name a segment of the mapper's namespace), and how
    many processes' maps could not be read (not root)."""
    own = os.getpid()
    pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    scan = native.scan_maps([pid for pid in pids if include_self or pid != own])
    ours = ipc_namespace_of("self") if namespace is None else namespace
    found: list[Mapper] = []
    namespaces: dict[int, int | None] = {}
    for pid, start, end, writable, inode in scan.rows:
        if inode != shmid:
            continue
        if pid not in namespaces:
            namespaces[pid] = ipc_namespace_of(pid)
        if namespaces[pid] == ours:
            found.append(Mapper(pid, start, end, bool(writable)))
    hidden = sum(1 for number in scan.failures.values() if number in DENIED)
    return found, hidden


def _size_of(shmid: int) -> int:
    try:
        return native.shm_stat(shmid).size
    except OSError as error:
        raise _refused(shmid, error) from error


def _refused(shmid: int, error: OSError) -> CannotRead:
    """The segment itself refused (IPC_STAT, shmat): gone, not permitted, or else."""
    return CannotRead(f"shm {shmid}: {error.strerror or error}", error, shmid=shmid)


def _open_file(pid: int | str, start: int, end: int, shmid: int) -> int:
    """Open the segment's file through a mapping; checks it is that segment (inode = shmid)."""
    fd = os.open(f"/proc/{pid}/map_files/{start:x}-{end:x}", os.O_RDONLY | os.O_CLOEXEC)
    if os.fstat(fd).st_ino != shmid:  # the process unmapped it and mapped another meanwhile
        os.close(fd)
        raise FileNotFoundError(errno.ENOENT, "the mapping changed while it was opened")
    return fd


class SegmentReader:
    """One open read path to one segment. Every method may be called from any thread.

    Bytes are copied out only as asked (a row window, a scan chunk), never the
    whole segment. Where the segment's file can be opened (root), reads use
    pread on it: it copies zeros for pages nobody touched instead of allocating
    them, and maps nothing into this process; chunks() does not even read the
    holes (SEEK_DATA). Otherwise reads go through the read-only attachment,
    which faults in (for a hole: allocates) what it reads: without
    CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE no process may open a segment's
    file (/proc/PID/map_files), and no other interface reads shmem without a
    mapping or a fault.
    """

    def __init__(
        self, shmid: int, size: int, path: ReadPath, *, fd: int | None = None,
        address: Any = None, pid: int | None = None,
    ) -> None:  # fmt: skip
        self.shmid = shmid
        self.size = size
        self.path = path
        self.pid = pid
        self._fd = fd
        self._address = address
        self._lock = threading.Lock()
        self._closed = False

    # ---- opening and closing ----

    @classmethod
    def attach(cls, shmid: int) -> SegmentReader:
        """shmat(SHM_RDONLY): nattch +1, lpid and atime set to ours until close()."""
        size = _size_of(shmid)
        try:
            address = native.shmat(shmid, native.SHM_RDONLY)
        except OSError as error:
            raise _refused(shmid, error) from error
        try:
            fd = cls._own_file(shmid, native.address_of(address))
            return cls(shmid, size, ReadPath.ATTACH, fd=fd, address=address, pid=os.getpid())
        except BaseException:
            native.shmdt(address)
            raise

    @staticmethod
    def _own_file(shmid: int, start: int) -> int | None:
        """Our attachment's file (the mapping at start), for pread; None without the right
        to open map_files. By address, not by id alone: this process may also map a
        same-id segment of another IPC namespace (the views across namespaces)."""
        for _pid, begin, end, _writable, inode in native.scan_maps([os.getpid()]).rows:
            if inode == shmid and begin == start:
                try:
                    return _open_file("self", begin, end, shmid)
                except OSError:
                    return None
        return None

    @classmethod
    def through_process(
        cls, shmid: int, pid: int | None = None, *, namespace: int | None = None
    ) -> SegmentReader:
        """Read through the mapping of a process that already has the segment attached.
        namespace: the inode of the segment's IPC namespace when it is not ours (call it
        then in a thread joined to it: the size is IPC_STAT there; /proc/self is still
        the process's, of our namespace): only that namespace's mappers are read through."""
        size = _size_of(shmid)
        mappers, hidden = _scan_mappers(shmid, include_self=False, namespace=namespace)
        mappers = [m for m in mappers if pid is None or m.pid == pid]
        if not mappers and hidden and os.geteuid() != 0:
            raise CannotRead(NEEDS_ROOT.format(shmid=shmid))
        if not mappers:
            who = f"process {pid} does not map it" if pid else "no other process has it attached"
            noun = "process" if hidden == 1 else "processes"
            unseen = f", {hidden} {noun} could not be inspected" if hidden else ""
            raise CannotRead(
                f"shm {shmid}: cannot read it without attaching: {who}{unseen} "
                "(attach read-only instead: nattch +1)"
            )
        last: OSError | None = None
        for mapper in mappers:
            try:
                fd = _open_file(mapper.pid, mapper.start, mapper.end, shmid)
            except PermissionError as error:
                raise CannotRead(NEEDS_ROOT.format(shmid=shmid), error) from error
            except OSError as error:
                last = error  # that process went away or changed: try the next
                continue
            if os.fstat(fd).st_size != size:  # a same-id segment of another namespace
                os.close(fd)  # (a mapper that left it keeps its maps): not this one
                last = FileNotFoundError(errno.ENOENT, "its mapping is another segment")
                continue
            return cls(shmid, size, ReadPath.PROCESS, fd=fd, pid=mapper.pid)
        raise CannotRead(f"shm {shmid}: its attachers went away while opening: {last}", last)

    @classmethod
    def open(cls, shmid: int, *, no_attach: bool = False) -> SegmentReader:
        """The read path asked for: through an attacher if no_attach, else attached read-only."""
        return cls.through_process(shmid) if no_attach else cls.attach(shmid)

    def close(self) -> None:
        """Close the file and detach (if attached). Waits for a read in progress; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._address is not None:
                address, self._address = self._address, None
                native.shmdt(address)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> SegmentReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- what it says about itself ----

    @property
    def touches_pages(self) -> bool:
        """Reads go through the attachment, so reading a hole allocates its page."""
        return self._fd is None

    def pid_alive(self) -> bool:
        return self.pid is not None and os.path.exists(f"/proc/{self.pid}")

    def describe(self) -> str:
        """How this view reads, in the words the view shows."""
        if self.path is ReadPath.ATTACH:
            return "attached read-only: nattch +1"
        gone = "" if self.pid_alive() else " (exited; its open file still reads the segment)"
        return f"read through pid {self.pid}{gone}, counters untouched"

    # ---- reading ----

    def read(self, offset: int, length: int) -> bytes:
        """Copy up to length bytes at offset (fewer at the end of the segment)."""
        offset = max(0, offset)
        length = max(0, min(length, self.size - offset))
        with self._lock:
            if self._fd is not None:
                return os.pread(self._fd, length, offset)
            if self._address is not None:
                return native.copy_out(self._address, offset, length)
        raise ReaderClosed(errno.EBADF, f"shm {self.shmid}: the reader is closed")

    def readinto(self, offset: int, buffer: memoryview) -> int:
        """Fill buffer from offset; returns how many bytes were read."""
        length = max(0, min(len(buffer), self.size - offset))
        with self._lock:
            if self._fd is not None:
                return os.preadv(self._fd, [buffer[:length]], offset)
            if self._address is not None:
                buffer[:length] = native.copy_out(self._address, offset, length)
                return length
        raise ReaderClosed(errno.EBADF, f"shm {self.shmid}: the reader is closed")

    def next_data(self, offset: int) -> int:
        """The first offset >= offset that may hold data (the segment's size if only holes
        follow); offset itself where holes cannot be told (no file: read through the mapping)."""
        with self._lock:
            if self._fd is None:
                return offset
            try:
                return min(os.lseek(self._fd, offset, os.SEEK_DATA), self.size)
            except OSError as error:
                if error.errno == errno.ENXIO:  # no data at or after offset
                    return self.size
                return offset  # a file that cannot tell: read it all

    def chunks(
        self, start: int, end: int, size: int = 1 << 20, cancelled: Cancelled | None = None
    ) -> Iterator[bytes]:
        """The bytes of [start, end) in pieces of size, stopping early if cancelled().
        A piece that lies wholly in a hole is zeros made here, not read."""
        end = min(end, self.size)
        data = start
        for at in range(start, end, size):
            if cancelled is not None and cancelled():
                return
            length = min(size, end - at)
            if data < at + length:
                data = self.next_data(at)
            yield bytes(length) if data >= at + length else self.read(at, length)

    # ---- scans at C speed: bytes.find / rfind / compare on chunks ----

    def find(
        self, needle: bytes, start: int, end: int | None = None, cancelled: Cancelled | None = None
    ) -> int:
        """Offset of the first needle starting in [start, end), or -1."""
        end = self.size if end is None else min(end, self.size)
        if not needle:
            return -1
        keep = len(needle) - 1
        buffer = bytearray(CHUNK + keep)
        view = memoryview(buffer)
        at = max(0, start)
        while at < end:
            if cancelled is not None and cancelled():
                return -1
            got = self.readinto(at, view[: min(CHUNK + keep, end + keep - at)])
            found = buffer.find(needle, 0, got)
            if found >= 0 and at + found < end:
                return at + found
            at += CHUNK
        return -1

    def rfind(self, needle: bytes, start: int, end: int, cancelled: Cancelled | None = None) -> int:
        """Offset of the last needle lying wholly in [start, end), or -1."""
        if not needle:
            return -1
        keep = len(needle) - 1
        buffer = bytearray(CHUNK + keep)
        view = memoryview(buffer)
        start, high = max(0, start), min(end, self.size)
        while high - start >= len(needle):
            if cancelled is not None and cancelled():
                return -1
            low = max(start, high - CHUNK - keep)
            got = self.readinto(low, view[: high - low])
            found = buffer.rfind(needle, 0, got)
            if found >= 0:
                return low + found
            high = low + keep
            if low == start:
                break
        return -1

    def first_nonzero(self, start: int, end: int | None = None, cancelled: Cancelled | None = None
                      ) -> int:  # fmt: skip
        """Offset of the first non-zero byte in [start, end), or -1."""
        end = self.size if end is None else min(end, self.size)
        zeros, buffer = bytearray(CHUNK), bytearray(CHUNK)
        view = memoryview(buffer)
        at = max(0, start)
        while at < end:
            if cancelled is not None and cancelled():
                return -1
            data = self.next_data(at)
            if data > at:  # a hole: zeros, not read
                at = data
                continue
            got = self.readinto(at, view[: min(CHUNK, end - at)])
            if not _all_zero(buffer, got, zeros):
                piece = bytes(view[:got])
                return at + got - len(piece.lstrip(b"\0"))
            at += got
        return -1

    def last_nonzero(self, start: int, end: int, cancelled: Cancelled | None = None) -> int:
        """Offset of the last non-zero byte in [start, end), or -1."""
        zeros, buffer = bytearray(CHUNK), bytearray(CHUNK)
        view = memoryview(buffer)
        start, high = max(0, start), min(end, self.size)
        while high > start:
            if cancelled is not None and cancelled():
                return -1
            low = max(start, high - CHUNK)
            got = self.readinto(low, view[: high - low])
            if not _all_zero(buffer, got, zeros):
                return low + len(bytes(view[:got]).rstrip(b"\0")) - 1
            high = low
        return -1

    def in_gap(self, offset: int) -> bool:
        """The byte at offset is a zero of a run of 16 or more, or of one at an edge."""
        low = max(0, offset - len(ZERO_RUN) + 1)
        data = self.read(low, offset + len(ZERO_RUN) - low)
        at = offset - low
        if at >= len(data) or data[at]:
            return False
        before = at - len(data[:at].rstrip(b"\0"))
        after = len(data) - at - len(data[at:].lstrip(b"\0"))
        touches_edge = offset - before == 0 or offset + after >= self.size
        return before + after >= len(ZERO_RUN) or touches_edge

    def next_region(self, offset: int, cancelled: Cancelled | None = None) -> int:
        """Start of the next non-zero region after offset, or -1. Regions are parted by
        runs of at least 16 zero bytes."""
        start = offset
        if not self.in_gap(offset):
            start = self.find(ZERO_RUN, offset, cancelled=cancelled)
            if start < 0:
                return -1
        return self.first_nonzero(start, cancelled=cancelled)

    def previous_region(self, offset: int, cancelled: Cancelled | None = None) -> int:
        """Start of the region holding the last non-zero byte before offset, or -1."""
        last = self.last_nonzero(0, offset, cancelled)
        if last < 0:
            return -1
        gap = self.rfind(ZERO_RUN, 0, last, cancelled)
        return 0 if gap < 0 else gap + len(ZERO_RUN)

    # ---- export ----

    def export(
        self, path: str, start: int, end: int, *, lines: Lines | None = None,
        cancelled: Cancelled | None = None,
    ) -> int:  # fmt: skip
        """Write [start, end) to a new file (never overwrites), raw or as the text `lines`
        makes of it (the caller's format, e.g. a hexdump -C dump: the core has no text).

        Returns the bytes of the segment written; a cancelled export leaves no file.
        """
        end = min(end, self.size)
        done = False
        with open(path, "xb") as out:
            try:
                if lines is not None:
                    pieces = self.chunks(start, end, 1 << 16, cancelled)
                    for line in lines(pieces, start):
                        out.write(line.encode("ascii") + b"\n")
                else:
                    for piece in self.chunks(start, end, 1 << 20, cancelled):
                        out.write(piece)
                done = cancelled is None or not cancelled()
            finally:
                if not done:
                    os.unlink(path)
        return max(0, end - start)


def _all_zero(buffer: bytearray, got: int, zeros: bytearray) -> bool:
    if got == len(buffer):
        return buffer == zeros  # memcmp of two bytearrays
    return buffer.count(0, 0, got) == got
