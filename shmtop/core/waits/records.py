"""The waits' data: a blocked thread and its operations, the objects waited on, as read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shmtop.core.binding import native
from shmtop.core.model import Kind

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
class Waiter:
    """A thread blocked in an IPC call, and what it waits for."""

    pid: int
    tid: int
    command: str  # untrusted text
    kind: Kind  # sem or msg
    object_id: int
    syscall: str  # semop, semtimedop, msgsnd, msgrcv
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

    @property
    def target(self) -> str:
        """'sem 12' or 'msg 3'."""
        return f"{self.kind} {self.object_id}"

    def operation(self) -> str:
        """What it waits to do: 'sem 2 -1 SEM_UNDO', 'receive type 7', 'send type 3, 64 bytes'."""
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
