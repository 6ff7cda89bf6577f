"""The POSIX queues' Structs (what core/posix/mqueue.py's scan gives), apart from the scan:
a recording's reader decodes them without loading the binding."""

from __future__ import annotations

import os

import msgspec

from shmtop.core.posix.model import Holder, PosixProcess


class QueueState(msgspec.Struct, frozen=True, gc=False):
    """What one open of a queue's file read: its status line and mq_getattr."""

    qsize: int | None = None  # bytes queued (not messages)
    notify: int | None = None  # sigev_notify of the registration (0 also when none)
    signo: int | None = None
    notify_pid: int = 0  # the registered process (0: nobody registered)
    messages: int | None = None  # queued now (mq_curmsgs)
    max_messages: int | None = None
    max_size: int | None = None  # bytes a message
    problem: str | None = None  # why a part is unknown


class QueueEntry(msgspec.Struct, frozen=True, gc=False):
    """One queue as a listing of an mqueue fs (or a holder's fd) saw it."""

    raw_name: bytes  # the file name, without the leading "/": untrusted bytes
    dev: int
    inode: int
    nlink: int  # 0: mq_unlink'd but still open
    uid: int
    gid: int
    mode: int  # permission bits
    atime: float  # moved by every read of the file (ours too)
    mtime: float  # the last send or receive (or the creation)
    ctime: float
    state: QueueState


class Listing(msgspec.Struct, frozen=True, gc=False):
    """The queues of one mqueue fs, as a mount of it showed them."""

    dev: int | None  # the mqueue fs's device: fds on it are open queues (None: unknown)
    entries: tuple[QueueEntry, ...] = ()
    problem: str | None = None  # why nothing could be listed


class MqWaiter(msgspec.Struct, frozen=True, gc=False):
    """A thread blocked sending to or receiving from a queue."""

    pid: int
    tid: int
    fd: int  # the mqd it passed
    sending: bool  # True: mq_timedsend on a full queue; False: mq_timedreceive on an empty one


class MqQueue(msgspec.Struct, frozen=True, gc=False):
    """One POSIX message queue, with the processes that hold it open or wait on it."""

    entry: QueueEntry
    holders: tuple[Holder, ...] = ()
    waiters: tuple[MqWaiter, ...] = ()

    @property
    def key(self) -> tuple[int, int]:
        """The queue's identity: (device, inode). Never the name."""
        return (self.entry.dev, self.entry.inode)

    @property
    def name(self) -> str:
        """The POSIX name, "/NAME" (surrogate-escaped: it round-trips through argv).
        Untrusted text: show it through the sanitiser."""
        return "/" + os.fsdecode(self.entry.raw_name)

    @property
    def linked(self) -> bool:
        return self.entry.nlink > 0

    @property
    def senders(self) -> tuple[MqWaiter, ...]:
        return tuple(w for w in self.waiters if w.sending)

    @property
    def receivers(self) -> tuple[MqWaiter, ...]:
        return tuple(w for w in self.waiters if not w.sending)

    @property
    def holder_pids(self) -> tuple[int, ...]:
        return tuple(sorted({h.pid for h in self.holders}))


class MqSnapshot(msgspec.Struct, frozen=True, gc=False):
    """Every queue of our IPC namespace at one moment."""

    taken_at: float
    queues: tuple[MqQueue, ...]
    source: str  # the mount read ("/dev/mqueue"), or how the queues were reached
    processes: dict[int, PosixProcess]  # holders, waiters and notification pids
    uninspected: dict[int, int]  # pid -> errno: fds or threads unreadable
    scanned: int
    problem: str | None = None  # why queues may be missing (nothing listed, or a note)
    listed: bool = True  # False: no mqueue fs could be read at all (problem says why)
    # The device of the mqueue fs read (its queues' open files are fds on it; the same one
    # scan after scan, also through a detached mount: one per IPC namespace), None: none.
    device: int | None = None

    @property
    def complete(self) -> bool:
        return not self.uninspected and self.problem is None

    def named(self, name: str) -> list[MqQueue]:
        return [q for q in self.queues if q.name == name]
