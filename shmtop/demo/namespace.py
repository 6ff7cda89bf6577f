"""Where `shmtop demo` runs: an IPC namespace of its own (root), or the machine's on request.

In its own namespace the view shows, and can remove, only the demo's objects: nothing
of the machine's is in reach. Making one needs CAP_SYS_ADMIN. Without it the demo
refuses (one line saying what to do) rather than quietly running among the machine's
objects; `--host-ipc` runs it there on purpose. A new user namespace
(CLONE_NEWUSER | CLONE_NEWIPC) would let anyone make one, but in it the view could no
longer read the maps of the user's own processes outside it (ptrace access across
user namespaces needs capabilities there), so it would tell less, and wrongly.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from shmtop.core.binding import native


@dataclass(frozen=True)
class Where:
    """Where the demo runs: a line for the headless output, a short one for the title."""

    line: str
    title: str


class CannotIsolate(Exception):
    """The demo cannot have an IPC namespace of its own; the message says what to do."""


def isolate(*, host_ipc: bool = False) -> Where:
    """Move this process into a new IPC namespace (unless host_ipc), before any thread
    starts or child is forked: the namespace is a thread's, and only the calling one moves."""
    if host_ipc:
        return Where(
            "in this machine's IPC namespace (--host-ipc): the view shows, and can remove,"
            " every object of the machine",
            "the machine's IPC namespace, all objects",
        )
    if threading.active_count() > 1 or len(os.listdir("/proc/self/task")) > 1:
        raise RuntimeError("isolate() must run before any thread starts")
    try:
        native.unshare(native.CLONE_NEWIPC)
    except PermissionError:
        raise CannotIsolate(
            "the demo runs in an IPC namespace of its own, which needs root (CAP_SYS_ADMIN):"
            " run it with sudo, or add --host-ipc to run it among this machine's objects"
        ) from None
    except OSError as error:
        raise CannotIsolate(f"cannot make an IPC namespace for the demo: {error}") from None
    return Where(
        f"in an IPC namespace of its own (only its objects; from another shell:"
        f" sudo nsenter --ipc=/proc/{os.getpid()}/ns/ipc shmtop list)",
        "own IPC namespace, its objects only",
    )
