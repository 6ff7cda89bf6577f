"""The leak rule for POSIX objects, with the evidence it rests on.

A name in /dev/shm is made to be found again (shm_open by name), like a keyed System
V object: nobody mapping it is no leak by itself. So an object is an **orphan** (a leak
candidate) only when all of this holds:

- it is a name in /dev/shm (not unlinked) that nobody maps or holds open, and every
  process's maps and fds were read (a process we could not inspect may be its user);
- no process runs as its owner uid (the processes that could own it are gone: a
  crashed PostgreSQL leaves /dev/shm/PostgreSQL.* owned by a uid with no process);
- nothing changed it for the grace period: max(mtime, ctime) (atime too, which
  relatime updates at most daily and only shows reads that moved it).

Nobody mapping or holding it but its owner still runs, or touched within the grace
period: **unused**, never an orphan. Unlinked but still mapped or open: **unlinked**:
memory held that no `ls` shows, not removable (only its mappers and holders free it).
"""

from __future__ import annotations

import enum

import msgspec

from shmtop.core.posix.model import PosixObject, PosixSnapshot

DEFAULT_GRACE = 60.0  # the System V rule's grace period


class PosixStatus(enum.StrEnum):
    ORPHAN = "orphan"  # a leak candidate: unused, its owner's processes gone, idle
    UNUSED = "unused"  # nobody maps or holds it, but a weaker case (see reason)
    UNLINKED = "unlinked"  # shm_unlink'd but mapped or open: memory held, not removable


class PosixVerdict(msgspec.Struct, frozen=True, gc=False):
    """The rule's answer for one object at one moment, and why."""

    status: PosixStatus | None  # None: in use
    reason: str  # the evidence, in a few words
    idle: float  # seconds since max(atime, mtime, ctime)
    grace: float

    @property
    def orphan(self) -> bool:
        return self.status is PosixStatus.ORPHAN


def users_text(obj: PosixObject, snapshot: PosixSnapshot) -> str:
    """Who maps and who holds obj, e.g. "pid 12 (app) maps rw, pid 14 (cat) holds fd 3"."""
    # One pass over each list, grouped by pid (in pid order, a pid's fds in their order):
    # `list` asks it of every object in use (it went over every mapping for each mapper).
    modes: dict[int, set[str]] = {}
    for m in obj.mappings:
        modes.setdefault(m.pid, set()).add("rw" if m.writable else "ro")
    fds: dict[int, list[str]] = {}
    for h in obj.holders:
        fds.setdefault(h.pid, []).append(str(h.fd))
    parts = [
        f"pid {pid}{_command(snapshot, pid)} maps {'/'.join(sorted(modes[pid]))}"
        for pid in sorted(modes)
    ]
    parts += [
        f"pid {pid}{_command(snapshot, pid)} holds fd {', '.join(fds[pid])}" for pid in sorted(fds)
    ]
    return ", ".join(parts)


def _command(snapshot: PosixSnapshot, pid: int) -> str:
    process = snapshot.processes.get(pid)
    return f" ({process.command})" if process is not None else ""


def judge(
    obj: PosixObject, snapshot: PosixSnapshot, *, now: float | None = None,
    grace: float = DEFAULT_GRACE,
) -> PosixVerdict:  # fmt: skip
    """The rule (module docstring) applied to obj at `now` (default: the snapshot's moment)."""
    at = snapshot.taken_at if now is None else now
    idle = max(at - max(obj.atime, obj.mtime, obj.ctime), 0.0)
    if not obj.linked:
        held = users_text(obj, snapshot)
        return PosixVerdict(PosixStatus.UNLINKED, f"unlinked, memory held by {held}", idle, grace)
    if obj.in_use:
        return PosixVerdict(None, f"in use: {users_text(obj, snapshot)}", idle, grace)
    if snapshot.processes_hidden is not None:
        why = f"processes are hidden ({snapshot.processes_hidden}): one may use it"
        return PosixVerdict(PosixStatus.UNUSED, why, idle, grace)
    if snapshot.uninspected:
        why = f"{len(snapshot.uninspected)} process(es) could not be inspected: one may use it"
        return PosixVerdict(PosixStatus.UNUSED, why, idle, grace)
    if not obj.in_shm_dir:
        return PosixVerdict(PosixStatus.UNUSED, "not a /dev/shm name", idle, grace)
    if obj.uid in snapshot.uids_running:
        why = f"nobody maps or holds it, but processes of its owner (uid {obj.uid}) run"
        return PosixVerdict(PosixStatus.UNUSED, why, idle, grace)
    if idle < grace:
        why = f"settling: changed {idle:.0f} s ago (grace {grace:.0f} s)"
        return PosixVerdict(PosixStatus.UNUSED, why, idle, grace)
    why = f"nobody maps or holds it, no process of uid {obj.uid} runs, idle {idle:.0f} s"
    return PosixVerdict(PosixStatus.ORPHAN, why, idle, grace)
