"""The records of one snapshot of the System V IPC of a namespace: frozen, never changed.

msgspec Structs, not dataclasses: a one-shot command creates the classes at every start
(0.04 ms a class, a frozen dataclass ~1.3 ms) and a snapshot builds thousands of them
(about 10x faster than a frozen dataclass). gc=False: they hold no cycles (reference counting
frees them), so the cycle collector neither tracks nor walks them (a long-running view keeps
tens of thousands alive).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec

SHM_DEST = 0o1000
SHM_LOCKED = 0o2000


# The default of the mappings below: read-only, so one can be shared.
_NO_ENTRIES: Mapping[Any, Any] = MappingProxyType({})


class Kind(enum.StrEnum):
    """The three kinds of System V IPC object."""

    SHM = "shm"
    SEM = "sem"
    MSG = "msg"


class Coverage(enum.StrEnum):
    """How far a segment's attachment list can be trusted against its nattch."""

    COMPLETE = "complete"  # as many mappings found as nattch says
    PARTIAL = "partial"  # fewer, and some processes could not be seen: the rest are unknown
    CHANGED = "inconsistent"  # disagreed with nattch again after a re-read: changed mid-scan
    NOT_SCANNED = "not scanned"  # the snapshot was taken without the attachment scan


class Process(msgspec.Struct, frozen=True, gc=False):
    """What shmtop knows of a process that matters to some object."""

    pid: int
    command: str  # short name (comm); untrusted text
    user: str
    started: float  # epoch seconds, tells a reused PID apart
    # The command line as the process left it (PostgreSQL writes its role over it:
    # "postgres: checkpointer"), NULs as spaces, cut at 256 bytes; None when empty
    # (kernel threads, zombies) or not read. Untrusted text.
    title: str | None = None


class Owner(msgspec.Struct, frozen=True, gc=False):
    """Key, owner, creator and permission bits shared by every kind."""

    key: int  # unsigned 32-bit; 0 is IPC_PRIVATE (or a removed segment)
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int  # full mode word as the kernel keeps it (shm: with DEST/LOCKED)
    user: str
    group: str
    creator_user: str
    creator_group: str

    @property
    def perms(self) -> int:
        """The rwx bits alone."""
        return self.mode & 0o777


class Attachment(msgspec.Struct, frozen=True, gc=False):
    """One mapping of a segment in one process (a process may have several).

    A Struct, not a NamedTuple: as fast to make, and the cycle collector never tracks it (it
    tracks every tuple subclass, so 8000 NamedTuples a snapshot stayed on its lists).
    """

    pid: int
    command: str
    user: str
    writable: bool
    start: int
    end: int
    is_self: bool = False  # the mapping is shmtop's own (the viewer)
    title: str | None = None  # the process's title (Process.title); untrusted text


class Segment(msgspec.Struct, frozen=True, gc=False):
    """A shared memory segment and who has it mapped."""

    id: int
    owner: Owner
    size: int
    rss: int | None  # bytes; None where the kernel does not report it
    swap: int | None
    nattch: int
    cpid: int
    lpid: int
    atime: int  # epoch seconds, 0 = never
    dtime: int
    ctime: int
    creator_alive: bool | None  # None: cannot tell (no cpid in our PID namespace, or hidden)
    attachments: tuple[Attachment, ...] = ()
    coverage: Coverage = Coverage.COMPLETE  # whether attachments agree with nattch

    @property
    def dest(self) -> bool:
        """Removed (IPC_RMID) but still attached: goes when nattch reaches 0."""
        return bool(self.owner.mode & SHM_DEST)

    @property
    def locked(self) -> bool:
        """SHM_LOCK: kept in memory, never swapped."""
        return bool(self.owner.mode & SHM_LOCKED)

    @property
    def flags(self) -> tuple[str, ...]:
        """The kernel's status words: dest, locked (orphan and the like: shmtop.core.verdicts)."""
        return tuple(name for name, on in (("dest", self.dest), ("locked", self.locked)) if on)

    @property
    def attached_pids(self) -> tuple[int, ...]:
        """Distinct attached PIDs, in order of first mapping."""
        return tuple(dict.fromkeys(a.pid for a in self.attachments))


class Semaphore(msgspec.Struct, frozen=True, gc=False):
    """One semaphore of a set (a Struct, like Attachment: 16,000 a snapshot at the benchmark's
    1000 sets of 16, made in C by itertools.starmap)."""

    num: int
    value: int
    ncnt: int  # processes waiting for the value to increase
    zcnt: int  # processes waiting for it to become zero
    pid: int  # last process that changed it: a hint of who holds it, not proof


class SemaphoreSet(msgspec.Struct, frozen=True, gc=False):
    """A semaphore set; its semaphores are None when they could not be read."""

    id: int
    owner: Owner
    nsems: int
    otime: int  # last semop, 0 = never
    ctime: int
    semaphores: tuple[Semaphore, ...] | None
    unreadable: str | None = None  # why semaphores is None

    @property
    def waiters(self) -> int | None:
        """Processes blocked on the set (ncnt + zcnt), if readable."""
        if self.semaphores is None:
            return None
        return sum(s.ncnt + s.zcnt for s in self.semaphores)


class MessageQueue(msgspec.Struct, frozen=True, gc=False):
    """A message queue's header (the messages themselves are peeked on demand)."""

    id: int
    owner: Owner
    cbytes: int  # bytes queued
    qnum: int  # messages queued
    qbytes: int | None  # capacity in bytes; None when only /proc was readable
    lspid: int
    lrpid: int
    stime: int
    rtime: int
    ctime: int


IpcObject = Segment | SemaphoreSet | MessageQueue


class Limits(msgspec.Struct, frozen=True, gc=False):
    """Kernel limits and current usage of all three kinds."""

    page_size: int
    shmmax: int  # bytes a segment
    shmall: int  # pages in all
    shmmni: int  # segments
    shm_segments: int
    shm_pages: int
    shm_rss_pages: int
    shm_swap_pages: int
    semmni: int  # sets
    semmns: int  # semaphores in all
    semmsl: int  # semaphores a set
    semopm: int  # operations a semop call
    semvmx: int
    sem_sets: int
    sem_semaphores: int
    msgmni: int  # queues
    msgmax: int  # bytes a message
    msgmnb: int  # default bytes a queue
    msg_queues: int
    msg_messages: int
    msg_bytes: int


class BlindSpots(msgspec.Struct, frozen=True, gc=False):
    """What the snapshot could not see, so nobody mistakes it for complete."""

    processes_scanned: int = 0
    uninspected: Mapping[str, int] = _NO_ENTRIES
    attachments_missing: int = 0  # sum of nattch minus mappings found
    other_namespace_mappings: int = 0  # /SYSV mappings of processes in other IPC namespaces
    processes_hidden: str | None = None  # why /proc does not even list some processes (hidepid)

    @property
    def uninspected_total(self) -> int:
        return sum(self.uninspected.values())


class Snapshot(msgspec.Struct, frozen=True, gc=False):
    """Everything shmtop shows, taken at one moment; never changes afterwards."""

    taken_at: float
    segments: tuple[Segment, ...]
    semaphore_sets: tuple[SemaphoreSet, ...]
    queues: tuple[MessageQueue, ...]
    limits: Limits
    processes: Mapping[int, Process]  # the PIDs that matter to some object
    blind_spots: BlindSpots
    viewer_pid: int
    ipc_namespace: int  # inode of /proc/self/ns/ipc
    # PIDs that matter to some object and exist, but whose facts cannot be read (hidden by
    # hidepid, or unreadable): pid -> why. With `processes` these are every PID that matters
    # and runs; any other PID that matters was shown gone (kill(pid, 0) said ESRCH).
    hidden: Mapping[int, str] = _NO_ENTRIES

    def objects(self, kind: Kind) -> tuple[IpcObject, ...]:
        """Every object of one kind."""
        by_kind: dict[Kind, tuple[IpcObject, ...]] = {
            Kind.SHM: self.segments, Kind.SEM: self.semaphore_sets, Kind.MSG: self.queues,
        }  # fmt: skip
        return by_kind[kind]

    def find(self, kind: Kind, ident: int) -> IpcObject | None:
        """The object of that kind and id, or None."""
        return next((o for o in self.objects(kind) if o.id == ident), None)

    def command_of(self, pid: int) -> str | None:
        """Short name of a PID that matters, or None if unknown or gone."""
        process = self.processes.get(pid)
        return process.command if process else None

    def names_of(self, pid: int) -> tuple[str | None, str | None]:
        """(command_of(pid), title_of(pid)) in one lookup: what a JSON record of a PID needs
        (a set's 16 semaphores, a segment's cpid and lpid) at one call, not two."""
        process = self.processes.get(pid)
        return (process.command, process.title) if process is not None else (None, None)

    def title_of(self, pid: int) -> str | None:
        """Title of a PID that matters (Process.title), or None if none, unknown or gone."""
        process = self.processes.get(pid)
        return process.title if process else None

    def segment(self, shmid: int) -> Segment | None:
        return next((s for s in self.segments if s.id == shmid), None)

    def semaphore_set(self, semid: int) -> SemaphoreSet | None:
        return next((s for s in self.semaphore_sets if s.id == semid), None)

    def queue(self, msqid: int) -> MessageQueue | None:
        return next((q for q in self.queues if q.id == msqid), None)
