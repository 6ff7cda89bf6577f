"""Threads blocked in semop/semtimedop, msgsnd and msgrcv: who waits on what, since when."""

from __future__ import annotations

import dataclasses
import errno
import os
import platform
import struct
import time
from collections import Counter
from collections.abc import Callable
from types import MappingProxyType

from shmtop.core.binding import native
from shmtop.core.errors import GONE
from shmtop.core.errors import errno_words as describe_errno
from shmtop.core.model import Kind
from shmtop.core.posix.libc import LibcCache
from shmtop.core.snapshot import procfs
from shmtop.core.snapshot.collect import ipc_namespace_of, msg_rows, sem_rows
from shmtop.core.snapshot.procs import ProcessDirectory
from shmtop.core.waits import futexes, mq_waits, wait_procs, waitgraph
from shmtop.core.waits.futexes import read_memory
from shmtop.core.waits.records import MqKind, QueueState, SemOp, SemState, Waiter
from shmtop.core.waits.settings import DEFAULT_STUCK_AFTER
from shmtop.core.waits.wait_report import WaitReport, assemble
from shmtop.core.waits.wait_verdict import PID_TIME_SLACK

MAX_SEMBUFS = 4096  # far above SEMOPM; a larger nsops is not a blocked call

# Every IPC call these rows hold (semop, semtimedop, msgsnd, msgrcv) takes the object's id
# as its first argument: a TaskRow's arg0.
_Row = native.TaskRow


class WaiterScanner:
    """Finds blocked IPC callers; keep one alive across scans to learn how long waits last.

    A wait is the same one while the thread stays in the same call with the
    same arguments and has not run since (its schedstat is unchanged).
    """

    def __init__(
        self,
        *,
        stuck_after: float = DEFAULT_STUCK_AFTER,
        machine: str | None = None,
        clock: Callable[[], float] = time.time,
        members: Callable[[], list[int]] | None = None,
    ) -> None:
        self.stuck_after = stuck_after
        # The PIDs to scan (default every process): a namespace's members (exporter -A)
        # when the scanner lives in its joined thread; the others' waits are not its own.
        self._members = members
        self._machine = machine or platform.machine()
        self._syscalls = procfs.ipc_syscalls(self._machine)
        self._futex = futexes.futex_number(self._machine)
        self._waitv = None if self._futex is None else futexes.FUTEX_WAITV
        self._mq = mq_waits.mq_numbers(self._machine)  # mq_timedsend, mq_timedreceive
        self._mq_holders = mq_waits.HolderCache()
        self._mappers = futexes.MapperCache()
        self._libc = LibcCache()
        self._clock = clock
        self._namespace = ipc_namespace_of("thread-self")  # a joined thread: its namespace
        self._processes = ProcessDirectory()
        self._waits: dict[tuple[int, ...], tuple[float, tuple[int, int]]] = {}
        self._objects: dict[tuple[Kind, int], tuple[object, float]] = {}

    def _pids(self) -> list[int]:
        if self._members is not None:
            return self._members()
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]

    def scan(self) -> WaitReport:
        """Read every thread's syscall file once (in C) and build the report."""
        now = self._clock()
        if self._syscalls is None:
            return _empty(now, self.stuck_after, f"no system call table for {self._machine}")
        pids = self._pids()
        futex_calls = [n for n in (self._futex, self._waitv) if n is not None]
        wanted = sorted(self._syscalls) + futex_calls + sorted(self._mq)
        scan = native.scan_syscalls(pids, wanted)
        unreadable = Counter(
            describe_errno(n) for n in scan.failures.values() if n not in (errno.ESRCH, 0)
        )
        ignored: Counter[str] = Counter()
        located = self._futex_waits(scan.rows, pids, ignored, now)
        semaphores = futexes.named_semaphores(located, self._libc)
        queued = mq_waits.locate(
            self._in_our_namespace([r for r in scan.rows if r.nr in self._mq], ignored),
            self._mq, pids, ignored, self._mq_holders, now,
        )  # fmt: skip
        rows = self._in_our_namespace(
            [r for r in scan.rows if r.nr in self._syscalls], ignored
        )  # fmt: skip
        calls = {row.nr: self._syscalls[row.nr] for row in rows}
        sets = self._sem_states({r.arg0 for r in rows if calls[r.nr].startswith("sem")}, now)
        queues = self._queue_states({r.arg0 for r in rows if calls[r.nr].startswith("msg")}, now)
        found = self._processes.lookup(_named_pids(rows, located, queued, sets, queues))
        names = {pid: p.command for pid, p in found.items()}
        titles = {pid: p.title for pid, p in found.items() if p.title is not None}
        users = {pid: p.user for pid, p in found.items()}
        waits: dict[tuple[int, ...], tuple[float, tuple[int, int]]] = {}
        waiters = []
        for row in rows:
            name = calls[row.nr]
            known = sets if name.startswith("sem") else queues
            if row.arg0 not in known:
                ignored["object gone"] += 1
                continue
            since, verified = self._since(row, now, waits)
            command = names.get(row.pid, "?")
            if name.startswith("sem"):
                waiters.append(_sem_waiter(row, name, command, since, verified, sets[row.arg0]))
            else:
                waiters.append(_msg_waiter(row, name, command, since, verified))
            waiters[-1] = dataclasses.replace(waiters[-1], title=titles.get(row.pid))
        by_key = {(s.device, s.inode): s for s in semaphores}
        for item in located:
            row, futex = item.row, item.futex
            since, verified = self._since(row, now, waits)
            semaphore = by_key.get((futex.device, item.object_id))
            if semaphore is not None:  # sem_open maps a temporary name: the one listed is right
                futex = dataclasses.replace(futex, object_name=semaphore.name)
            syscall = "futex_waitv" if row.nr == self._waitv else "futex"
            waiters.append(Waiter(
                row.pid, row.tid, names.get(row.pid, "?"), item.kind, item.object_id, syscall,
                since, verified, title=titles.get(row.pid), futex=futex, semaphore=semaphore,
            ))  # fmt: skip
        for waited in queued:
            since, verified = self._since(waited.row, now, waits)
            waiters.append(_queue_waiter(waited, names, titles, since, verified))
        self._waits = waits
        self._objects = {
            key: self._objects[key]
            for key in [*((Kind.SEM, i) for i in sets), *((Kind.MSG, i) for i in queues)]
        }
        edges = waitgraph.releases(waiters, sets, queues)
        statuses = wait_procs.statuses(
            {w.pid for w in waiters} | {e.releaser for e in edges},
            Counter(w.pid for w in waiters), scan.failures, set(pids),
        )  # fmt: skip
        return assemble(
            now, waiters, sets, queues, statuses, self.stuck_after, edges=edges,
            processes=MappingProxyType(names), processes_scanned=len(pids),
            tasks_scanned=scan.tasks, unreadable=MappingProxyType(dict(unreadable)),
            ignored=MappingProxyType(dict(ignored)), hidden=wait_procs.hidden_processes(),
            titles=MappingProxyType(titles), named_semaphores=tuple(semaphores),
            users=MappingProxyType(users),
        )  # fmt: skip

    def _futex_waits(self, rows: list[_Row], pids: list[int], ignored: Counter[str],
                     now: float) -> list[futexes.Located]:  # fmt: skip
        """The shared futex words threads sleep on (futex, and each word of a futex_waitv),
        each with its object. A private futex (most of them: every idle thread pool) is no
        IPC wait: not counted."""
        shared = [r for r in rows if r.nr == self._futex and futexes.shared_wait_op(r.arg1)]
        vectors = [r for r in rows if r.nr == self._waitv]
        shared = self._in_our_namespace(shared, ignored, futex=True)
        shared += futexes.waitv_words(self._in_our_namespace(vectors, ignored, futex=True),
                                      ignored)  # fmt: skip
        located = futexes.locate(shared, ignored, self._libc)
        return self._mappers.fill(located, pids, now)

    def _in_our_namespace(
        self, rows: list[_Row], ignored: Counter[str], *, futex: bool = False
    ) -> list[_Row]:
        """Rows of processes in our IPC namespace (ids of another one name other objects).

        futex: the rows are futex calls (an address, an op, a value): kept unsigned."""
        spaces = {pid: ipc_namespace_of(pid) for pid in {row.pid for row in rows}}
        kept = []
        for row in rows:
            space = spaces[row.pid]
            if space is None:
                ignored["ended during the scan"] += 1
            elif space != self._namespace:
                ignored["other IPC namespace"] += 1
            elif futex:
                kept.append(row._replace(arg0=row.arg0 & _U64, arg1=row.arg1 & 0xFFFFFFFF,
                                         arg2=row.arg2 & _U64))  # fmt: skip
            else:  # registers as the call saw them: an int id, unsigned longs
                kept.append(row._replace(
                    arg0=_signed(row.arg0, 32), arg1=row.arg1 & _U64, arg2=row.arg2 & _U64,
                    arg3=row.arg3 & _U64, arg4=row.arg4 & _U64, arg5=row.arg5 & _U64,
                ))  # fmt: skip
        return kept

    def _since(
        self, row: _Row, now: float, waits: dict[tuple[int, ...], tuple[float, tuple[int, int]]]
    ) -> tuple[float, bool]:
        """When this wait was first seen, and whether schedstat shows it never ran since."""
        key, sched = row.call, (row.run_ns, row.timeslices)
        seen = self._waits.get(key)
        since = seen[0] if seen is not None and seen[1] == sched else now
        waits[key] = (since, sched)
        return since, sched != (-1, -1)

    def _changed(self, key: tuple[Kind, int], signature: object, kernel_time: float,
                 now: float) -> float:  # fmt: skip
        """Since when an object is unchanged: its kernel time, or a later change seen by a scan.

        Kernel times are whole seconds: the change may have come up to a second later.
        """
        seen = self._objects.get(key)
        observed = 0.0 if seen is None else (seen[1] if seen[0] == signature else now)
        self._objects[key] = (signature, observed)
        return max(min(kernel_time + PID_TIME_SLACK, now) if kernel_time else 0.0, observed)

    def _sem_states(self, ids: set[int], now: float) -> dict[int, SemState]:
        if not ids:
            return {}
        rows = [row for row in sem_rows() if row.id in ids]
        states = {}
        values_of = native.sem_values([(r.id, r.nsems) for r in rows])
        for row, values in zip(rows, values_of, strict=True):
            semid, nsems, otime, ctime = row.id, row.nsems, row.otime, row.ctime
            if isinstance(values, OSError):
                if values.errno in GONE:
                    continue
                numbers, changers = None, None
                why: str | None = describe_errno(values.errno or 0)
            else:
                numbers = tuple(v.value for v in values)
                changers, why = tuple(v.pid for v in values), None
            unchanged = self._changed((Kind.SEM, semid), (numbers, changers, otime, ctime),
                                      max(otime, ctime), now)  # fmt: skip
            states[semid] = SemState(semid, nsems, numbers, changers, why, unchanged,
                                     max(otime, ctime))  # fmt: skip
        return states

    def _queue_states(self, ids: set[int], now: float) -> dict[int, QueueState]:
        if not ids:
            return {}
        states = {}
        for row in msg_rows():
            msqid, stime, rtime, ctime = row.id, row.stime, row.rtime, row.ctime
            if msqid in ids:
                unchanged = self._changed((Kind.MSG, msqid), row, max(stime, rtime, ctime), now)
                states[msqid] = QueueState(msqid, row.qnum, row.cbytes, row.lspid, row.lrpid,
                                           unchanged, max(stime, rtime, ctime))  # fmt: skip
        return states


def _empty(now: float, stuck_after: float, why: str) -> WaitReport:
    return WaitReport(
        taken_at=now, waiters=(), semaphore_sets=MappingProxyType({}), queues=MappingProxyType({}),
        releases=(), cycles=(), verdicts=(), statuses=MappingProxyType({}),
        processes=MappingProxyType({}), processes_scanned=0, tasks_scanned=0,
        unreadable=MappingProxyType({}), ignored=MappingProxyType({}), stuck_after=stuck_after,
        unsupported=why,
    )  # fmt: skip


def _named_pids(
    rows: list[_Row], located: list[futexes.Located], queued: list[mq_waits.QueueWait],
    sets: dict[int, SemState], queues: dict[int, QueueState],
) -> set[int]:  # fmt: skip
    """Every process a report names: waiters, owners, mappers, holders, last changers."""
    pids = {row.pid for row in rows} | {item.row.pid for item in located}
    pids.update(i.futex.owner_pid for i in located if i.futex.owner_pid is not None)
    pids.update(pid for i in located for pid in i.futex.mappers or ())
    for waited in queued:
        pids.update((waited.row.pid, *(waited.queue.releasers(waited.direction) or ())))
    for state in sets.values():
        pids.update(state.last_changers or ())
    for queue in queues.values():
        pids.update((queue.lspid, queue.lrpid))
    return pids


def _queue_waiter(waited: mq_waits.QueueWait, names: dict[int, str], titles: dict[int, str],
                  since: float, verified: bool) -> Waiter:  # fmt: skip
    """A thread blocked on a POSIX queue: msg_size is the call's msg_len (arg2)."""
    row = waited.row
    return Waiter(
        row.pid, row.tid, names.get(row.pid, "?"), MqKind.MQ, waited.inode, waited.syscall,
        since, verified, direction=waited.direction, msg_size=row.arg2,
        title=titles.get(row.pid), queue=waited.queue,
    )  # fmt: skip


def _sem_waiter(row: _Row, name: str, command: str, since: float, verified: bool,
                state: SemState) -> Waiter:  # fmt: skip
    pid, tid, semid = row.pid, row.tid, row.arg0
    sops, nsops, timeout_at = row.arg1, row.arg2, row.arg3  # (semid, sops, nsops, timeout)
    operations: tuple[SemOp, ...] | None = None
    timeout: float | None = None
    why: str | None = None
    try:
        if not 0 < nsops <= MAX_SEMBUFS:
            raise OSError(errno.EINVAL, f"nsops {nsops}")
        raw = read_memory(pid, sops, 6 * nsops)
        operations = tuple(SemOp(*fields) for fields in struct.iter_unpack("=Hhh", raw))
        if name == "semtimedop" and timeout_at:
            seconds, nanoseconds = struct.unpack("=qq", read_memory(pid, timeout_at, 16))
            timeout = seconds + nanoseconds / 1e9
    except OSError as error:
        why = describe_errno(error.errno or errno.EIO)
    waits_for = waitgraph.blocking_semaphores(operations, state.values) if operations else ()
    return Waiter(pid, tid, command, Kind.SEM, semid, name, since, verified,
                  operations=operations, waits_for=waits_for, timeout=timeout,
                  unreadable=why)  # fmt: skip


def _msg_waiter(row: _Row, name: str, command: str, since: float, verified: bool) -> Waiter:
    pid, tid, msqid, msgp, msgsz, arg3, arg4 = (row.pid, row.tid, row.arg0, row.arg1, row.arg2,
                                                row.arg3, row.arg4)  # fmt: skip
    if name == "msgrcv":  # (msqid, msgp, msgsz, msgtyp, msgflg)
        return Waiter(pid, tid, command, Kind.MSG, msqid, name, since, verified,
                      direction="receive", msg_type=_signed(arg3), msg_flags=arg4 & 0xFFFFFFFF,
                      msg_size=msgsz)  # fmt: skip
    mtype: int | None = None  # msgsnd(msqid, msgp, msgsz, msgflg): the type sits at msgp
    why: str | None = None
    try:
        mtype = struct.unpack("=q", read_memory(pid, msgp, 8))[0]
    except OSError as error:
        why = describe_errno(error.errno or errno.EIO)
    return Waiter(pid, tid, command, Kind.MSG, msqid, name, since, verified,
                  direction="send", msg_type=mtype, msg_flags=arg3 & 0xFFFFFFFF,
                  msg_size=msgsz, unreadable=why)  # fmt: skip


_U64 = (1 << 64) - 1


def _signed(value: int, bits: int = 64) -> int:
    """A register as the signed int (32) or long (64) the call received."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value
