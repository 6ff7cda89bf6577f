"""Builds one consistent Snapshot of the namespace's System V IPC, reusing what has not changed."""

from __future__ import annotations

import errno
import gc
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import chain, starmap
from types import MappingProxyType

import msgspec

from shmtop.core.binding import native
from shmtop.core.model import (
    Attachment,
    BlindSpots,
    Coverage,
    Limits,
    MessageQueue,
    Owner,
    Process,
    Segment,
    Semaphore,
    SemaphoreSet,
    Snapshot,
)
from shmtop.core.snapshot import activity, procfs, row_changes, visibility
from shmtop.core.snapshot.accounts import group_name, user_name
from shmtop.core.snapshot.named_pids import NamedPids
from shmtop.core.snapshot.procs import ProcessDirectory, ProcessFacts
from shmtop.core.snapshot.scan_parts import MapsRound, ScanPart, SharedScan, scan_part
from shmtop.core.snapshot.shm_carry import SegmentCarry
from shmtop.core.snapshot.table_lines import TableLines
from shmtop.core.snapshot.workers import Workers
from shmtop.core.verdicts import liveness

PROC = "/proc"
# What one /proc/PID/task/TID/syscall read and one task's schedstat in a refresh cost, in
# semctl calls (bench/bench_steady.py: 17 and 10 on the loaded 2-core machine). A refresh
# looks at every task, so it is worth it only for many semaphores (two calls each); a set
# of namespaces (-A) has a collector each, and a small one reads its counts.
SYSCALL_READ_SEMCTLS = 16
SCHEDSTAT_READ_SEMCTLS = 10
SKIP_MIN_SEMAPHORES = 1024
_SHM_HEADER_NEEDED = ("key", "shmid", "perms", "size", "cpid", "lpid", "nattch",
                      "uid", "gid", "cuid", "cgid", "atime", "dtime", "ctime")  # fmt: skip


def describe_errno(number: int) -> str:
    """A few words for why a process or object could not be read."""
    if number in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return os.strerror(number).lower()


def ipc_namespace_of(pid: int | str) -> int | None:
    """Inode of a process's IPC namespace, or None if it cannot be told."""
    try:
        return os.stat(f"{PROC}/{pid}/ns/ipc").st_ino
    except OSError:
        return None


# Small on purpose: it only shares one Owner among objects with the same key and ids (most
# are IPC_PRIVATE), and every snapshot's objects hold their own; 65,536 entries grew the
# view by ~2.4 MB a minute under keyed churn. A miss costs a microsecond, once an object.
@lru_cache(maxsize=1024)
def make_owner(key: int, uid: int, gid: int, cuid: int, cgid: int, mode: int) -> Owner:
    return Owner(
        key=key & 0xFFFFFFFF, uid=uid, gid=gid, cuid=cuid, cgid=cgid, mode=mode,
        user=user_name(uid), group=group_name(gid),
        creator_user=user_name(cuid), creator_group=group_name(cgid),
    )  # fmt: skip


class _MappingScan(msgspec.Struct, frozen=True, gc=False):
    """Result of one scan of /proc/PID/maps."""

    mappings: dict[int, tuple[tuple[int, int, int, bool], ...]]  # shmid -> (pid, start, end, rw)
    scanned: int
    uninspected: dict[str, int]
    other_namespace: int
    facts: dict[int, ProcessFacts]  # of the attachers, read during the scan
    found: int = 0  # how many mappings: counted once, a reused scan serves many snapshots

    @property
    def pids(self) -> set[int]:
        return {pid for maps in self.mappings.values() for pid, *_ in maps}


class _ShmColumns:
    """Where each field sits in a /proc/sysvipc/shm row, found by header name."""

    def __init__(self, columns: list[str]) -> None:
        missing = [name for name in _SHM_HEADER_NEEDED if name not in columns]
        if missing:
            raise OSError(errno.EPROTO, f"/proc/sysvipc/shm lacks columns {missing}")
        at = {name: index for index, name in enumerate(columns)}
        self.names = columns
        self.bases = procfs.column_bases(columns)
        self.key, self.id, self.perms, self.size = at["key"], at["shmid"], at["perms"], at["size"]
        self.cpid, self.lpid, self.nattch = at["cpid"], at["lpid"], at["nattch"]
        self.uid, self.gid, self.cuid, self.cgid = at["uid"], at["gid"], at["cuid"], at["cgid"]
        self.atime, self.dtime, self.ctime = at["atime"], at["dtime"], at["ctime"]
        self.rss, self.swap = at.get("rss"), at.get("swap")
        self.state = tuple(at[name] for name in native.ShmStateLook.STATE_COLUMNS)

    def signature(self, row: tuple[int, ...]) -> tuple[int, ...]:
        """What changes whenever a process attaches or detaches (fork and exit too)."""
        return (row[self.id], row[self.nattch], row[self.lpid], row[self.atime], row[self.dtime])


class Collector:
    """Takes snapshots; keep one alive and call snapshot() every refresh.

    Each object is rebuilt only when what the kernel says of it changed, so a
    steady-state snapshot costs the kernel reads and little more.
    """

    def __init__(
        self,
        *,
        semaphore_values: bool = True,
        attachments: bool = True,
        members: Callable[[], list[int]] | None = None,
        shared: SharedScan | None = None,
    ) -> None:
        """members: the PIDs whose maps to scan (default every process); a collector of
        another IPC namespace scans that namespace's processes only, as only they can map
        its segments. Made in a thread that joined another IPC namespace, it is that one's.
        shared: a first scan (and one after a change) is taken from that scan of every
        process, which the collectors of the other namespaces share; such a collector
        starts no thread of its own (there may be one a namespace)."""
        self._semaphore_values = semaphore_values
        self._attachments = attachments
        self._processes = ProcessDirectory()
        # thread-self, not self: setns moves one thread, and /proc/self is the main thread's.
        self._namespace = ipc_namespace_of("thread-self") or 0
        self._members = members or _all_pids
        self._shared = shared
        self._shared_taken = False
        self._own_pid = os.getpid()
        self._hiding = visibility.processes_hidden()  # the /proc mount does not change under us
        # Reuse state: what the last snapshot read, and what it built from it.
        self._shm_table = b""
        self._shm_rows: list[tuple[int, ...]] = []
        self._shm_lines = TableLines()  # a changed table parses only its changed lines
        self._shm_columns: _ShmColumns | None = None
        self._shm_carry = SegmentCarry()  # a steady snapshot's rows without the file
        self._last_signature: tuple[tuple[int, ...], ...] | None = None
        self._last_scan: _MappingScan | None = None
        self._last_scan_started = 0.0
        self._attachers_scan: _MappingScan | None = None  # the scan _attachers belong to
        self._attachers: dict[int, Process] = {}
        self._segments: dict[int, tuple[tuple[object, ...], Segment]] = {}
        self._sem_read: tuple[list[native.SemRow], list[int], list[int]] | None = None
        self._sem_values = native.SemValueReader()  # keeps the pids of untouched sets
        # ... and their ncnt/zcnt, when no task that ran since sleeps or slept in them
        self._sem_activity = (
            activity.TaskActivity(
                semops=True,
                vouched=activity.vouched_from_environment(),
                ipc_namespace=self._namespace,
            )
            if semaphore_values and activity.count_skip_enabled()
            else None
        )
        self._semaphores_seen = 0  # semaphores in the last read (the refresh's budget)
        self._sem_looked = False  # the semaphores were read once (their first snapshot)
        # Refreshes of the task evidence so far: each answers "since the one before", so a
        # caller of refresh_activity that sees another in between lost what it told.
        self.activity_refreshes = 0
        # The evidence of refreshes made since the last snapshot that completed: a snapshot
        # that raises after its refresh must not lose what that refresh told (the next
        # one answers "since" it), so the next refresh is merged with it.
        self._unused_evidence: activity.Activity | None = None
        self._sem_sets: tuple[SemaphoreSet, ...] = ()
        self._sem_cache: dict[int, tuple[object, SemaphoreSet]] = {}
        self._queues: dict[native.MsgRow, MessageQueue] = {}
        # The tables, read into kept buffers: an unchanged one is the very list of last time.
        self._sem_table = native.sem_table_reader()
        self._msg_table = native.msg_table_reader()
        self._pool: Workers | None = None
        self._summarised: tuple[_ShmColumns, list[tuple[int, ...]]] | None = None
        self._agreed: tuple[_ShmColumns, list[tuple[int, ...]], _MappingScan] | None = None
        self._summary_of_rows: tuple[tuple[tuple[int, ...], ...], int, int] = ((), 0, 0)
        self._queue_rows: list[native.MsgRow] | None = None
        self._queue_objects: tuple[MessageQueue, ...] = ()
        self._named = NamedPids()
        self._segments_built: tuple[tuple[object, ...], tuple[Segment, ...]] | None
        self._segments_built = None
        self._plain_rows: list[tuple[int, ...]] | None = None  # what they were made of

    @classmethod
    def made_for(
        cls, members: list[int], attachments: bool, values: bool, shared: SharedScan | None = None
    ) -> Collector:
        """A collector of the calling thread's IPC namespace that scans members only."""
        return cls(
            attachments=attachments, semaphore_values=values, members=lambda: members,
            shared=shared,
        )  # fmt: skip

    # ---- the whole snapshot ----

    def snapshot(self) -> Snapshot:
        """Every segment, semaphore set and queue, with the processes behind them."""
        # A first snapshot makes tens of thousands of small acyclic objects; the
        # cycle collector would walk the heap again and again while they are made
        # (a third of the time at 4000 segments), and there is no cycle to find.
        with collector_paused():
            return self._snapshot(None)

    def snapshot_from(self, maps: MapsRound, evidence: activity.Activity | None = None) -> Snapshot:
        """snapshot(), taking its maps scan (whenever it must scan) from a read of every
        process's maps under way (core/posix/full.py), so that nothing reads them twice;
        evidence: refresh_activity()'s, for the semaphores (else they refresh their own)."""
        with collector_paused():
            return self._snapshot(maps, evidence)

    def refresh_activity(self) -> activity.Activity | None:
        """Which tasks ran since the last refresh, read now for the next snapshot_from and
        for its caller (core/posix/full.py reads again only the processes that ran): one
        refresh a round. None when this Collector keeps no such evidence."""
        if self._sem_activity is None:
            return None
        # (a first refresh reads every task whatever the cap)
        return self._refreshed(self._sem_activity.refresh(sem_task_reads(self._semaphores_seen)))

    def _refreshed(self, evidence: activity.Activity) -> activity.Activity:
        """A refresh made: with what the unused ones before it told (see __init__)."""
        self.activity_refreshes += 1
        if self._unused_evidence is not None:
            evidence = activity.merged(self._unused_evidence, evidence)
        self._unused_evidence = evidence
        return evidence

    @property
    def scanned_before(self) -> bool:
        """Whether a maps scan was taken (a first snapshot's surely scans)."""
        return self._last_scan is not None

    def _snapshot(
        self, maps: MapsRound | None, evidence: activity.Activity | None = None
    ) -> Snapshot:
        taken_at = time.time()
        # Kernel reads run in worker threads (the C loops release the GIL) while
        # this thread parses and builds: two cores, one wait.
        # (A collector of one namespace among many starts no thread: its own are enough.)
        semaphores_read = (
            self._executor().submit(self._read_semaphore_values, evidence)
            if self._shared is None
            else None
        )
        limits = read_limits()  # (its SHM_INFO tells the segments' rows whether to read)
        columns, shm_rows = self._read_segment_rows(limits)
        scan_result = self._start_scan(columns, shm_rows, maps) if self._attachments else None
        sem_sets = self._semaphore_sets(
            self._read_semaphore_values(evidence)
            if semaphores_read is None
            else semaphores_read.result()
        )
        queues = self._read_queues()
        scan = scan_result() if scan_result else None
        processes, hidden = self._lookup_processes(columns, shm_rows, scan, sem_sets, queues)
        segments = self._build_segments(columns, shm_rows, scan, processes, hidden)
        self._unused_evidence = None  # this snapshot took what the refreshes told
        return Snapshot(
            taken_at=taken_at,
            segments=segments,
            semaphore_sets=sem_sets,
            queues=queues,
            limits=limits,
            processes=MappingProxyType(processes),
            blind_spots=_blind_spots(scan, self._summary(columns, shm_rows)[2], self._hiding),
            viewer_pid=self._own_pid,
            ipc_namespace=self._namespace,
            hidden=MappingProxyType(hidden),
        )

    def _lookup_processes(
        self,
        columns: _ShmColumns,
        shm_rows: list[tuple[int, ...]],
        scan: _MappingScan | None,
        sem_sets: tuple[SemaphoreSet, ...],
        queues: tuple[MessageQueue, ...],
    ) -> tuple[dict[int, Process], dict[int, str]]:
        """Facts on every PID that matters (attachers of an unchanged scan are taken as known),
        and the PIDs that run but cannot be read or seen, with why."""
        if scan is None:
            attachers: dict[int, Process] = {}
        elif scan is self._attachers_scan:
            # A process cannot exit or exec without detaching, which would have
            # changed the scan's signature: the attachers are the same processes.
            attachers = self._attachers
            unsettled = self._processes.unsettled(attachers)
            if unsettled:  # read too soon after they started: their titles may be their parent's
                attachers = {**attachers, **self._processes.lookup(unsettled)}
        else:
            attachers = self._processes.lookup(scan.pids, known=scan.facts)
        named = self._named.of(shm_rows, (columns.cpid, columns.lpid), sem_sets, queues)
        others = named - attachers.keys()
        self._attachers, self._attachers_scan = attachers, scan
        unreadable: dict[int, int] = {}
        found = {**attachers, **self._processes.lookup(others, unreadable=unreadable)}
        self._processes.prune(found)
        hidden = {
            pid: f"exists, but {describe_errno(n)} to read it" for pid, n in unreadable.items()
        }
        # /proc said "no such process" of the rest: ask the kernel, which /proc may lie to.
        for pid in others - found.keys() - hidden.keys():
            if pid > 0 and (why := visibility.unseen_reason(pid, self._hiding)) is not None:
                hidden[pid] = why
        return found, hidden

    # ---- segments ----

    def _read_segment_rows(self, limits: Limits) -> tuple[_ShmColumns, list[tuple[int, ...]]]:
        carried = self._shm_carry.carried(limits)
        if carried is not None and self._shm_columns is not None:
            return self._shm_columns, carried  # what the file would say (shm_carry.py)
        table = procfs.read_sysvipc("shm")
        if table != self._shm_table or self._shm_columns is None:
            names = procfs.header_columns(table)
            if self._shm_columns is None or self._shm_columns.names != names:
                self._shm_columns = _ShmColumns(names)
            self._shm_rows = self._shm_lines.rows(table, self._shm_columns.bases)
            self._shm_table = table
        c = self._shm_columns
        self._shm_carry.read(self._shm_rows, c.state, c.rss, c.swap)
        return c, self._shm_rows

    def _build_segments(
        self,
        columns: _ShmColumns,
        rows: list[tuple[int, ...]],
        scan: _MappingScan | None,
        processes: dict[int, Process],
        hidden: dict[int, str],
    ) -> tuple[Segment, ...]:
        """Every Segment; the whole tuple is reused when rows, scan and processes are the same."""
        inputs = (rows, scan, processes, hidden)
        last = self._segments_built
        # The same scan and processes: a row that is the very row of last time (TableLines)
        # makes the very segment of last time.
        same = (
            last is not None
            and last[0][1] is scan
            and last[0][2] == processes
            and last[0][3] == hidden
        )
        if same and last is not None and last[0][0] is rows:
            return last[1]
        settled, coverage = self._settle(columns, rows, scan)
        maker = self._segment_maker(columns, scan, processes, hidden, coverage, reuse=same)
        # Each row in its place and no coverage to tell: only the rows that moved are made
        # (the rest are the very segments of last time, in C), and no id came or went.
        again = None
        if same and not coverage and last is not None and self._plain_rows is not None:
            again = row_changes.remade(self._plain_rows, settled, last[1], maker, columns.id)
        if again is not None:
            segments = tuple(again)
        else:
            segments = tuple(map(maker, settled))
            self._segments = {s.id: self._segments[s.id] for s in segments}
        self._segments_built = (inputs, segments)
        self._plain_rows = None if coverage else settled
        return segments

    def _settle(
        self, columns: _ShmColumns, rows: list[tuple[int, ...]], scan: _MappingScan | None
    ) -> tuple[list[tuple[int, ...]], dict[int, Coverage]]:
        """Rows whose mappings agree with their nattch, and the coverage of those that do not.

        The table is read before the maps scan, so under churn a row can count more or fewer
        attachments than the scan found. Those segments are read again after the scan: a row
        that now agrees replaces the old one; the rest are marked, PARTIAL where processes
        could not be seen (the missing attachments may be theirs), else CHANGED.
        """
        c = columns
        if scan is None:
            return rows, {row[c.id]: Coverage.NOT_SCANNED for row in rows if row[c.nattch]}
        agreed = self._agreed  # the rows last found to agree with this scan, if any
        if (
            agreed is not None
            and agreed[0] is c
            and agreed[2] is scan
            and row_changes.same_in(agreed[1], rows, (c.id, c.nattch))
        ):
            self._agreed = (c, rows, scan)
            return rows, {}
        mappings = scan.mappings
        disagree = [i for i, row in enumerate(rows)
                    if len(mappings.get(row[c.id], ())) != row[c.nattch]]  # fmt: skip
        if not disagree:
            self._agreed = (c, rows, scan)
            return rows, {}
        self._agreed = None
        again = {
            row[c.id]: row for row in native.parse_columns(procfs.read_sysvipc("shm"), c.bases)
        }
        blind = bool(scan.uninspected or scan.other_namespace or self._hiding)
        settled = list(rows)
        coverage: dict[int, Coverage] = {}
        for i in disagree:
            shmid = rows[i][c.id]
            found = len(mappings.get(shmid, ()))
            fresh = again.get(shmid)
            if fresh is not None and fresh[c.nattch] == found:
                settled[i] = fresh
            elif blind and found < (fresh or rows[i])[c.nattch]:
                coverage[shmid] = Coverage.PARTIAL
            else:
                coverage[shmid] = Coverage.CHANGED
        return settled, coverage

    def _segment_maker(
        self,
        columns: _ShmColumns,
        scan: _MappingScan | None,
        processes: dict[int, Process],
        hidden: dict[int, str],
        coverage: dict[int, Coverage],
        *,
        reuse: bool = False,
    ) -> Callable[[tuple[int, ...]], Segment]:
        """What makes the Segment of a row, reused from the last snapshot when nothing about it
        changed. One closure a snapshot: the columns and lookups are bound once, not per row
        (4000 rows: most of the Python time of a first snapshot). reuse: the scan, processes
        and hidden PIDs are those of the last build, so the very row gives its segment."""
        c = columns
        i_id, i_key, i_uid, i_gid, i_cuid, i_cgid = c.id, c.key, c.uid, c.gid, c.cuid, c.cgid
        i_perms, i_size, i_rss, i_swap, i_nattch = c.perms, c.size, c.rss, c.swap, c.nattch
        i_cpid, i_lpid, i_atime, i_dtime, i_ctime = c.cpid, c.lpid, c.atime, c.dtime, c.ctime
        mappings = scan.mappings if scan is not None else {}
        cache = self._segments
        own = self._own_pid
        process_of = processes.get
        complete = Coverage.COMPLETE

        def make(row: tuple[int, ...]) -> Segment:
            shmid = row[i_id]
            if reuse:
                kept = cache.get(shmid)
                if (
                    kept is not None
                    and kept[0][0] is row
                    and kept[1].coverage is coverage.get(shmid, complete)
                ):
                    return kept[1]
            cpid, ctime = row[i_cpid], row[i_ctime]
            maps = mappings.get(shmid, ())
            creator_alive = liveness(processes, hidden, cpid, ctime)[0]
            owners = tuple([process_of(m[0]) for m in maps])
            state = coverage.get(shmid, complete)
            # Only untracked things in the key (no list, no enum): the cycle collector drops
            # a tuple of such from its lists, so a view's cache is not walked by every
            # full collection. The coverage is checked on the cached segment instead.
            cache_key = (row, maps, owners, creator_alive)
            cached = cache.get(shmid)
            if cached is not None and cached[0] == cache_key and cached[1].coverage is state:
                return cached[1]
            attachments = tuple([
                Attachment(pid, p.command, p.user, writable, start, end, pid == own, p.title)
                if p is not None else
                Attachment(pid, "?", "?", writable, start, end, pid == own, None)
                for (pid, start, end, writable), p in zip(maps, owners, strict=True)
            ])  # fmt: skip
            segment = Segment(
                shmid,
                make_owner(row[i_key], row[i_uid], row[i_gid], row[i_cuid], row[i_cgid],
                           row[i_perms]),
                row[i_size],
                row[i_rss] if i_rss is not None else None,
                row[i_swap] if i_swap is not None else None,
                row[i_nattch], cpid, row[i_lpid], row[i_atime], row[i_dtime], ctime,
                creator_alive, attachments, state,
            )  # fmt: skip
            cache[shmid] = (cache_key, segment)
            return segment

        return make

    # ---- attachments ----

    def _start_scan(
        self, columns: _ShmColumns, rows: list[tuple[int, ...]], maps: MapsRound | None = None
    ) -> Callable[[], _MappingScan]:
        """Begin finding who maps which segment; call the result for the answer.

        Reused while no segment's nattch/lpid/atime/dtime moved (attach, detach,
        fork, exit and exec all move them) and none of those times falls in or
        after the second the last scan began: the times have 1 s resolution, so
        a detach and an attach in that second could otherwise cancel out. A
        first scan reads every process in two threads; later ones start with the
        likely attachers and stop once every attachment (sum of nattch) is found.
        """
        signature, newest, want = self._summary(columns, rows)
        started = time.time() if maps is None else maps.started
        if (
            signature == self._last_signature
            and self._last_scan is not None
            and newest < int(self._last_scan_started)
        ):
            last = self._last_scan
            return lambda: last
        self._last_scan_started = started
        live_ids = {row[columns.id] for row in rows}
        if want == 0:
            if self._shared is not None and self._members is _all_pids:
                self._shared.skip()  # the other namespaces' collectors scan their own
            return lambda: self._remember(signature, _MappingScan({}, 0, {}, 0, {}))
        titles_known = self._processes.known_titles()  # a copy: the scan threads read it
        if maps is not None:  # every process's maps, read already
            return lambda: self._remember(
                signature, self._sort_mappings(maps.sysv_parts(titles_known), live_ids)
            )
        if self._shared is not None and self._last_scan is None and not self._shared_taken:
            shared, self._shared_taken = self._shared, True  # one round's: never a stale one
            leads = self._members is _all_pids  # the caller's namespace: it scans for all
            if leads:
                shared.start(titles_known)  # under way while the tables are read
            members = None if leads else self._members()
            return lambda: self._remember(
                signature, self._sort_mappings(shared.parts(members, titles_known), live_ids)
            )
        if self._last_scan is None:
            pids = self._members()
            halves = [
                self._executor().submit(scan_part, pids[n::2], -1, titles_known) for n in (0, 1)
            ]
            return lambda: self._remember(
                signature, self._sort_mappings([h.result() for h in halves], live_ids)
            )
        likely = self._last_scan.pids
        likely.update(row[columns.lpid] for row in rows)
        return lambda: self._remember(
            signature, self._scan_maps(want, live_ids, likely, titles_known)
        )

    def _summary(
        self, columns: _ShmColumns, rows: list[tuple[int, ...]]
    ) -> tuple[tuple[tuple[int, ...], ...], int, int]:
        """(signature, newest attach/detach time, sum of nattch) of the segment rows; the
        same list as last time means the same table bytes, so the same answer."""
        last = self._summarised
        if last is None or last[1] is not rows:
            c = columns
            # Rows that moved only in other columns (RSS, swap) leave all three as they were.
            if (
                last is None
                or last[0] is not c
                or not row_changes.same_in(
                    last[1], rows, (c.id, c.nattch, c.lpid, c.atime, c.dtime)
                )
            ):
                signature = tuple(c.signature(row) for row in rows)
                newest = max((max(row[c.atime], row[c.dtime]) for row in rows), default=0)
                self._summary_of_rows = (signature, newest, sum(row[c.nattch] for row in rows))
            self._summarised = (c, rows)
        return self._summary_of_rows

    def _remember(self, signature: tuple[tuple[int, ...], ...], scan: _MappingScan) -> _MappingScan:
        self._last_signature, self._last_scan = signature, scan
        return scan

    def _executor(self) -> Workers:
        if self._pool is None:
            # One thread for the semaphore reads, two for the maps scan.
            self._pool = Workers(3, "shmtop-collect")
        return self._pool

    def close(self) -> None:
        """Stop the scan threads (they also end with the interpreter) and close the task
        evidence's files (after the threads: one may be reading them)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._sem_activity is not None:
            self._sem_activity.close()

    def _scan_maps(
        self, want: int, live_ids: set[int], likely: set[int], titles_known: Mapping[int, int]
    ) -> _MappingScan:
        pending = sorted(self._members(), key=lambda pid: pid not in likely)
        parts: list[ScanPart] = []
        found = 0
        while pending and found < want:
            # The C loop stops once it has seen `want - found` mappings of any kind; only
            # those of live segments in our namespace count, so it may have to go on.
            part = scan_part(pending, want - found, titles_known)
            pending = pending[part.maps.scanned :]
            parts.append(part)
            ours = {pid for pid, inode in part.namespaces.items() if inode == self._namespace}
            found += sum(1 for row in part.maps.rows if row.pid in ours and row.shmid in live_ids)
        return self._sort_mappings(parts, live_ids)

    def _sort_mappings(self, parts: Sequence[ScanPart], live_ids: set[int]) -> _MappingScan:
        """Group found mappings by segment, keeping our namespace's live segments only."""
        mappings: dict[int, list[tuple[int, int, int, bool]]] = defaultdict(list)
        uninspected: Counter[str] = Counter()
        other_namespace = 0
        facts: dict[int, ProcessFacts] = {}
        for part in parts:
            for number in part.maps.failures.values():
                if number != errno.ESRCH:  # a process that ended is not a blind spot
                    uninspected[describe_errno(number)] += 1
            ours = {pid for pid, inode in part.namespaces.items() if inode == self._namespace}
            for pid, start, end, writable, shmid in part.maps.rows:
                if pid not in ours:
                    other_namespace += 1
                elif shmid in live_ids:
                    mappings[shmid].append((pid, start, end, bool(writable)))
            facts.update((pid, fact) for pid, fact in part.facts.items() if pid in ours)
        scanned = sum(part.maps.scanned for part in parts)
        frozen = {shmid: tuple(sorted(maps)) for shmid, maps in mappings.items()}  # pid, address
        found = sum(map(len, frozen.values()))
        return _MappingScan(frozen, scanned, dict(uninspected), other_namespace, facts, found)

    # ---- semaphores ----

    def _read_semaphore_values(
        self, evidence: activity.Activity | None = None
    ) -> tuple[list[native.SemRow], list[int], list[int]]:
        """The sets' table and all their values, straight from the kernel (a worker's job)."""
        rows = sem_rows(self._sem_table)
        if self._semaphore_values:
            sets = [(r.id, r.nsems) for r in rows]
            flat, errs = self._sem_values.read(sets, *self._sem_evidence(sets, evidence))
        else:
            flat, errs = [], [0] * len(rows)
        return rows, flat, errs

    def _sem_evidence(
        self, sets: list[tuple[int, int]], given: activity.Activity | None = None
    ) -> tuple[frozenset[int] | None, Mapping[int, int] | None]:
        """The sets whose ncnt/zcnt must be read again (None: all of them), and how many
        tasks sleep in each of the others (given: this round's refresh, made already by
        refresh_activity)."""
        semaphores = sum(n for _, n in sets)
        self._semaphores_seen = semaphores
        if not self._sem_looked:  # a first snapshot (a one-shot command's only one): no
            self._sem_looked = True  # look at the tasks, which would cost it 10-40 ms
            return None, None
        tasks = self._sem_activity.tasks if self._sem_activity is not None else 0
        if (
            self._sem_activity is None
            or semaphores < SKIP_MIN_SEMAPHORES
            or 2 * semaphores < SCHEDSTAT_READ_SEMCTLS * tasks
        ):
            return None, None  # reading every count costs less than looking at every task
        evidence = given
        if evidence is None:
            evidence = self._sem_activity.refresh_if_worth(sem_task_reads(semaphores))
            if evidence is not None:
                evidence = self._refreshed(evidence)
        if evidence is None or not evidence.complete:
            return None, None
        return evidence.semids, evidence.sleepers

    def _semaphore_sets(
        self, read: tuple[list[native.SemRow], list[int], list[int]]
    ) -> tuple[SemaphoreSet, ...]:
        rows, flat, errs = read
        if read == self._sem_read:
            return self._sem_sets
        # Every semaphore of every set in one pass at C speed: zip cuts the flat (value, ncnt,
        # zcnt, pid) list into rows and starmap makes each a Semaphore, both in C (no Python
        # call a semaphore: 16,000 at 1000 sets of 16). Each set then takes its slice.
        numbers = chain.from_iterable(map(range, [row.nsems for row in rows]))
        columns = (flat[0::4], flat[1::4], flat[2::4], flat[3::4])
        every = list(starmap(Semaphore, zip(numbers, *columns, strict=False)))
        built: dict[int, tuple[object, SemaphoreSet]] = {}
        cache = self._sem_cache
        end = 0
        for row, number in zip(rows, errs, strict=True):
            start, end = end, end + row.nsems
            if number in (errno.EINVAL, errno.EIDRM):
                continue  # removed between the table and the values
            semaphores = tuple(every[start:end]) if self._semaphore_values and not number else None
            cached = cache.get(row.id)
            if cached is not None and cached[0] == (row, number, semaphores):
                built[row.id] = cached
            else:
                made = self._semaphore_set(row, number, semaphores)
                built[row.id] = ((row, number, semaphores), made)
        self._sem_cache = built
        self._sem_read, self._sem_sets = read, tuple(entry[1] for entry in built.values())
        return self._sem_sets

    def _semaphore_set(
        self, row: native.SemRow, number: int, semaphores: tuple[Semaphore, ...] | None
    ) -> SemaphoreSet:
        semid, key, uid, gid, cuid, cgid, mode, nsems, otime, ctime = row
        unreadable: str | None = None
        if number:
            unreadable = describe_errno(number)
        elif semaphores is None:
            unreadable = "not read"
        return SemaphoreSet(
            semid, make_owner(key, uid, gid, cuid, cgid, mode), nsems, otime, ctime, semaphores,
            unreadable,
        )  # fmt: skip

    # ---- queues ----

    def _read_queues(self) -> tuple[MessageQueue, ...]:
        rows = msg_rows(self._msg_table)
        if rows is self._queue_rows or rows == self._queue_rows:
            return self._queue_objects
        built: dict[native.MsgRow, MessageQueue] = {}
        for row in rows:
            built[row] = self._queues.get(row) or _queue(row)
        self._queues, self._queue_rows = built, rows
        self._queue_objects = tuple(built.values())
        return self._queue_objects


def _queue(row: native.MsgRow) -> MessageQueue:
    (msqid, key, uid, gid, cuid, cgid, mode, cbytes, qnum, qbytes,
     lspid, lrpid, stime, rtime, ctime, _) = row  # fmt: skip
    return MessageQueue(
        id=msqid, owner=make_owner(key, uid, gid, cuid, cgid, mode), cbytes=cbytes,
        qnum=qnum, qbytes=qbytes if qbytes >= 0 else None, lspid=lspid, lrpid=lrpid,
        stime=stime, rtime=rtime, ctime=ctime,
    )  # fmt: skip


def _blind_spots(scan: _MappingScan | None, nattch_total: int, hiding: str | None) -> BlindSpots:
    if scan is None:
        return BlindSpots(attachments_missing=nattch_total, processes_hidden=hiding)
    found = scan.found
    return BlindSpots(
        processes_scanned=scan.scanned,
        uninspected=MappingProxyType(dict(scan.uninspected)),
        attachments_missing=max(nattch_total - found, 0),
        other_namespace_mappings=scan.other_namespace,
        processes_hidden=hiding,
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off while a snapshot's acyclic objects are made (see snapshot())."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def sem_task_reads(semaphores: int) -> int:
    """How many tasks that ran are worth a syscall file each rather than reading every
    count: one costs about what SYSCALL_READ_SEMCTLS semctl calls do (bench_steady.py),
    and a semaphore's counts are two."""
    return max(64, 2 * semaphores // SYSCALL_READ_SEMCTLS)


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir(PROC) if name.isdigit()]


# ---- the sets' and queues' tables, from /proc/sysvipc on kernels without *_STAT_ANY (< 4.17) ----


def sem_rows(table: native.TableReader[native.SemRow] | None = None) -> list[native.SemRow]:
    """Every semaphore set: native.sem_table (or table's read), or the same rows from
    /proc/sysvipc/sem."""
    return (table.read() if table is not None else native.sem_table()) or _sem_rows_from_proc()


def msg_rows(table: native.TableReader[native.MsgRow] | None = None) -> list[native.MsgRow]:
    """Every queue: native.msg_table (or table's read), or the same rows (qbytes -1) from
    /proc/sysvipc/msg."""
    return (table.read() if table is not None else native.msg_table()) or _msg_rows_from_proc()


def _sem_rows_from_proc() -> list[native.SemRow]:
    rows = procfs.parse_sysvipc(procfs.read_sysvipc("sem").decode("ascii"))
    return [
        native.SemRow(r["semid"], r["key"], r["uid"], r["gid"], r["cuid"], r["cgid"], r["perms"],
         r["nsems"], r["otime"], r["ctime"])
        for r in rows
    ]  # fmt: skip


def _msg_rows_from_proc() -> list[native.MsgRow]:
    rows = procfs.parse_sysvipc(procfs.read_sysvipc("msg").decode("ascii"))
    return [
        native.MsgRow(r["msqid"], r["key"], r["uid"], r["gid"], r["cuid"], r["cgid"], r["perms"],
         r["cbytes"], r["qnum"], -1, r["lspid"], r["lrpid"], r["stime"], r["rtime"],
         r["ctime"], 0)
        for r in rows
    ]  # fmt: skip


def read_limits() -> Limits:
    """Limits and usage of all three kinds, from IPC_INFO and *_INFO."""
    shm_limits, shm_usage = native.shm_limits()
    sem_limits, sem_usage = native.sem_limits()
    msg_limits, msg_usage = native.msg_limits()
    return Limits(
        page_size=os.sysconf("SC_PAGE_SIZE"),
        shmmax=shm_limits["shmmax"], shmall=shm_limits["shmall"], shmmni=shm_limits["shmmni"],
        shm_segments=shm_usage["used_ids"], shm_pages=shm_usage["shm_tot"],
        shm_rss_pages=shm_usage["shm_rss"], shm_swap_pages=shm_usage["shm_swp"],
        semmni=sem_limits["semmni"], semmns=sem_limits["semmns"], semmsl=sem_limits["semmsl"],
        semopm=sem_limits["semopm"], semvmx=sem_limits["semvmx"],
        sem_sets=sem_usage["sets"], sem_semaphores=sem_usage["semaphores"],
        msgmni=msg_limits["msgmni"], msgmax=msg_limits["msgmax"], msgmnb=msg_limits["msgmnb"],
        msg_queues=msg_usage["queues"], msg_messages=msg_usage["messages"],
        msg_bytes=msg_usage["bytes"],
    )  # fmt: skip
