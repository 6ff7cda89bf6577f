"""The state of each process a wait depends on (running, blocked, gone, unknown), and hidepid."""

from __future__ import annotations

import errno
import os
from collections.abc import Collection, Iterable, Mapping

from shmtop.core.errors import errno_words as describe_errno
from shmtop.core.snapshot.procs import start_time
from shmtop.core.waits.wait_verdict import Liveness, ProcessStatus

ZOMBIE_STATES = frozenset("ZX")  # exited: its SEM_UNDO adjustments are already applied
HIDEPID_OFF = frozenset({"0", "off"})


def read_stat(pid: int) -> tuple[str, int, int]:
    """(state letter, number of threads, start time in clock ticks) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", "rb") as file:
        text = file.read().decode("ascii", "replace")
    fields = text[text.rindex(")") + 2 :].split()
    if len(fields) < 20:
        raise OSError(errno.EIO, f"short /proc/{pid}/stat")
    return fields[0], int(fields[17]), int(fields[19])


def exists(pid: int) -> bool:
    """Whether a PID names a process, also one /proc hides from us (kill with signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def statuses(
    pids: Iterable[int],
    blocked_threads: Mapping[int, int],
    failures: Mapping[int, int],
    scanned: Collection[int],
) -> dict[int, ProcessStatus]:
    """Each process's state. blocked_threads: its threads the scan found in an IPC wait;
    failures: errno of processes whose threads could not be read; scanned: PIDs looked at."""
    found = {}
    for pid in sorted({p for p in pids if p > 0}):
        found[pid] = _status(pid, blocked_threads.get(pid, 0), failures.get(pid, 0), scanned)
    return found


def _status(pid: int, blocked: int, failure: int, scanned: Collection[int]) -> ProcessStatus:
    try:
        state, threads, ticks = read_stat(pid)
    except OSError as error:
        if not exists(pid):
            return ProcessStatus(pid, Liveness.GONE, "exited")
        if isinstance(error, FileNotFoundError):
            return ProcessStatus(pid, Liveness.UNKNOWN, "hidden from /proc")
        return ProcessStatus(pid, Liveness.UNKNOWN, describe_errno(error.errno or errno.EIO))
    started = start_time(ticks)
    if state in ZOMBIE_STATES:
        return ProcessStatus(pid, Liveness.GONE, "exited, not yet reaped", started)
    if failure == errno.ESRCH or pid not in scanned:
        return ProcessStatus(pid, Liveness.UNKNOWN, "not scanned: it started during the scan",
                             started)  # fmt: skip
    if failure:
        return ProcessStatus(pid, Liveness.UNKNOWN, describe_errno(failure), started)
    if blocked and blocked >= threads:
        return ProcessStatus(pid, Liveness.BLOCKED, "every thread is blocked", started)
    return ProcessStatus(pid, Liveness.RUNNING, "", started)


def hidepid_note(mountinfo: str, euid: int, groups: Collection[int]) -> str | None:
    """Why other processes may be missing from /proc: its hidepid mount option, for us.

    hidepid hides (or locks) other users' /proc/PID from a caller that may not
    ptrace them; root, and members of the mount's gid=, see everything.
    """
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[4] != "/proc" or " - " not in line:
            continue
        after = line.split(" - ", 1)[1].split()
        if not after or after[0] != "proc":
            continue
        options = dict(
            item.partition("=")[::2] for item in (after[2] if len(after) > 2 else "").split(",")
        )
        hidepid = options.get("hidepid", "0")
        if hidepid in HIDEPID_OFF or euid == 0:
            return None
        gid = options.get("gid")
        if gid is not None and gid.isdigit() and int(gid) in groups:
            return None
        return f"other users' processes may be hidden (/proc is mounted with hidepid={hidepid})"
    return None


def hidden_processes() -> str | None:
    """hidepid_note for this process, or None when /proc hides nothing from it."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as file:
            text = file.read()
    except OSError:
        return None
    return hidepid_note(text, os.geteuid(), {os.getegid(), *os.getgroups()})
