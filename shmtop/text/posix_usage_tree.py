"""The POSIX lines of the tree view: under each process, the POSIX shm objects it maps or
holds open, the named semaphores it maps (and sleeps on), the queues it holds (and is
blocked in). From a POSIX scan and a queue scan (and the waiter scan, for futex waits);
usage_tree.py places them. Names are untrusted: sanitised here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from shmtop.core.posix.model import PosixKind, PosixObject, PosixProcess, PosixSnapshot
from shmtop.core.posix.mqueue import MqQueue, MqSnapshot, MqWaiter
from shmtop.core.snapshot.accounts import user_name
from shmtop.core.waits.records import Waiter
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text.report import counted
from shmtop.text.sanitize import safe_text
from shmtop.text.units import human_size

PMQ = "pmq"
ORDER = {str(PosixKind.SHM): 0, str(PosixKind.SEM): 1, PMQ: 2}


@dataclass(frozen=True, slots=True)
class PosixUse:
    """One POSIX object under one process: its key suffix, label, role and sort order."""

    key: str
    label: str
    role: str  # "object", or "waiter" when the process has a thread blocked on it
    order: tuple[int, str, int]
    ref: tuple[str, int, int]  # the object: its kind, device and inode (what Enter opens)


@dataclass(frozen=True, slots=True)
class PosixUser:
    """A process the POSIX scans name: its comm and user."""

    command: str
    user: str | None


def posix_uses(
    shm: PosixSnapshot | None, queues: MqSnapshot | None, waits: WaitReport | None
) -> dict[int, list[PosixUse]]:
    """pid -> the POSIX objects it uses, each with how, in words."""
    found: dict[int, list[PosixUse]] = defaultdict(list)
    futexes = _futex_waiters(waits)
    for obj in shm.objects if shm is not None else ():
        hows = _file_uses(obj, futexes.get((obj.dev, obj.inode), ()))
        facts = _file_facts(obj)
        for pid, how in hows.items():
            found[pid].append(_use(str(obj.kind), obj.dev, obj.inode, obj.name, how, facts))
    for queue in queues.queues if queues is not None else ():
        facts = _queue_facts(queue)
        for pid, how in _queue_uses(queue).items():
            found[pid].append(_use(PMQ, queue.entry.dev, queue.entry.inode, queue.name, how,
                                   facts))  # fmt: skip
    return found


def posix_users(shm: PosixSnapshot | None, queues: MqSnapshot | None) -> dict[int, PosixUser]:
    """Every process the scans name (mappers, holders, waiters), with its comm and user."""
    processes: dict[int, PosixProcess] = {}
    for scan in (shm, queues):
        if scan is not None:
            processes.update(scan.processes)
    return {pid: PosixUser(p.command, user_name(p.uid)) for pid, p in processes.items()}


def _use(kind: str, dev: int, inode: int, name: str, how: list[str], facts: str) -> PosixUse:
    role = "waiter" if any(h.startswith("WAITING") for h in how) else "object"
    label = f"{kind} {safe_text(name)}: {'; '.join(how)}  · {facts}"
    return PosixUse(
        f"{kind}{dev}:{inode}", label, role, (ORDER[kind], name, inode), (kind, dev, inode)
    )


def _futex_waiters(waits: WaitReport | None) -> dict[tuple[int, int], list[Waiter]]:
    """(device, inode) -> the threads in futex on a word of that POSIX object."""
    found: dict[tuple[int, int], list[Waiter]] = defaultdict(list)
    for w in waits.waiters if waits is not None else ():
        if isinstance(w.kind, PosixKind) and w.futex is not None:
            found[w.futex.device, w.object_id].append(w)
    return found


def _thread(pid: int, tid: int) -> str:
    return f" (tid {tid})" if tid != pid else ""


def _file_uses(obj: PosixObject, waiters: list[Waiter] | tuple[Waiter, ...]
               ) -> dict[int, list[str]]:  # fmt: skip
    """pid -> 'mapped rw x2', 'holds fd 4 (rw)', 'WAITING: sem_wait (...)'."""
    how: dict[int, list[str]] = defaultdict(list)
    for pid, mapped in _mapped(obj).items():
        how[pid].append(mapped.removesuffix(":"))
    for h in sorted(obj.holders, key=lambda h: (h.pid, h.fd)):
        how[h.pid].append(f"holds fd {h.fd} ({_access(h.readable, h.writable)})")
    for w in sorted(waiters, key=lambda w: (w.pid, w.tid)):
        how[w.pid].append(f"WAITING{_thread(w.pid, w.tid)}: {safe_text(w.operation())}")
    return how


def _queue_uses(queue: MqQueue) -> dict[int, list[str]]:
    how: dict[int, list[str]] = defaultdict(list)
    for h in sorted(queue.holders, key=lambda h: (h.pid, h.fd)):
        how[h.pid].append(f"holds fd {h.fd} ({_access(h.readable, h.writable)})")
    for w in sorted(queue.waiters, key=lambda w: (w.pid, w.tid)):
        how[w.pid].append(f"WAITING{_thread(w.pid, w.tid)}: {_queue_wait(w)}")
    return how


def _queue_wait(waiter: MqWaiter) -> str:
    return "mq_timedsend (queue full)" if waiter.sending else "mq_timedreceive (queue empty)"


def _access(readable: bool, writable: bool) -> str:
    return ("r" if readable else "") + ("w" if writable else "") or "-"


def _file_facts(obj: PosixObject) -> str:
    """'8.0K  allocated 4.0K', 'value 3, nwaiters 0', with 'unlinked' for a name gone."""
    if obj.kind is PosixKind.SEM and obj.semaphore is not None:
        sem = obj.semaphore
        text = (f"value {sem.value}, nwaiters {sem.nwaiters}" if sem.value is not None
                else f"value ? ({safe_text(sem.problem or 'unreadable')})")  # fmt: skip
    else:
        text = f"{human_size(obj.size)}  allocated {human_size(obj.allocated)}"
    return text if obj.linked else f"{text}  unlinked"


def _queue_facts(queue: MqQueue) -> str:
    state = queue.entry.state
    messages = "? messages" if state.messages is None else counted(state.messages, "message")
    qsize = "" if state.qsize is None else f", {human_size(state.qsize)}"
    return f"{messages}{qsize}" + ("" if queue.linked else "  unlinked")


# ---- owners and the POSIX objects each owns ----


@dataclass(frozen=True, slots=True)
class PosixOwned:
    """One POSIX object under its owner: its key suffix, label, kind, and the lines under
    it (key suffix, label, role, pid): who maps it, holds it, is blocked on it."""

    key: str
    label: str
    kind: str
    uid: int
    users: tuple[tuple[str, str, str, int], ...]
    order: tuple[int, str, int]
    ref: tuple[str, int, int]  # its kind, device and inode (what Enter opens)


def posix_owned(
    shm: PosixSnapshot | None, queues: MqSnapshot | None, waits: WaitReport | None,
    label_of: Callable[[int], str],
) -> dict[str, list[PosixOwned]]:  # fmt: skip
    """owner (user name) -> the POSIX objects it owns (known owners only), each with who
    maps, holds or waits on it; label_of(pid): a process's label."""
    owned: dict[str, list[PosixOwned]] = defaultdict(list)
    futexes = _futex_waiters(waits)
    for obj in shm.objects if shm is not None else ():
        if not obj.stat_known:
            continue  # no owner known
        kind = str(obj.kind)
        lines = [(f"m{pid}", f"{how} {label_of(pid)}", "attacher", pid)
                 for pid, how in _mapped(obj).items()]  # fmt: skip
        lines += [(f"h{h.pid}:{h.fd}", f"holds fd {h.fd} ({_access(h.readable, h.writable)}):"
                   f" {label_of(h.pid)}", "attacher", h.pid)
                  for h in sorted(obj.holders, key=lambda h: (h.pid, h.fd))]  # fmt: skip
        lines += [(f"w{w.tid}", f"BLOCKED {label_of(w.pid)}{_thread(w.pid, w.tid)}:"
                   f" {safe_text(w.operation())}", "waiter", w.pid)
                  for w in sorted(futexes.get((obj.dev, obj.inode), ()),
                                  key=lambda w: (w.pid, w.tid))]  # fmt: skip
        label = f"{kind} {safe_text(obj.name)}  {_file_facts(obj)}"
        owned[user_name(obj.uid)].append(PosixOwned(
            f"{kind}{obj.dev}:{obj.inode}", label, kind, obj.uid, tuple(lines),
            (ORDER[kind], obj.name, obj.inode), (kind, obj.dev, obj.inode),
        ))  # fmt: skip
    for queue in queues.queues if queues is not None else ():
        entry = queue.entry
        lines = [(f"h{h.pid}:{h.fd}", f"holds fd {h.fd} ({_access(h.readable, h.writable)}):"
                  f" {label_of(h.pid)}", "attacher", h.pid)
                 for h in sorted(queue.holders, key=lambda h: (h.pid, h.fd))]  # fmt: skip
        lines += [(f"w{w.tid}", f"BLOCKED {label_of(w.pid)}{_thread(w.pid, w.tid)}:"
                   f" {_queue_wait(w)}", "waiter", w.pid)
                  for w in sorted(queue.waiters, key=lambda w: (w.pid, w.tid))]  # fmt: skip
        label = f"{PMQ} {safe_text(queue.name)}  {_queue_facts(queue)}"
        owned[user_name(entry.uid)].append(PosixOwned(
            f"{PMQ}{entry.dev}:{entry.inode}", label, PMQ, entry.uid, tuple(lines),
            (ORDER[PMQ], queue.name, entry.inode), (PMQ, entry.dev, entry.inode),
        ))  # fmt: skip
    return owned


def _mapped(obj: PosixObject) -> dict[int, str]:
    """pid -> 'mapped rw x2:' (its mappings of obj)."""
    mapped: dict[int, list[bool]] = defaultdict(list)
    for m in obj.mappings:
        mapped[m.pid].append(m.writable)
    return {
        pid: f"mapped {'rw' if any(w) else 'ro'}{f' x{len(w)}' if len(w) > 1 else ''}:"
        for pid, w in mapped.items()
    }
