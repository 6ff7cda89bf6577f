"""Threads blocked on POSIX message queues (mq_timedsend, mq_timedreceive) for the waiter scan.

The call's first argument is the mqd: an fd of the waiter's process. /proc/PID/task/TID/fd/N
leads to the queue itself (its inode, on the mqueue fs of the waiter's IPC namespace). An open
of that link (O_RDONLY | O_NONBLOCK, as root) gives mq_getattr, which fails with EBADF on
anything but a queue: an fd number reused meanwhile for another file is never taken for one.
Nothing is read from the queue's file (a read moves its atime); its mtime is the last send or
receive. Who could release a waiter comes from every process's fds on the queues' devices
(scan_fds): the access mode of each fd (procfs sets the link's mode bits from f_mode, what
fdinfo's flags say too) tells who holds a queue open for sending and who for receiving;
those lists are reused for a while (HolderCache).
"""

from __future__ import annotations

import errno
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from shmtop.core.binding import native
from shmtop.core.errors import errno_words as describe_errno
from shmtop.core.posix.mqueue import MQ_SYSCALLS
from shmtop.core.waits.records import MqWait

_Row = native.TaskRow
_OPEN = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC  # a magic link: no O_NOFOLLOW
NOT_A_QUEUE = "mq call on an fd that is no queue now"
_READ, _WRITE = 1, 2  # FdRow.access bits


def mq_numbers(machine: str) -> dict[int, str]:
    """System call number -> name of the two blocking queue calls on machine ({} if unknown)."""
    numbers = MQ_SYSCALLS.get(machine.lower())
    if numbers is None:
        return {}
    return {numbers[0]: "mq_timedsend", numbers[1]: "mq_timedreceive"}


@dataclass(frozen=True, slots=True)
class QueueWait:
    """A blocked queue call and its queue (object_id: the queue's inode)."""

    row: _Row
    syscall: str  # mq_timedsend or mq_timedreceive
    inode: int
    queue: MqWait

    @property
    def direction(self) -> Literal["send", "receive"]:
        return "send" if self.syscall == "mq_timedsend" else "receive"


def locate(rows: Sequence[_Row], calls: dict[int, str], pids: Sequence[int],
           ignored: Counter[str], holders: HolderCache, now: float) -> list[QueueWait]:  # fmt: skip
    """Each blocked queue call with its queue, counts and holders (for the other direction:
    its releasers); rows whose fd is gone or no queue are counted in ignored."""
    found = []
    for row in rows:
        located = _queue_of(row, calls[row.nr], ignored)
        if located is not None:
            found.append(located)
    if not found:
        return []
    needs = {(w.queue.device, w.inode): w.direction for w in found}
    known = holders.holders(needs, pids, now)
    return [
        QueueWait(w.row, w.syscall, w.inode,
                  replace(w.queue, senders=known[key][0], receivers=known[key][1]))
        for w in found
        for key in [(w.queue.device, w.inode)]
    ]  # fmt: skip


HOLDERS_AGE = 10.0  # seconds a queue's holder lists are reused (as a POSIX object's mappers)
_Key = tuple[int, int]  # (device, inode) of a queue
_Holders = tuple[tuple[int, ...], tuple[int, ...]]  # (senders, receivers)


class HolderCache:
    """Who holds each queue waited on open, for sending and for receiving.

    Finding them reads every process's fds (as costly as a listing of the queues), so the
    lists of a queue are reused for HOLDERS_AGE seconds while every holder still exists, and
    only while its waiters have a releaser in them: a queue whose waiters have none is read
    again at every scan, so a process that opens it is seen at once.
    """

    def __init__(self) -> None:
        self._known: dict[_Key, tuple[float, _Holders]] = {}

    def holders(self, needs: dict[_Key, Literal["send", "receive"]], pids: Sequence[int],
                now: float) -> dict[_Key, _Holders]:  # fmt: skip
        """needs: each queue and the direction of (one of) its waiters."""
        stale = {key for key, direction in needs.items() if not self._fresh(key, direction, now)}
        if stale:
            senders, receivers = _holders(stale, pids)
            for key in stale:
                self._known[key] = (now, (tuple(sorted(set(senders.get(key, ())))),
                                          tuple(sorted(set(receivers.get(key, ()))))))  # fmt: skip
        self._known = {key: self._known[key] for key in needs}
        return {key: self._known[key][1] for key in needs}

    def _fresh(self, key: _Key, direction: str, now: float) -> bool:
        known = self._known.get(key)
        if known is None or now - known[0] >= HOLDERS_AGE:
            return False
        senders, receivers = known[1]
        releasers = senders if direction == "receive" else receivers
        return bool(releasers) and all(
            os.path.exists(f"/proc/{pid}") for pid in {*senders, *receivers}
        )


def _queue_of(row: _Row, syscall: str, ignored: Counter[str]) -> QueueWait | None:
    fd = row.arg0 & 0xFFFFFFFF  # mqd_t is an int
    path = f"/proc/{row.pid}/task/{row.tid}/fd/{fd}".encode()
    try:
        link = os.readlink(path)
        info = os.stat(path)
    except OSError:
        ignored["ended during the scan"] += 1  # the call returned, or the thread ended
        return None
    attr: native.MqAttr | None = None
    problem = None
    try:
        opened = os.open(path, _OPEN)
    except OSError as error:
        problem = f"the queue cannot be opened ({describe_errno(error.errno or errno.EIO)})"
    else:
        try:
            now = os.fstat(opened)
            if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
                ignored["ended during the scan"] += 1  # the fd was closed and reused between
                return None
            attr = native.mq_getattr(opened)
        except OSError as error:
            if error.errno == errno.EBADF:
                ignored[NOT_A_QUEUE] += 1
                return None
            problem = f"mq_getattr failed ({describe_errno(error.errno or errno.EIO)})"
        finally:
            os.close(opened)
    linked = info.st_nlink > 0
    text = link.decode("utf-8", "replace")
    if not linked:
        text = text.removesuffix(" (deleted)")
    name = "/" + text.rpartition("/")[2]  # "/NAME" on mq_open's internal mount, or a path
    queue = MqWait(
        fd, info.st_dev, name, linked,
        attr.messages if attr else None, attr.max_messages if attr else None,
        attr.max_size if attr else None, info.st_mtime,
        priority=(row.arg3 & 0xFFFFFFFF) if syscall == "mq_timedsend" else None, problem=problem,
    )  # fmt: skip
    return QueueWait(row, syscall, info.st_ino, queue)


_Pids = dict[tuple[int, int], list[int]]


def _holders(keys: set[tuple[int, int]], pids: Sequence[int]) -> tuple[_Pids, _Pids]:
    """Per queue, the processes with an fd open on it for writing, and for reading."""
    senders: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
    receivers: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
    rows, _failures = native.scan_fds(pids, sorted({dev for dev, _ in keys}))
    for fd_row in rows:
        key = (fd_row.dev, fd_row.inode)
        if key not in keys:
            continue
        if fd_row.access & _WRITE:
            senders[key].append(fd_row.pid)
        if fd_row.access & _READ:
            receivers[key].append(fd_row.pid)
    return senders, receivers
