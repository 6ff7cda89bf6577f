"""POSIX message queues: every queue of our IPC namespace, its counts, holders and waiters.

The queues are files of an mqueue filesystem, one per IPC namespace. Reading one gives
"QSIZE:<bytes> NOTIFY:<n> SIGNO:<n> NOTIFY_PID:<pid>"; mq_getattr on an fd open on it
gives the message counts. Opening a queue file O_RDONLY changes nothing, but the kernel
sets the queue's atime and ctime when its file is read (verified on 6.18): mtime is the
last send or receive, so that is the time shown. Holders come from every process's fds
(device + inode of the queue), blocked senders and receivers from their threads'
/proc/PID/task/TID/syscall (mq_timedsend/mq_timedreceive, arg0 = the mqd, an fd).

Where /dev/mqueue is not mounted, the listing goes through a detached mount (fsopen +
fsmount: an fd, on no mount table), or on kernels without those calls through a helper
process that mounts one in a private mount namespace of its own (mqueue_private): never
on our mount table.
"""

from __future__ import annotations

import errno
import functools
import os
import platform
import re
import stat
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import NamedTuple

from shmtop.core.binding import native
from shmtop.core.posix.model import Holder, PosixProcess
from shmtop.core.posix.mounts import read_mountinfo

# The Structs live in mqueue_model (a recording's reader decodes them without the binding),
# re-exported here, where the scan that makes them is.
from shmtop.core.posix.mqueue_model import Listing as Listing  # noqa: PLC0414
from shmtop.core.posix.mqueue_model import MqQueue as MqQueue  # noqa: PLC0414
from shmtop.core.posix.mqueue_model import MqSnapshot as MqSnapshot  # noqa: PLC0414
from shmtop.core.posix.mqueue_model import MqWaiter as MqWaiter  # noqa: PLC0414
from shmtop.core.posix.mqueue_model import QueueEntry as QueueEntry  # noqa: PLC0414
from shmtop.core.posix.mqueue_model import QueueState as QueueState  # noqa: PLC0414
from shmtop.core.snapshot.procs import start_time

MQUEUE_DIR = "/dev/mqueue"  # where the mqueue fs is mounted by convention
MQUEUE_FSTYPE = frozenset({"mqueue"})
# (mq_timedsend, mq_timedreceive) by machine: mq_send/mq_receive are these in glibc.
MQ_SYSCALLS: dict[str, tuple[int, int]] = {
    "x86_64": (242, 243), "amd64": (242, 243),
    "aarch64": (182, 183), "arm64": (182, 183), "riscv64": (182, 183),
}  # fmt: skip
# Opening a queue's file: read-only (changes nothing), never a symlink, never blocking.
_READ_HELD = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC  # through /proc/PID/fd: a link
_READ = _READ_HELD | os.O_NOFOLLOW
_STATUS = re.compile(
    rb"QSIZE:\s*(\d+)\s+NOTIFY:\s*(-?\d+)\s+SIGNO:\s*(-?\d+)\s+NOTIFY_PID:\s*(-?\d+)"
)


class HeldFiles(NamedTuple):
    """An fd scan made by the caller (native.scan_fds) and the devices it looked for."""

    rows: list[native.FdRow]
    failures: dict[int, int]
    devices: frozenset[int]


def parse_status(text: bytes) -> tuple[int, int, int, int] | None:
    """(qsize, notify, signo, notify_pid) of a queue file's line, or None."""
    found = _STATUS.search(text)
    if found is None:
        return None
    qsize, notify, signo, pid = (int(group) for group in found.groups())
    return qsize, notify, signo, pid


def read_state(fd: int) -> QueueState:
    """The status line and mq_getattr of the queue open on fd (read from offset 0)."""
    problems = []
    status = None
    try:
        status = parse_status(os.pread(fd, 256, 0))
        if status is None:
            problems.append("its file does not read as a queue's status line")
    except OSError as error:
        problems.append(f"its status line is unreadable: {error.strerror}")
    attr = None
    try:
        attr = native.mq_getattr(fd)
    except OSError as error:
        problems.append(f"mq_getattr failed: {error.strerror}")
    qsize, notify, signo, pid = status if status is not None else (None, None, None, 0)
    return QueueState(
        qsize, notify, signo, pid,
        attr.messages if attr else None, attr.max_messages if attr else None,
        attr.max_size if attr else None, "; ".join(problems) or None,
    )  # fmt: skip


def _entry(raw_name: bytes, info: os.stat_result, state: QueueState) -> QueueEntry:
    return QueueEntry(
        raw_name, info.st_dev, info.st_ino, info.st_nlink, info.st_uid, info.st_gid,
        stat.S_IMODE(info.st_mode), info.st_atime, info.st_mtime, info.st_ctime, state,
    )  # fmt: skip


def read_opened(raw_name: bytes, opener: Callable[[], int]) -> QueueEntry | None:
    """A queue opened by opener (O_RDONLY): stat first (the times before our read), then
    its state. None: gone meanwhile."""
    try:
        fd = opener()
    except FileNotFoundError:
        return None
    try:
        info = os.fstat(fd)
        return _entry(raw_name, info, read_state(fd))
    finally:
        os.close(fd)


def list_directory(directory: str) -> Listing:
    """Every queue in a mounted mqueue fs (directory is its root)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        return Listing(None, problem=f"cannot open {directory}: {error.strerror}")
    try:
        return list_fd(dir_fd)
    finally:
        os.close(dir_fd)


def list_fd(dir_fd: int) -> Listing:
    """Every queue in the mqueue fs whose root directory is open as dir_fd."""
    dev = os.fstat(dir_fd).st_dev
    entries = []
    for raw_name in os.listdir(dir_fd):
        found = _list_one(dir_fd, os.fsencode(raw_name))
        if found is not None:
            entries.append(found)
    return Listing(dev, tuple(sorted(entries, key=lambda e: e.raw_name)))


DETACHED = "a detached mount (no mqueue fs is mounted here)"


def list_detached() -> Listing:
    """Our IPC namespace's queues through a detached mount of its mqueue fs (fsmount: on
    no mount table, gone when closed). OSError where the kernel (< 5.2), a seccomp filter
    or our privileges (CAP_SYS_ADMIN) refuse it."""
    dir_fd = native.mqueue_detached()
    try:
        return list_fd(dir_fd)
    finally:
        os.close(dir_fd)


def detached_device() -> int | None:
    """The device of our IPC namespace's mqueue fs, as list_detached() will find it (the
    kernel keeps one mqueue superblock a namespace: a mount of ours has it too); None where
    no detached mount can be made (list_detached() fails alike)."""
    try:
        dir_fd = native.mqueue_detached()
    except OSError:
        return None
    try:
        return os.fstat(dir_fd).st_dev
    finally:
        os.close(dir_fd)


def _list_one(dir_fd: int, name: bytes) -> QueueEntry | None:
    try:
        return read_opened(name, functools.partial(os.open, name, _READ, dir_fd=dir_fd))
    except PermissionError:  # not ours to open: what stat tells, counts unknown
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return None
        return _entry(name, info, QueueState(problem="no permission to open it"))


def mqueue_mount(directory: str = MQUEUE_DIR) -> bool:
    """Whether an mqueue fs is mounted on directory in our mount namespace."""
    return any(point == directory for _, _, point in read_mountinfo("self", MQUEUE_FSTYPE))


def queue_device(directory: str = MQUEUE_DIR) -> int | None:
    """The device of the mqueue fs mounted on directory (its open queues are fds on it), or
    None where none is (take_snapshot then reads the queues another way)."""
    try:
        return os.stat(directory).st_dev if mqueue_mount(directory) else None
    except OSError:
        return None


def namespace_mismatch(listing: Listing) -> bool:
    """Whether a mounted mqueue fs shows another IPC namespace's queues (mounted before
    we, or a container, moved to ours): a listed name that mq_open finds as another file.
    An empty mount cannot tell: taken as ours."""
    for entry in listing.entries:
        try:
            mqd = native.mq_open(b"/" + entry.raw_name, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return True
        except OSError:
            continue  # not ours to open: try another
        try:
            info = os.fstat(mqd)
        finally:
            native.mq_close(mqd)
        return (info.st_dev, info.st_ino) != (entry.dev, entry.inode)
    return False


class _Joined:
    """Holders and waiters of each queue by (device, inode)."""

    def __init__(self) -> None:
        self.holders: dict[tuple[int, int], list[Holder]] = defaultdict(list)
        self.waiters: dict[tuple[int, int], list[MqWaiter]] = defaultdict(list)
        self.unlinked: dict[tuple[int, int], QueueEntry] = {}


def _unmounted(detached: bool) -> tuple[Listing, str]:
    """The queues where no mqueue fs of ours is mounted: through a detached mount, else
    through a helper process's private mount namespace (older kernels, or fsopen
    filtered); neither is ever on our mount table."""
    if detached:
        try:
            return list_detached(), DETACHED
        except OSError as error:
            if error.errno in (errno.EPERM, errno.EACCES):  # the helper would need it too
                why = "no mqueue fs is mounted and reading one needs CAP_SYS_ADMIN"
                why += f" ({error.strerror})"
                return Listing(None, problem=why), DETACHED
    # Imported only here: it spawns a helper, and its subprocess import costs a one-shot ~7 ms.
    from shmtop.core.posix import mqueue_private

    return mqueue_private.list_privately(), mqueue_private.SOURCE


def take_snapshot(
    pids: Sequence[int] | None = None, *, directory: str = MQUEUE_DIR,
    machine: str | None = None, detached: bool = True, fds: HeldFiles | None = None,
) -> MqSnapshot:  # fmt: skip
    """One scan: the queues (through directory if an mqueue fs is mounted there, else see
    _unmounted; detached=False goes straight to the helper), then every process's fds and
    blocked threads. fds: a scan of the same pids' fds the caller made (core/posix/full.py:
    one fd scan for shm and queues), used if it covered the queues' device."""
    taken_at = time.time()
    note = None
    if mqueue_mount(directory):
        listing = list_directory(directory)
        source = directory
        if namespace_mismatch(listing):
            listing, source = _unmounted(detached)
            note = f"{directory} shows another IPC namespace's queues: read through {source}"
    else:
        listing, source = _unmounted(detached)
    pids = [int(n) for n in os.listdir("/proc") if n.isdigit()] if pids is None else list(pids)
    joined = _Joined()
    uninspected: dict[int, int] = {}
    listed = {(e.dev, e.inode): e for e in listing.entries}
    if listing.dev is not None:
        held = fds if fds is not None and listing.dev in fds.devices else None
        _join_holders(pids, listing.dev, listed, joined, uninspected, held)
        machine = machine or platform.machine()
        if machine.lower() not in MQ_SYSCALLS:
            note = f"no system call table for {machine}: blocked senders and receivers unknown"
        elif listed or joined.holders:  # a blocked thread holds its queue open: none, no scan
            _join_waiters(pids, listing.dev, MQ_SYSCALLS[machine.lower()], joined, uninspected)
    entries = [*listed.values(), *joined.unlinked.values()]
    queues = tuple(
        MqQueue(e, tuple(joined.holders.get((e.dev, e.inode), ())),
                tuple(joined.waiters.get((e.dev, e.inode), ())))
        for e in sorted(entries, key=lambda e: (e.nlink == 0, e.raw_name, e.inode))
    )  # fmt: skip
    users = sorted({h.pid for q in queues for h in q.holders}
                   | {w.pid for q in queues for w in q.waiters}
                   | {q.entry.state.notify_pid for q in queues} - {0})  # fmt: skip
    processes = {
        pid: PosixProcess(pid, fact.comm.decode("utf-8", "replace"), fact.uid,
                          start_time(fact.start))
        for pid, fact in zip(users, native.process_facts(users), strict=True)
        if not fact.errno
    }  # fmt: skip
    problem = "; ".join(p for p in (listing.problem, note) if p) or None
    return MqSnapshot(taken_at, queues, source, processes, uninspected, len(pids), problem,
                      listing.dev is not None, listing.dev)  # fmt: skip


def _join_holders(
    pids: list[int], dev: int, listed: dict[tuple[int, int], QueueEntry], joined: _Joined,
    uninspected: dict[int, int], held: HeldFiles | None = None,
) -> None:  # fmt: skip
    if held is None:
        rows, failures = native.scan_fds(pids, [dev])
    else:
        rows, failures = [row for row in held.rows if row.dev == dev], held.failures
    uninspected.update({p: n for p, n in failures.items() if n not in (0, errno.ESRCH)})
    for row in rows:
        key = (row.dev, row.inode)
        joined.holders[key].append(
            Holder(row.pid, row.fd, bool(row.access & 1), bool(row.access & 2))
        )
        if key not in listed and key not in joined.unlinked:
            # mq_unlink'd but still open: its messages stay until the last close. Read it
            # through the holder's fd (a new open of the same queue; root only).
            link = row.name.removesuffix(b" (deleted)").lstrip(b"/")
            path = f"/proc/{row.pid}/fd/{row.fd}"
            try:
                found = read_opened(link, functools.partial(os.open, path, _READ_HELD))
            except OSError:
                found = None
            if found is not None and (found.dev, found.inode) == key:
                joined.unlinked[key] = found


def _join_waiters(
    pids: list[int], dev: int, numbers: tuple[int, int], joined: _Joined,
    uninspected: dict[int, int],
) -> None:  # fmt: skip
    send, _receive = numbers
    scan = native.scan_syscalls(pids, list(numbers))
    uninspected.update({p: n for p, n in scan.failures.items() if n not in (0, errno.ESRCH)})
    for row in scan.rows:
        fd = row.arg0
        try:
            info = os.stat(f"/proc/{row.pid}/task/{row.tid}/fd/{fd}")
        except OSError:
            continue  # the call ended, or the thread did
        if info.st_dev == dev:  # a queue of our namespace (another's has its own device)
            joined.waiters[(info.st_dev, info.st_ino)].append(
                MqWaiter(row.pid, row.tid, fd, row.nr == send)
            )
