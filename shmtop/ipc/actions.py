"""Changes shmtop makes (removals, signals to waiters), each reported as a typed outcome."""

from __future__ import annotations

import enum
import errno
import os
import signal
from dataclasses import dataclass

from shmtop.ipc import native, procfs
from shmtop.ipc.model import Kind


class Outcome(enum.StrEnum):
    """What became of one object shmtop was asked to remove."""

    REMOVED = "removed"
    MARKED = "marked for destruction (still attached)"
    NOT_FOUND = "not found"
    DENIED = "permission denied"
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


_REMOVERS = {Kind.SHM: native.shm_rmid, Kind.SEM: native.sem_rmid, Kind.MSG: native.msg_rmid}


def remove(kind: Kind, ident: int) -> Removal:
    """IPC_RMID one object. A segment still attached is only marked for destruction."""
    try:
        _REMOVERS[kind](ident)
    except OSError as error:
        if error.errno in (errno.EINVAL, errno.EIDRM):
            return Removal(kind, ident, Outcome.NOT_FOUND, "already gone, or never existed")
        if error.errno in (errno.EPERM, errno.EACCES):
            return Removal(kind, ident, Outcome.DENIED, "only its owner, creator or root may")
        return Removal(kind, ident, Outcome.FAILED, str(error))
    if kind is Kind.SHM and _segment_exists(ident):
        return Removal(kind, ident, Outcome.MARKED, "goes when the last process detaches")
    return Removal(kind, ident, Outcome.REMOVED)


def _segment_exists(shmid: int) -> bool:
    rows = procfs.parse_sysvipc(procfs.read_sysvipc("shm").decode("ascii"))
    return any(row["shmid"] == shmid for row in rows)


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
    if error.errno in (errno.EPERM, errno.EACCES):
        return Signalled(pid, signum, SignalOutcome.DENIED, "only its owner or root may")
    return Signalled(pid, signum, SignalOutcome.FAILED, str(error))
