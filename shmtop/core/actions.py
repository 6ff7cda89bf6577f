"""Changes shmtop makes (removals, signals to waiters), each reported as a typed outcome."""

from __future__ import annotations

import enum
import errno
import os
import signal
from dataclasses import dataclass

from shmtop.core.binding import native
from shmtop.core.errors import DENIED, GONE
from shmtop.core.model import IpcObject, Kind, Segment, SemaphoreSet
from shmtop.core.snapshot import procfs


class Outcome(enum.StrEnum):
    """What became of one object shmtop was asked to remove."""

    REMOVED = "removed"
    MARKED = "marked for destruction (still attached)"
    NOT_FOUND = "not found"
    DENIED = "permission denied"
    CHANGED = "changed since the plan, not removed"
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        return self in (Outcome.REMOVED, Outcome.MARKED)


@dataclass(frozen=True, slots=True)
class Removal:
    """The outcome of removing one object, with the kernel's words when it failed."""

    kind: Kind
    id: int
    outcome: Outcome
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Identity:
    """What tells the object a plan showed from another that got its id since.

    key, creator (cuid; cpid for a segment), ctime and permissions stay as they are
    for an object's life unless someone changes it (IPC_SET; SETVAL/SETALL for a set),
    which is worth a second look too. `activity`, when set, holds what any use of
    the object moves (attach/detach, semop, send/receive): set for objects chosen
    for being idle, so one used since the plan is not removed either.
    """

    key: int
    cuid: int
    cpid: int | None  # segments only: sets and queues keep no creator PID
    ctime: int
    perms: int
    activity: tuple[int, ...] | None = None

    def differences(self, now: Identity) -> list[str]:
        """What changed from self (the plan) to now, in a few words each."""
        found = [
            f"{label} {show(old)} -> {show(new)}"
            for label, old, new, show in (
                ("key", self.key, now.key, _hex),
                ("creator uid", self.cuid, now.cuid, str),
                ("creator pid", self.cpid, now.cpid, str),
                ("ctime", self.ctime, now.ctime, str),
                ("perms", self.perms, now.perms, _octal),
            )
            if old != new
        ]
        if self.activity is not None and self.activity != now.activity:
            found.append("used since the plan (attach, detach, operation, send or receive)")
        return found


def _hex(value: object) -> str:
    return f"0x{value:08x}" if isinstance(value, int) else str(value)


def _octal(value: object) -> str:
    return f"{value:03o}" if isinstance(value, int) else str(value)


def identity_of(obj: IpcObject, *, idle: bool = False) -> Identity:
    """The identity of a snapshot object; with idle, also what any use of it would move."""
    owner = obj.owner
    if isinstance(obj, Segment):
        activity: tuple[int, ...] = (obj.nattch, obj.atime, obj.dtime)
        cpid: int | None = obj.cpid
    elif isinstance(obj, SemaphoreSet):
        activity, cpid = (obj.otime,), None
    else:
        activity, cpid = (obj.stime, obj.rtime, obj.qnum), None
    return Identity(owner.key, owner.cuid, cpid, obj.ctime, owner.perms,
                    activity if idle else None)  # fmt: skip


def current_identity(kind: Kind, ident: int, *, idle: bool = False) -> Identity | None:
    """The identity of the object with this id now (None: there is none), by IPC_STAT.

    IPC_STAT needs read permission, which an owner may lack (mode 0200): then the one
    row of /proc/sysvipc is looked up instead (a whole-table read, the rare case).
    """
    found: tuple[Identity, tuple[int, ...]] | None
    try:
        found = _stat_identity(kind, ident)
    except OSError as error:
        if error.errno in GONE:
            return None
        if error.errno not in DENIED:
            raise
        found = _proc_identity(kind, ident)
    if found is None:
        return None
    identity, activity = found
    return Identity(identity.key, identity.cuid, identity.cpid, identity.ctime, identity.perms,
                    activity if idle else None)  # fmt: skip


def _stat_identity(kind: Kind, ident: int) -> tuple[Identity, tuple[int, ...]]:
    if kind is Kind.SHM:
        shm = native.shm_stat(ident)
        return (Identity(shm.key, shm.cuid, shm.cpid, shm.ctime, shm.mode & 0o777),
                (shm.nattch, shm.atime, shm.dtime))  # fmt: skip
    if kind is Kind.SEM:
        sem = native.sem_stat(ident)
        return Identity(sem.key, sem.cuid, None, sem.ctime, sem.mode & 0o777), (sem.otime,)
    msg = native.msg_stat(ident)
    return (Identity(msg.key, msg.cuid, None, msg.ctime, msg.mode & 0o777),
            (msg.stime, msg.rtime, msg.qnum))  # fmt: skip


_ID_COLUMN = {Kind.SHM: "shmid", Kind.SEM: "semid", Kind.MSG: "msqid"}
_ACTIVITY = {Kind.SHM: ("nattch", "atime", "dtime"), Kind.SEM: ("otime",),
             Kind.MSG: ("stime", "rtime", "qnum")}  # fmt: skip


def _proc_identity(kind: Kind, ident: int) -> tuple[Identity, tuple[int, ...]] | None:
    rows = procfs.parse_sysvipc(procfs.read_sysvipc(str(kind)).decode("ascii"))
    row = next((r for r in rows if r[_ID_COLUMN[kind]] == ident), None)
    if row is None:
        return None
    cpid = row["cpid"] if kind is Kind.SHM else None
    identity = Identity(row["key"] & 0xFFFFFFFF, row["cuid"], cpid, row["ctime"],
                        row["perms"] & 0o777)  # fmt: skip
    return identity, tuple(row[name] for name in _ACTIVITY[kind])


_REMOVERS = {Kind.SHM: native.shm_rmid, Kind.SEM: native.sem_rmid, Kind.MSG: native.msg_rmid}


def remove(kind: Kind, ident: int, expected: Identity | None = None) -> Removal:
    """IPC_RMID one object. A segment still attached is only marked for destruction.

    Given `expected` (what the plan showed), the object is first read again by id and
    left alone if it is not that one any more (its id reused, or it was changed).
    A window remains between that read and IPC_RMID (microseconds, no lock spans two
    system calls): an object removed and its id reused inside it would still go.
    """
    if expected is not None:
        try:
            now = current_identity(kind, ident, idle=expected.activity is not None)
        except OSError as error:
            return _failed(kind, ident, error)
        if now is None:
            return Removal(kind, ident, Outcome.NOT_FOUND)
        changes = expected.differences(now)
        if changes:
            return Removal(kind, ident, Outcome.CHANGED, "; ".join(changes))
    try:
        _REMOVERS[kind](ident)
    except OSError as error:
        return _failed(kind, ident, error)
    if kind is Kind.SHM and _segment_exists(ident, expected):
        return Removal(kind, ident, Outcome.MARKED, "goes when the last process detaches")
    return Removal(kind, ident, Outcome.REMOVED)


def _failed(kind: Kind, ident: int, error: OSError) -> Removal:
    """NOT_FOUND and DENIED carry no detail: their sentence is text/errors.py's."""
    if error.errno in GONE:
        return Removal(kind, ident, Outcome.NOT_FOUND)
    if error.errno in DENIED:
        return Removal(kind, ident, Outcome.DENIED)
    return Removal(kind, ident, Outcome.FAILED, str(error))


def _segment_exists(shmid: int, expected: Identity | None) -> bool:
    """Whether the segment just removed lives on (still attached): one IPC_STAT by id."""
    try:
        now = current_identity(Kind.SHM, shmid)
    except OSError:
        return False
    # IPC_RMID made its key 0; its creator tells it from a new segment with its id.
    return now is not None and (expected is None or now.cpid == expected.cpid)


class SignalOutcome(enum.StrEnum):
    """What became of one signal shmtop was asked to send."""

    SENT = "sent"
    GONE = "no such process"
    DENIED = "permission denied"
    REPLACED = "not sent: the PID now names another process"
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        return self is SignalOutcome.SENT


@dataclass(frozen=True, slots=True)
class Signalled:
    """The outcome of sending one signal, with the kernel's words when it failed."""

    pid: int
    signum: int
    outcome: SignalOutcome
    detail: str = ""  # may hold a process name: untrusted text


def send_signal(pid: int, signum: int, *, command: str | None = None) -> Signalled:
    """Send signum to pid; given command, only while the PID still runs that command (comm).

    The process is pinned with a pidfd before its name is checked, so a PID reused
    between the check and the send cannot receive the signal.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as error:
        return _not_sent(pid, signum, error)
    try:
        if command is not None:
            running = _command_of(pid)
            if running is None:
                return Signalled(pid, signum, SignalOutcome.GONE)
            if running != command:
                return Signalled(pid, signum, SignalOutcome.REPLACED, f"it now runs {running}")
        signal.pidfd_send_signal(pidfd, signum)
    except OSError as error:
        return _not_sent(pid, signum, error)
    finally:
        os.close(pidfd)
    return Signalled(pid, signum, SignalOutcome.SENT)


def _command_of(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm", "rb") as comm:
            return comm.read().removesuffix(b"\n").decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError):
        return None


def _not_sent(pid: int, signum: int, error: OSError) -> Signalled:
    if error.errno == errno.ESRCH:
        return Signalled(pid, signum, SignalOutcome.GONE)
    if error.errno in DENIED:
        return Signalled(pid, signum, SignalOutcome.DENIED, "only its owner or root may")
    return Signalled(pid, signum, SignalOutcome.FAILED, str(error))
