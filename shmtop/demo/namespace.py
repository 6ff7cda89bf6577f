"""Where `shmtop demo` runs: an IPC namespace of its own (root), or the machine's on request.

In its own namespace the view shows, and can remove, only the demo's objects: nothing
of the machine's is in reach. Making one needs CAP_SYS_ADMIN. Without it the demo
refuses (one line saying what to do) rather than quietly running among the machine's
objects; `--host-ipc` runs it there on purpose. A new user namespace
(CLONE_NEWUSER | CLONE_NEWIPC) would let anyone make one, but in it the view could no
longer read the maps of the user's own processes outside it (ptrace access across
user namespaces needs capabilities there), so it would tell less, and wrongly.

In its own IPC namespace the demo also gets a mount namespace of its own, with every
mount made private first (no mount or unmount travels to or from the machine's table),
a fresh tmpfs on /dev/shm and an mqueue fs (of the new IPC namespace) on /dev/mqueue:
its POSIX objects are made there, and vanish with the namespace. --host-ipc makes no
POSIX objects: they would land in the machine's /dev/shm.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from shmtop.core.binding import native
from shmtop.core.posix.model import SHM_DIR
from shmtop.core.posix.mqueue import MQUEUE_DIR


@dataclass(frozen=True)
class Where:
    """Where the demo runs: a line for the headless output, a short one for the title."""

    line: str
    title: str
    posix: bool = False  # a private /dev/shm and /dev/mqueue: POSIX objects may be made


# (mount namespace inode, /dev/shm device) of the private mounts made by isolate(), if any
_private: tuple[int, int] | None = None


class CannotIsolate(Exception):
    """The demo cannot have an IPC namespace of its own; the message says what to do."""


def isolate(*, host_ipc: bool = False) -> Where:
    """Move this process into a new IPC namespace (unless host_ipc), before any thread
    starts or child is forked: the namespace is a thread's, and only the calling one moves."""
    if host_ipc:
        return Where(
            "in this machine's IPC namespace (--host-ipc): the view shows, and can remove,"
            " every System V object of the machine; no POSIX objects are made (they would"
            " be in the machine's /dev/shm)",
            "the machine's IPC namespace, all objects",
        )
    if threading.active_count() > 1 or len(os.listdir("/proc/self/task")) > 1:
        raise RuntimeError("isolate() must run before any thread starts")
    try:
        native.unshare(native.CLONE_NEWIPC | native.CLONE_NEWNS)
    except PermissionError:
        raise CannotIsolate(
            "the demo runs in an IPC namespace of its own, which needs root (CAP_SYS_ADMIN):"
            " run it with sudo, or add --host-ipc to run it among this machine's objects"
        ) from None
    except OSError as error:
        raise CannotIsolate(f"cannot make an IPC namespace for the demo: {error}") from None
    try:
        _private_mounts()
    except OSError as error:
        raise CannotIsolate(f"cannot make private POSIX mounts for the demo: {error}") from None
    pid = os.getpid()
    return Where(
        f"in an IPC namespace of its own (only its objects; from another shell:"
        f" sudo nsenter --ipc=/proc/{pid}/ns/ipc shmtop list), with a private /dev/shm and"
        f" /dev/mqueue (sudo nsenter --ipc=/proc/{pid}/ns/ipc --mount=/proc/{pid}/ns/mnt"
        f" shmtop list pshm)",
        "own IPC namespace, its objects only",
        posix=True,
    )


def _private_mounts() -> None:
    """In the new mount namespace: every mount private first (MS_REC | MS_PRIVATE on /, so
    that nothing below propagates to the machine's mounts), then a fresh tmpfs on
    /dev/shm and an mqueue fs on /dev/mqueue. The mqueue fs shows the IPC namespace of
    whoever mounts it: ours, the new one. No /dev/mqueue: none is made (that would be a
    directory on the machine's /dev), and the queue scan finds the queues its own way."""
    global _private
    native.mount("none", "/", None, native.MS_REC | native.MS_PRIVATE)
    flags = native.MS_NOSUID | native.MS_NODEV
    native.mount("shmtop-demo-shm", SHM_DIR, "tmpfs", flags)
    if os.path.isdir(MQUEUE_DIR):
        native.mount("shmtop-demo-mqueue", MQUEUE_DIR, "mqueue", flags | native.MS_NOEXEC)
    _private = (os.stat("/proc/self/ns/mnt").st_ino, os.stat(SHM_DIR).st_dev)


def posix_private() -> bool:
    """This process is still in the mount namespace isolate() made, with its /dev/shm:
    POSIX objects made now cannot land in the machine's."""
    return _private is not None and _private == (
        os.stat("/proc/self/ns/mnt").st_ino,
        os.stat(SHM_DIR).st_dev,
    )
