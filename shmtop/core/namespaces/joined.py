"""A thread that lives inside another process's namespaces, and runs calls there.

setns(2) changes only the calling thread, and threads it starts inherit its namespaces: a
Collector made and used in such a thread (and its own worker threads, started from it) reads
/proc/sysvipc and makes System V calls in the joined IPC namespace. The namespace is pinned
by a pidfd (setns on a pidfd, Linux >= 5.8), so a PID reused in between is never joined.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import Any, TypeVar

from shmtop.core.binding import native
from shmtop.core.namespaces.discover import ipc_inode
from shmtop.core.snapshot.workers import Task, Workers

T = TypeVar("T")

CLONE_NEWIPC = native.CLONE_NEWIPC
CLONE_NEWUTS = native.CLONE_NEWUTS


class JoinError(OSError):
    """The namespace could not be joined (EPERM without CAP_SYS_ADMIN, ESRCH: it ended)."""


def join(pid: int, nstype: int, expect_inode: int | None = None) -> None:
    """Move the calling thread into pid's namespaces of type nstype (CLONE_NEW*).

    expect_inode: the IPC namespace the PID was found in; if the PID now lives in another
    (it exited and was reused) this raises ESRCH rather than join the wrong one.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as error:
        raise JoinError(error.errno, f"pidfd_open({pid}): {error.strerror}") from error
    try:
        if expect_inode is not None and ipc_inode(pid) != expect_inode:
            raise JoinError(errno.ESRCH, f"process {pid} left IPC namespace {expect_inode}")
        try:
            native.setns(pidfd, nstype)
        except OSError as error:
            raise JoinError(error.errno, f"setns(pid {pid}): {error.strerror}") from error
    finally:
        os.close(pidfd)
    if expect_inode is not None and nstype & CLONE_NEWIPC:
        joined = ipc_inode("thread-self")
        if joined != expect_inode:  # the pidfd's process moved between the check and setns
            raise JoinError(errno.ESRCH, f"joined ipc:[{joined}], not ipc:[{expect_inode}]")


class JoinedThread:
    """One thread joined to a namespace (by a member PID); submit() runs calls in it, in order.

    The join happens first, in the thread; if it failed, `error` says why and every call
    submitted after raises that error.
    """

    def __init__(self, pid: int, inode: int | None, nstype: int = CLONE_NEWIPC) -> None:
        self._pool = Workers(1, f"shmtop-ns-{inode or pid}")
        self._joined: Task[None] = self._pool.submit(join, pid, nstype, inode)

    @property
    def error(self) -> JoinError | None:
        try:
            self._joined.result()
        except JoinError as error:
            return error
        return None

    def submit(self, call: Callable[..., T], *args: Any) -> Task[T]:
        error = self.error
        if error is not None:
            raise error
        return self._pool.submit(call, *args)

    def run(self, call: Callable[..., T], *args: Any) -> T:
        return self.submit(call, *args).result()

    def close(self) -> None:
        """End the thread (the namespace it joined dies with it; the caller's is untouched)."""
        self._pool.shutdown()
