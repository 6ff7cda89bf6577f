"""The hostname of a process's UTS namespace: what a person calls a namespace with no container."""

from __future__ import annotations

import os
import stat

from shmtop.core.binding import native
from shmtop.core.namespaces.joined import CLONE_NEWUTS, JoinedThread

_HOST_NAME_MAX = 64  # a UTS nodename's limit: the file's first line, no more


def _nodename() -> str:
    return os.uname().nodename  # uname(2) answers for the calling thread's UTS namespace


def hostname_of(pid: int) -> str | None:
    """The hostname pid's UTS namespace has: read by a thread that joined it (setns on a
    pidfd); without the privilege, from /proc/PID/root/etc/hostname; None if neither works."""
    thread = JoinedThread(pid, None, CLONE_NEWUTS)
    try:
        if thread.error is None:
            return thread.run(_nodename) or None
    finally:
        thread.close()
    try:
        # Inside its root: a plain /proc/PID/root/etc/hostname follows an absolute link from
        # ours, and any file of the host would become a name (and an exporter's label).
        # (O_NONBLOCK: a FIFO put there must not hang us; only a regular file is read)
        fd = native.open_in_root(pid, "etc/hostname", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        first = file.read(_HOST_NAME_MAX + 1).partition(b"\n")[0]
    return first.decode("utf-8", errors="replace").strip() or None
