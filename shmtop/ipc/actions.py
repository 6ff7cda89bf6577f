"""Changes to IPC objects (removal), each reported as a typed outcome, never raised."""

from __future__ import annotations

import enum
import errno
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
