"""The hostname of a process's UTS namespace: what a person calls a namespace with no container."""

from __future__ import annotations

import os

from shmtop.core.namespaces.joined import CLONE_NEWUTS, JoinedThread

PROC = "/proc"


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
        with open(f"{PROC}/{pid}/root/etc/hostname", encoding="utf-8", errors="replace") as file:
            return file.read().strip() or None
    except OSError:
        return None
