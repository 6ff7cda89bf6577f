"""Removing POSIX objects: shm_unlink (sem_unlink) semantics, after an identity check."""

from __future__ import annotations

import enum
import errno
import os

import msgspec

from shmtop.core.posix.model import PosixObject, PosixSnapshot
from shmtop.core.posix.rooted import open_path
from shmtop.core.posix.verdicts import users_text


class PosixOutcome(enum.StrEnum):
    """What became of one object shmtop was asked to unlink."""

    REMOVED = "removed"
    UNLINKED_IN_USE = "unlinked (still mapped or open: its memory goes at the last unmap)"
    REFUSED = "refused"
    NOT_FOUND = "not found"
    CHANGED = "changed since the plan, not removed"
    DENIED = "permission denied"
    FAILED = "failed"

    @property
    def ok(self) -> bool:
        return self in (PosixOutcome.REMOVED, PosixOutcome.UNLINKED_IN_USE)


class PosixRemoval(msgspec.Struct, frozen=True, gc=False):
    """The outcome of unlinking one object, with the reason or the kernel's words."""

    name: str  # untrusted text
    outcome: PosixOutcome
    detail: str = ""


def refusal(obj: PosixObject, snapshot: PosixSnapshot) -> str | None:
    """Why obj cannot be removed at all (None: it can be tried)."""
    if not obj.linked:
        return (
            "already unlinked: no name is left to remove; its memory is freed when these "
            f"unmap or close it: {users_text(obj, snapshot)}"
        )
    if not obj.in_shm_dir:
        return "not a name in /dev/shm: shm_unlink removes only those"
    return None


def remove(obj: PosixObject, snapshot: PosixSnapshot, *, idle: bool = False) -> PosixRemoval:
    """Unlink obj's name in /dev/shm if that name still is obj (same device and inode).

    With idle (an object chosen for being unused), also refuse one whose size, mtime or
    ctime moved since the snapshot. The check and the unlink go through one directory fd,
    but no lock spans the two calls: a name replaced in that microsecond window would go.
    """
    name = obj.name
    why = refusal(obj, snapshot)
    if why is not None:
        return PosixRemoval(name, PosixOutcome.REFUSED, why)
    directory, _, base = obj.path.rpartition(b"/")
    try:
        # another namespace's directory is opened inside its member's root (core/posix/rooted)
        dir_fd = open_path(directory or b"/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        return _failed(name, error)
    try:
        try:
            now = os.stat(base, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as error:
            return _failed(name, error)
        if (now.st_dev, now.st_ino) != obj.key:
            return PosixRemoval(
                name, PosixOutcome.CHANGED,
                f"the name now holds another file (inode {now.st_ino}, was {obj.inode})",
            )  # fmt: skip
        moved = (now.st_size, now.st_mtime, now.st_ctime) != (obj.size, obj.mtime, obj.ctime)
        if idle and moved:
            return PosixRemoval(name, PosixOutcome.CHANGED, "resized or written since the plan")
        try:
            os.unlink(base, dir_fd=dir_fd)
        except OSError as error:
            return _failed(name, error)
    finally:
        os.close(dir_fd)
    if obj.in_use:
        return PosixRemoval(name, PosixOutcome.UNLINKED_IN_USE, users_text(obj, snapshot))
    return PosixRemoval(name, PosixOutcome.REMOVED)


def _failed(name: str, error: OSError) -> PosixRemoval:
    if error.errno == errno.ENOENT:
        return PosixRemoval(name, PosixOutcome.NOT_FOUND)
    if error.errno in (errno.EPERM, errno.EACCES):
        return PosixRemoval(name, PosixOutcome.DENIED)  # the text layer says who may
    return PosixRemoval(name, PosixOutcome.FAILED, str(error))
