"""What /proc hides from us: hidepid mounts, and processes that exist but cannot be seen."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable

PROC = "/proc"

# hidepid= values as /proc/self/mountinfo prints them (names since 5.8, numbers before).
_HIDING = {"1": "noaccess", "2": "invisible", "4": "ptraceable", "noaccess": "noaccess",
           "invisible": "invisible", "ptraceable": "ptraceable"}  # fmt: skip


def proc_mount_options(mountinfo: str, mount_point: str = PROC) -> dict[str, str]:
    """The super options (hidepid=, gid=, subset=) of the mount on top at mount_point."""
    options: dict[str, str] = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[4] != mount_point or "-" not in fields:
            continue
        after = fields[fields.index("-") + 1 :]
        if len(after) < 3 or after[0] != "proc":
            continue
        # A later line for the same mount point is mounted over the earlier ones.
        pairs = (word.partition("=") for word in after[2].split(","))
        options = {name: value for name, _, value in pairs}
    return options


def hidden_by_mount(options: dict[str, str], *, euid: int, groups: Iterable[int]) -> str | None:
    """Why /proc keeps other users' processes from us (None: it does not).

    hidepid spares root (CAP_SYS_PTRACE) and the members of its gid= group.
    """
    mode = _HIDING.get(options.get("hidepid", ""))
    if mode is None or euid == 0:
        return None
    gid = options.get("gid")
    if gid is not None and gid.isdigit() and int(gid) in set(groups):
        return None
    if mode == "noaccess":
        return "/proc is mounted hidepid=noaccess: other users' processes cannot be read"
    return f"/proc is mounted hidepid={mode}: other users' processes are not listed"


def processes_hidden() -> str | None:
    """Why some processes are hidden from this process by its /proc mount, or None."""
    try:
        with open(f"{PROC}/self/mountinfo", encoding="utf-8", errors="replace") as file:
            options = proc_mount_options(file.read())
    except OSError:
        return None
    return hidden_by_mount(options, euid=os.geteuid(), groups=[os.getegid(), *os.getgroups()])


def unseen_reason(pid: int, hiding: str | None) -> str | None:
    """For a PID /proc does not show: why it cannot be seen if it runs, None if it is gone.

    kill(pid, 0) tells ESRCH (no such process) from EPERM (it runs, not ours) whatever
    /proc shows, so a hidden process is never taken for a gone one.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return "hidden: " + (hiding or "it runs, but /proc does not show it")
    except OSError as error:
        return f"cannot tell: {os.strerror(error.errno or errno.EIO)}"
    return "it runs, but /proc does not show it"
