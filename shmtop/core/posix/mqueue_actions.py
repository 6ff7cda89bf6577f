"""Removing a POSIX message queue: mq_unlink, after checking the name is still that queue."""

from __future__ import annotations

import errno
import os

from shmtop.core.binding import native
from shmtop.core.posix.actions import PosixOutcome, PosixRemoval
from shmtop.core.posix.mqueue import MqQueue


def users_text(queue: MqQueue) -> str:
    """Who keeps an unlinked queue alive: 'held by 12 (fd 3), 14 (fd 5)'."""
    held = ", ".join(f"{h.pid} (fd {h.fd})" for h in queue.holders)
    return f"held by {held}" if held else "held by nobody any more"


def refusal(queue: MqQueue) -> str | None:
    """Why queue cannot be removed at all (None: it can be tried)."""
    if not queue.linked:
        return (
            "already unlinked: no name is left to remove; its messages go when these "
            f"close it: {users_text(queue)}"
        )
    return None


def remove(queue: MqQueue) -> PosixRemoval:
    """mq_unlink queue's name if that name still opens the same queue (device, inode).

    The check opens the queue O_RDONLY (no count, time or registration changes; a write
    open is tried when reading is not allowed) and fstats the descriptor; no lock spans
    the check and the unlink: a name replaced in that window would go.
    """
    name = queue.name
    why = refusal(queue)
    if why is not None:
        return PosixRemoval(name, PosixOutcome.REFUSED, why)
    raw = b"/" + queue.entry.raw_name
    try:
        now = _identity(raw)
    except OSError as error:
        return _failed(name, error)
    if now is None:
        return PosixRemoval(
            name, PosixOutcome.REFUSED,
            "cannot check it is the same queue: no permission to open it",
        )  # fmt: skip
    if now != queue.key:
        return PosixRemoval(
            name, PosixOutcome.CHANGED,
            f"the name now holds another queue (inode {now[1]}, was {queue.entry.inode})",
        )  # fmt: skip
    try:
        native.mq_unlink(raw)
    except OSError as error:
        return _failed(name, error)
    if queue.holders:
        return PosixRemoval(name, PosixOutcome.UNLINKED_IN_USE, users_text(queue))
    return PosixRemoval(name, PosixOutcome.REMOVED)


def _identity(raw: bytes) -> tuple[int, int] | None:
    """(device, inode) of the queue raw names now; None: we may not open it either way."""
    for flags in (os.O_RDONLY, os.O_WRONLY):
        try:
            mqd = native.mq_open(raw, flags | os.O_NONBLOCK)
        except PermissionError:
            continue
        try:
            info = os.fstat(mqd)
        finally:
            native.mq_close(mqd)
        return (info.st_dev, info.st_ino)
    return None


def _failed(name: str, error: OSError) -> PosixRemoval:
    if error.errno == errno.ENOENT:
        return PosixRemoval(name, PosixOutcome.NOT_FOUND)
    if error.errno in (errno.EPERM, errno.EACCES):
        return PosixRemoval(name, PosixOutcome.DENIED)
    return PosixRemoval(name, PosixOutcome.FAILED, str(error))
