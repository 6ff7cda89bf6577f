"""The waits' data: a blocked thread and its operations, the objects waited on, as read."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.core.posix.model import MQ_KIND, PosixKind


class MqKind(enum.StrEnum):
    """A POSIX message queue, as a wait's object (apart from PosixKind: no shm file)."""

    MQ = MQ_KIND


class AnonKind(enum.StrEnum):
    """Shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS, inherited across fork) or a memfd,
    as the object of a futex wait: object_id is its inode on the kernel's internal shm mount."""

    ANON = "anon"


# What a wait is on: a System V object, or a POSIX one (object_id is then its inode).
WaitKind = Kind | PosixKind | MqKind | AnonKind

IPC_NOWAIT = native.IPC_NOWAIT
SEM_UNDO = native.SEM_UNDO
MSG_NOERROR = native.MSG_NOERROR
MSG_EXCEPT = 0o20000  # msgrcv: any type but msgtyp (linux/msg.h)
SEM_FLAGS = (("IPC_NOWAIT", IPC_NOWAIT), ("SEM_UNDO", SEM_UNDO))
MSG_FLAGS = (("IPC_NOWAIT", IPC_NOWAIT), ("MSG_EXCEPT", MSG_EXCEPT),
             ("MSG_NOERROR", MSG_NOERROR))  # fmt: skip


def flag_names(flags: int, names: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """Names of the set bits, any bit without a name as one hex number."""
    named = tuple(name for name, bit in names if flags & bit)
    rest = flags & ~sum(bit for _, bit in names)
    return (*named, f"{rest:#x}") if rest else named


@dataclass(frozen=True, slots=True)
class SemOp:
    """One struct sembuf of a blocked semop: semaphore number, operation, flags."""

    num: int
    op: int
    flags: int

    @property
    def flag_names(self) -> tuple[str, ...]:
        return flag_names(self.flags, SEM_FLAGS)

    def __str__(self) -> str:
        op = f"+{self.op}" if self.op > 0 else str(self.op)
        return " ".join((f"sem {self.num} {op}", *self.flag_names))


@dataclass(frozen=True, slots=True)
class FutexWait:
    """A shared futex wait: the word a thread sleeps on, inside a System V segment or a POSIX
    object, and what the word says (a mutex's owner, a named semaphore's counts)."""

    address: int  # in the waiter's address space
    offset: int  # in the object, bytes
    op: str  # FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI, ...
    expected: int | None  # the value FUTEX_WAIT* sleeps while the word holds
    word: int | None  # the u32 at the address now; None when unreadable
    what: Literal["mutex", "semaphore", "futex"]  # a mutex when its owner is known
    owner_tid: int | None = None  # the mutex's owner, as the word (or glibc's __owner) says
    owner_from: str | None = None  # which field said so: "futex word", "glibc __owner"
    owner_pid: int | None = None  # the owner's process (its TID itself once it is gone)
    # Without an owner: every process mapping the object (any may post or unlock); None when
    # the maps were not read.
    mappers: tuple[int, ...] | None = None
    sem_waiters: int | None = None  # a glibc sem_t's nwaiters (the u32 after the value)
    object_name: str | None = None  # POSIX: the object's name (untrusted text)
    device: int = 0  # POSIX: st_dev of the object
    problem: str | None = None  # why the word or the layout could not be read

    def where(self) -> str:
        return f"+{self.offset:#x}"


@dataclass(frozen=True, slots=True)
class NamedSemaphore:
    """A glibc named semaphore (/dev/shm/sem.NAME): its words, and its live waiters."""

    device: int
    inode: int
    name: str  # "/NAME", untrusted text
    value: int | None  # None: layout unknown or unreadable (problem)
    nwaiters: int | None  # glibc's count: a killed waiter never decrements it
    live_waiters: int  # threads the scan found blocked in futex on it
    problem: str | None = None

    @property
    def stale(self) -> bool:
        """nwaiters counts waiters that no longer wait (killed while blocked)."""
        return self.nwaiters is not None and self.live_waiters < self.nwaiters


@dataclass(frozen=True, slots=True)
class MqWait:
    """A thread blocked in mq_timedsend/mq_timedreceive: its queue (reached through the fd it
    passed) and who holds the queue open for the other direction (any of them may release it)."""

    fd: int  # the mqd it passed, an fd of its process
    device: int  # st_dev of the queue's mqueue fs (object_id is its inode)
    name: str  # "/NAME" as the fd's link says; untrusted text
    linked: bool  # False: mq_unlink'd, still open
    messages: int | None  # mq_getattr: queued now; None when unreadable (problem)
    max_messages: int | None
    max_size: int | None
    changed_at: float  # the queue file's mtime: its last send or receive (0: unknown)
    priority: int | None = None  # send: the message's priority
    # Processes holding the queue open for sending (a receiver's releasers) and for receiving
    # (a sender's), from their fds' access modes; None when the fds were not read.
    senders: tuple[int, ...] | None = None
    receivers: tuple[int, ...] | None = None
    problem: str | None = None  # why the counts are unknown

    def releasers(self, direction: Literal["send", "receive"] | None) -> tuple[int, ...] | None:
        """The holders that could release a waiter: a receiver's senders, a sender's receivers."""
        return self.senders if direction == "receive" else self.receivers

    def counts(self) -> str:
        """'0 of 10 messages', or '? messages (why)'."""
        if self.messages is None:
            return f"? messages ({self.problem})"
        return f"{self.messages} of {self.max_messages} messages"


@dataclass(frozen=True, slots=True)
class Waiter:
    """A thread blocked in an IPC call, and what it waits for."""

    pid: int
    tid: int
    command: str  # untrusted text
    kind: WaitKind  # sem or msg; shm, pshm or psem for a futex wait
    object_id: int  # the id; a POSIX object's inode
    syscall: str  # semop, semtimedop, msgsnd, msgrcv, futex
    since: float  # epoch seconds: blocked at least since the first scan that saw this wait
    since_verified: bool  # the thread did not run between scans (schedstat); else assumed
    operations: tuple[SemOp, ...] | None = None  # sem; None when its memory was unreadable
    waits_for: tuple[int, ...] = ()  # sem: the semaphores it sleeps on
    timeout: float | None = None  # sem: the relative timeout semtimedop was given
    direction: Literal["send", "receive"] | None = None  # msg
    msg_type: int | None = None  # msg: the type wanted (receive) or being sent (send)
    msg_flags: int = 0
    msg_size: int | None = None  # msg: bytes being sent, or the receive buffer's size
    unreadable: str | None = None  # why operations or the sent type could not be read
    title: str | None = None  # the process's title (Process.title); untrusted text
    futex: FutexWait | None = None  # a futex wait in shared memory
    semaphore: NamedSemaphore | None = None  # psem: the named semaphore's counts
    queue: MqWait | None = None  # pmq: the POSIX message queue

    @property
    def target(self) -> str:
        """'sem 12', 'msg 3', 'shm 5 +0x40', 'psem /NAME', 'pshm /NAME +0x40', 'pmq /NAME',
        'anon /dev/zero (inode 5) +0x40' (untrusted)."""
        if self.queue is not None:
            return f"{self.kind} {self.queue.name}" + ("" if self.queue.linked else " (unlinked)")
        if self.futex is None:
            return f"{self.kind} {self.object_id}"
        name = self.futex.object_name if self.futex.object_name is not None else self.object_id
        if self.kind is AnonKind.ANON:  # many objects print the same name: say the inode
            return f"{self.kind} {name} (inode {self.object_id}) {self.futex.where()}"
        if self.kind is PosixKind.SEM and self.futex.offset == 0:
            return f"{self.kind} {name}"
        return f"{self.kind} {name} {self.futex.where()}"

    def operation(self) -> str:
        """What it waits to do: 'sem 2 -1 SEM_UNDO', 'receive type 7', 'send type 3, 64 bytes',
        'lock mutex (owner tid 812)', 'sem_wait (value 0, nwaiters 2, 1 live: stale)'."""
        if self.futex is not None:
            return futex_operation(self.futex, self.semaphore)
        if self.queue is not None:
            return queue_operation(self.queue, self.direction, self.msg_size)
        if self.kind is Kind.SEM:
            if self.operations is None:
                return f"? ({self.unreadable})"
            text = "; ".join(str(op) for op in self.operations)
            return text if self.timeout is None else f"{text} (timeout {self.timeout:g}s)"
        flags = flag_names(self.msg_flags & ~IPC_NOWAIT, MSG_FLAGS)
        if self.direction == "send":
            sent = f"? ({self.unreadable})" if self.msg_type is None else f"type {self.msg_type}"
            return " ".join((f"send {sent}, {self.msg_size} bytes", *flags))
        return " ".join((f"receive {wanted_type(self.msg_type or 0, self.msg_flags)}", *flags))


def futex_operation(futex: FutexWait, semaphore: NamedSemaphore | None) -> str:
    """A futex wait in words."""
    if semaphore is not None:
        if semaphore.value is None:
            return f"sem_wait ({semaphore.problem})"
        stale = ": stale" if semaphore.stale else ""
        return (f"sem_wait (value {semaphore.value}, nwaiters {semaphore.nwaiters}, "
                f"{semaphore.live_waiters} live{stale})")  # fmt: skip
    if futex.owner_tid is not None:
        return f"lock mutex (owner tid {futex.owner_tid}, from the {futex.owner_from})"
    if futex.what == "semaphore" and futex.sem_waiters is not None:
        return f"sem_wait (value {futex.word}, nwaiters {futex.sem_waiters}: glibc's sem_t)"
    word = "unreadable" if futex.word is None else f"{futex.word:#x}"
    text = f"{futex.op} (word {word}"
    text += "" if futex.expected is None else f", sleeps while {futex.expected:#x}"
    return text + (f"; {futex.problem})" if futex.problem else ")")


def queue_operation(queue: MqWait, direction: str | None, size: int | None) -> str:
    """'receive (buffer 8192 bytes; queue empty: 0 of 10 messages)', 'send 64 bytes, priority 0
    (queue full: 10 of 10 messages)'."""
    if direction == "receive":
        return f"receive (buffer {size} bytes; queue empty: {queue.counts()})"
    return f"send {size} bytes, priority {queue.priority} (queue full: {queue.counts()})"


def wanted_type(msgtyp: int, flags: int) -> str:
    """What msgrcv(msgtyp) takes, in words."""
    if msgtyp == 0:
        return "any type"
    if msgtyp < 0:
        return f"lowest type <= {-msgtyp}"
    return f"any type but {msgtyp}" if flags & MSG_EXCEPT else f"type {msgtyp}"


@dataclass(frozen=True, slots=True)
class SemState:
    """A semaphore set someone waits on, as the scan read it."""

    id: int
    nsems: int
    values: tuple[int, ...] | None  # None when unreadable
    last_changers: tuple[int, ...] | None  # GETPID of each semaphore: hints, not holders
    unreadable: str | None
    unchanged_since: float  # epoch seconds (kernel otime/ctime, or a change the scans saw)
    changed_at: float = 0.0  # the kernel's latest otime/ctime (0: never): tells reused PIDs


@dataclass(frozen=True, slots=True)
class QueueState:
    """A message queue someone waits on, as the scan read it."""

    id: int
    qnum: int
    cbytes: int
    lspid: int
    lrpid: int
    unchanged_since: float
    changed_at: float = 0.0  # the kernel's latest stime/rtime/ctime (0: never)
