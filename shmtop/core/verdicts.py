"""The one rule that calls an object an orphan (or unattached), with the evidence it rests on.

SysV objects are meant to outlive their creators: "nobody attached and the
creator is gone" is not a leak (PostgreSQL keeps such a keyed segment). An
object is an **orphan** only when all of this holds:

- nothing uses it now: a segment has nattch 0 (and is not already removed); a
  semaphore set has no waiter; a queue no thread a waiter scan found (`blocked`:
  its header shows none, so only a scan can tell: without a scan a queue is
  never called an orphan);
- the processes that used it are *shown* gone: a segment's creator, every
  non-zero last changer (sempid) of a set's semaphores, a queue's last sender and
  last receiver. A PID that still runs but started after the object's last use is
  a reuse, so the user is gone. A PID that /proc hides or will not let us read
  is "unknown", never gone, and so is a PID that reads 0 (another PID namespace);
  an object no process ever used (all those PIDs 0) has no evidence: never orphan;
- its key is IPC_PRIVATE, so nobody can find it again except by id;
- nothing touched it for the grace period (default 60 s): segments are judged on
  max(atime, dtime, ctime), sets on max(otime, ctime), queues on max(stime,
  rtime, ctime), the kernel's own times.

The same object with a key is **unattached** (a segment) or **unused** (a set or
queue) instead: somebody may look it up by key again. `rm --orphans` takes those
only when asked with an explicit `--idle-for`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from typing import cast

import msgspec

from shmtop.core.model import (
    SHM_DEST,
    BlindSpots,
    Coverage,
    IpcObject,
    Kind,
    MessageQueue,
    Process,
    Segment,
    SemaphoreSet,
    Snapshot,
)

DEFAULT_GRACE = 60.0  # seconds an orphan candidate must be untouched
MAX_IDLE = 365 * 86400.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"([0-9]+)([smhd])", re.ASCII)


class Status(enum.StrEnum):
    """What the rule calls an object (None: nothing, it is or may be in use)."""

    ORPHAN = "orphan"  # private, unused, its users gone, untouched for the grace period
    UNATTACHED = "unattached"  # a keyed segment, nattch 0, its creator gone
    UNUSED = "unused"  # a keyed set or queue whose last users are gone


KEYED = {Segment: Status.UNATTACHED, SemaphoreSet: Status.UNUSED, MessageQueue: Status.UNUSED}
KINDS = {Segment: Kind.SHM, SemaphoreSet: Kind.SEM, MessageQueue: Kind.MSG}


class User(msgspec.Struct, frozen=True, gc=False):
    """A process the verdict rests on, and what is known of it."""

    role: str  # "creator", "last operation", "last sender", "last receiver"
    pid: int
    alive: bool | None  # None: cannot tell
    state: str  # "runs", "gone", or why it cannot be told


class Verdict(msgspec.Struct, frozen=True, gc=False):
    """The rule's answer for one object at one moment, with its evidence."""

    status: Status | None
    private: bool  # key IPC_PRIVATE
    users: tuple[User, ...]
    users_gone: bool | None  # True: every user shown gone; None: cannot tell (see unknown)
    unknown: str | None  # why users_gone is None
    busy: str | None  # in use now whatever its users: attached, removed, waited on
    times: tuple[tuple[str, int], ...]  # (what, epoch second; 0 = never) idle is judged on
    idle: float  # seconds since the latest of times
    grace: float
    last_touched: int  # the latest of times (kept: every JSON record and report asks)

    @property
    def orphan(self) -> bool:
        return self.status is Status.ORPHAN

    @property
    def settling(self) -> bool:
        """It would be an orphan, but was touched within the grace period."""
        return (
            self.status is None and self.private and self.busy is None and self.unknown is None
            and self.users_gone is True and self.idle < self.grace
        )  # fmt: skip

    def selected(self, idle_for: float | None) -> bool:
        """Whether `rm --orphans` takes it: orphans; with an explicit --idle-for (judged with
        that grace) also keyed objects untouched for that long."""
        if self.status is Status.ORPHAN:
            return True
        return idle_for is not None and self.status in KEYED.values() and self.idle >= idle_for


def liveness(
    processes: Mapping[int, Process], hidden: Mapping[int, str], pid: int, since: int
) -> tuple[bool | None, str]:
    """Whether the process that used an object as `pid` at epoch second `since` still runs."""
    if pid <= 0:
        return None, "not in our PID namespace"
    process = processes.get(pid)
    if process is not None:
        if process.started <= since + 1:
            return True, "runs"
        return False, "gone (its PID now names a later process)"
    why = hidden.get(pid)
    if why is not None:
        return None, why
    return False, "gone"


# The users of one snapshot's objects by (role, pid, since), held with the processes and
# hidden PIDs they were judged on (a snapshot's are read-only): objects made or used by one
# process in one second (thousands of segments of one creator) share one User, made once.
# Right for any `now`, grace or waiter scan: liveness reads nothing else.
_UserKey = tuple[str, int, int]
_users: tuple[Mapping[int, Process], Mapping[int, str], dict[_UserKey, User]] = ({}, {}, {})


def _user(
    role: str, pid: int, since: int, processes: Mapping[int, Process], hidden: Mapping[int, str]
) -> User:
    global _users
    seen = _users
    if seen[0] is not processes or seen[1] is not hidden:
        seen = _users = (processes, hidden, {})
    key = (role, pid, since)
    user = seen[2].get(key)
    if user is None:
        alive, state = liveness(processes, hidden, pid, since)
        user = seen[2][key] = User(role, pid, alive, state)
    return user


# Why a queue is not judged without a waiter scan (rm --orphans makes one).
NO_WAITER_SCAN = "no waiter scan: a process blocked on it would not show"

# The verdicts of one snapshot judged with the defaults (its moment, the default grace, no
# waiter scan), by id of the object: `list` judges an object for its status cell and again
# for `--sort status`, the TUI at every repaint of its status column. One snapshot at a
# time (the newest asked about); the objects judged are held, so an id names one object.
_memo: tuple[Snapshot | None, dict[int, Verdict], list[IpcObject]] = (None, {}, [])


def judge(
    obj: IpcObject,
    snapshot: Snapshot,
    *,
    now: float | None = None,
    grace: float = DEFAULT_GRACE,
    blocked: Collection[tuple[Kind, int]] | None = None,
) -> Verdict:
    """The rule (module docstring) applied to obj at `now` (default: the snapshot's moment).

    `blocked` holds the (kind, id) of objects a waiter scan found threads blocked on: a
    queue's header keeps no trace of a blocked sender or receiver, so only a scan tells.
    None: no scan was made, so whether a queue is in use is unknown.
    """
    global _memo
    if now is not None or blocked is not None or grace is not DEFAULT_GRACE:
        return _judge(obj, snapshot, snapshot.taken_at if now is None else now, grace, blocked)
    memo = _memo
    if memo[0] is not snapshot:
        memo = _memo = (snapshot, {}, [])
    verdict = memo[1].get(id(obj))
    if verdict is None:
        verdict = memo[1][id(obj)] = _judge(obj, snapshot, snapshot.taken_at, grace, None)
        memo[2].append(obj)
    return verdict


# What one object says for the rule: (times, the latest of them, users, unknown, busy).
_Facts = tuple[tuple[tuple[str, int], ...], int, list[User], str | None, str | None]


def _segment_facts(
    segment: Segment, processes: Mapping[int, Process], hidden: Mapping[int, str]
) -> _Facts:
    times = (("attach", segment.atime), ("detach", segment.dtime), ("change", segment.ctime))
    busy = unknown = None
    if segment.owner.mode & SHM_DEST:
        busy = "removed already: it goes at its last detach"
    elif segment.nattch:
        busy = f"attached (nattch {segment.nattch})"
    users = []
    if segment.cpid:
        users.append(_user("creator", segment.cpid, segment.ctime, processes, hidden))
    else:
        unknown = "its creator is not in our PID namespace"
    latest = segment.atime if segment.atime > segment.dtime else segment.dtime  # no max():
    latest = latest if latest > segment.ctime else segment.ctime  # 4000 calls, 3x dearer
    return times, latest, users, unknown, busy


def _set_facts(
    sem_set: SemaphoreSet, processes: Mapping[int, Process], hidden: Mapping[int, str]
) -> _Facts:
    times = (("operation", sem_set.otime), ("change", sem_set.ctime))
    since = max(sem_set.otime, sem_set.ctime)
    semaphores = sem_set.semaphores
    users: list[User] = []
    if semaphores is None:
        return times, since, users, f"its values cannot be read ({sem_set.unreadable})", None
    waiters = 0
    seen: list[int] = []  # most sets were last changed by one process: judged once
    for semaphore in semaphores:
        waiters += semaphore.ncnt + semaphore.zcnt
        pid = semaphore.pid
        if pid and pid not in seen:
            seen.append(pid)
            users.append(_user("last operation", pid, since, processes, hidden))
    busy = f"{waiters} process(es) waiting on it" if waiters else None
    unknown = None if users else "no process ever operated on it: no evidence"
    return times, since, users, unknown, busy


def _queue_facts(
    queue: MessageQueue, processes: Mapping[int, Process], hidden: Mapping[int, str]
) -> _Facts:
    times = (("send", queue.stime), ("receive", queue.rtime), ("change", queue.ctime))
    users = []
    if queue.lspid:
        users.append(_user("last sender", queue.lspid, queue.stime, processes, hidden))
    if queue.lrpid and queue.lrpid != queue.lspid:
        users.append(_user("last receiver", queue.lrpid, queue.rtime, processes, hidden))
    unknown = None if users else "no process ever sent or received: no evidence"
    return times, max(queue.stime, queue.rtime, queue.ctime), users, unknown, None


def _judge(
    obj: IpcObject,
    snapshot: Snapshot,
    at: float,
    grace: float,
    blocked: Collection[tuple[Kind, int]] | None,
) -> Verdict:
    """judge() itself, in plain locals and loops (no object or generator an object: `list`
    judges every object, 6000 at the benchmark's workload)."""
    kind = type(obj)
    if kind is Segment:
        facts = _segment_facts(cast(Segment, obj), snapshot.processes, snapshot.hidden)
    elif kind is SemaphoreSet:
        facts = _set_facts(cast(SemaphoreSet, obj), snapshot.processes, snapshot.hidden)
    else:
        facts = _queue_facts(cast(MessageQueue, obj), snapshot.processes, snapshot.hidden)
    times, latest, users, unknown, busy = facts
    if busy is None and blocked and (KINDS[kind], obj.id) in blocked:
        busy = "a process is blocked on it"
    users_gone: bool | None = None
    if unknown is None:
        users_gone = True
        for u in users:
            if u.alive:
                users_gone = False
                break
            if u.alive is None and users_gone:
                users_gone = None
                unknown = f"{u.role} {u.pid}: {u.state}"
        if users_gone is False:
            unknown = None
    private = obj.owner.key == 0
    idle = max(at - latest, 0.0)
    status: Status | None = None
    if busy is None and users_gone is True:
        if blocked is None and kind is MessageQueue:
            unknown = NO_WAITER_SCAN  # users gone, but a blocked receiver would not show
        elif not private:
            status = KEYED[kind]
        elif idle >= grace:
            status = Status.ORPHAN
    return Verdict(
        status, private, tuple(users), users_gone, unknown, busy, times, idle, grace, latest
    )


def turns_with_time(verdict: Verdict) -> bool:
    """Whether the clock alone can change the verdict: only idle moves with it, and it
    matters only to an object the rule would call an orphan but for its idleness (private,
    unused, its users shown gone): settling before the grace is up, orphan after (_judge's
    `idle >= grace`)."""
    return (
        verdict.private and verdict.busy is None and verdict.users_gone is True
        and verdict.unknown is None
    )  # fmt: skip


def same_later(verdict: Verdict, at: float) -> bool:
    """Whether the object judged so would be judged the same at `at` (its facts and processes
    unchanged): see turns_with_time."""
    if not turns_with_time(verdict):
        return True
    return (max(at - verdict.last_touched, 0.0) >= verdict.grace) is (verdict.idle >= verdict.grace)


def parse_duration(text: str) -> float:
    """Seconds in `90s`, `10m`, `2h`, `7d` (1 s to 365 d); ValueError saying what is accepted."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a duration: {text!r}; use a whole number and s, m, h or d (7d)")
    seconds = float(int(match.group(1)) * _UNITS[match.group(2)])
    if not 1 <= seconds <= MAX_IDLE:
        raise ValueError(f"duration {text!r} out of range: 1s to 365d")
    return seconds


def attachments_note(segment: Segment, blind: BlindSpots) -> str | None:
    """Why a segment's attachment list does not agree with its nattch (None: it agrees)."""
    if segment.coverage is Coverage.COMPLETE:  # first: asked of every segment listed
        return None
    found, nattch = len(segment.attachments), segment.nattch
    mappings = f"{found} mapping{'' if found == 1 else 's'}"
    if segment.coverage is Coverage.NOT_SCANNED:
        return f"attachments not scanned (nattch {nattch})"
    if segment.coverage is Coverage.CHANGED:
        return (
            f"attachments inconsistent: nattch {nattch} but {mappings} found;"
            " it changed while it was scanned"
        )
    return f"attachments unknown: nattch {nattch} but only {mappings} visible ({blindness(blind)})"


def blindness(blind: BlindSpots) -> str:
    """What kept processes from view, in a few words."""
    parts = []
    if blind.processes_hidden:
        parts.append(blind.processes_hidden)
    if blind.uninspected_total:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(blind.uninspected.items()))
        parts.append(f"{blind.uninspected_total} process(es) could not be inspected: {reasons}")
    if blind.other_namespace_mappings:
        parts.append(f"{blind.other_namespace_mappings} mapping(s) in other IPC namespaces")
    return "; ".join(parts) or "some processes could not be seen"
