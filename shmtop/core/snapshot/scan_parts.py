"""A maps scan in parts, and one scan shared by the collectors of several IPC namespaces.

/proc/PID/maps does not depend on the reader's IPC namespace, and a scan already tells each
mapping PID's namespace: one scan of every process serves every namespace's collector, which
keeps the rows of its own members (issue 12: -A costs one scan, not one a namespace).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

import msgspec

from shmtop.core.binding import native
from shmtop.core.snapshot.procs import ProcessFacts
from shmtop.core.snapshot.workers import Task, Workers


class ScanPart(msgspec.Struct, frozen=True, gc=False):
    """One thread's share of a maps scan, with what the mapping PIDs need next."""

    maps: native.MapsScan
    namespaces: dict[int, int | None]  # pid -> IPC namespace inode
    facts: dict[int, ProcessFacts]  # pid -> (errno, comm, start ticks, euid, title)


def scan_part(
    pids: Sequence[int], want: int = -1, titles_known: Mapping[int, int] | None = None
) -> ScanPart:
    """Scan maps, then stat the namespace and read the facts of the PIDs that map a segment
    (their titles too, but for those titles_known names: pid -> start ticks).

    Runs in a worker thread: the C calls release the GIL, so the two
    halves of a first scan and the main thread's work share the cores.
    """
    return part_of(native.scan_maps(pids, want), titles_known)


def part_of(maps: native.MapsScan, titles_known: Mapping[int, int] | None = None) -> ScanPart:
    """A scan's rows with the namespace and facts of the PIDs that map a segment."""
    mapping = sorted({row.pid for row in maps.rows})
    read = native.process_facts(mapping, titles=True, known=titles_known)
    facts = dict(zip(mapping, read, strict=True))
    return ScanPart(maps, dict(zip(mapping, native.ipc_namespaces(mapping), strict=True)), facts)


class SharedPart(msgspec.Struct, frozen=True, gc=False):
    """What one worker read of its share of the processes for a whole snapshot: their maps
    (both kinds), the System V part when it was known to be needed, their open files."""

    maps: native.SharedMapsScan
    part: ScanPart | None  # None: the System V facts were not read (part_of reads them)
    fds: list[native.FdRow]
    fd_failures: dict[int, int]
    fd_devices: frozenset[int] = frozenset()  # the devices the fds were read on


class MapsRound:
    """One read of every process's maps made for System V and POSIX (core/posix/full.py),
    in parts that worker threads read. A Collector given one takes its scan from it whenever
    it must scan (first, or after a change) instead of reading the maps again; started is
    when the reads began (the reuse rule's second counts from there)."""

    def __init__(self, started: float, parts: Sequence[Task[SharedPart]]) -> None:
        self.started = started
        self.parts = parts
        self._made: list[ScanPart] = []

    def sysv_parts(self, titles_known: Mapping[int, int] | None = None) -> list[ScanPart]:
        done = [task.result() for task in self.parts]
        self._made = [p.part if p.part is not None else part_of(p.maps.sysv, titles_known)
                      for p in done]  # fmt: skip
        return self._made

    def facts(self) -> dict[int, ProcessFacts]:
        """The facts of the System V mappers read in this round (none if neither the workers
        nor the Collector read them): the POSIX side need not read them again."""
        made = self._made or [p.part for p in (t.result() for t in self.parts) if p.part]
        return {pid: fact for part in made for pid, fact in part.facts.items()}


class SharedScan:
    """The first maps scan of the caller's namespace, shared with the collectors of the others.

    The caller's collector decides: it starts a scan of every process (which covers every
    namespace's processes too), or skips it (no attachment in its namespace). The others wait
    for that decision and take their rows from that scan, or scan their own members when it
    was skipped. The caller's collector must decide (start or skip) once, or they wait on.
    """

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self._pids = pids
        self._pool = Workers(2, "shmtop-shared-scan")
        self._lock = threading.Lock()
        self._decided = threading.Event()
        self._halves: list[Task[ScanPart]] | None = None

    def start(self, titles_known: Mapping[int, int] | None = None) -> None:
        """The caller's collector: scan every process, in two threads (once)."""
        with self._lock:
            if not self._decided.is_set():
                pids = self._pids()
                self._halves = [
                    self._pool.submit(scan_part, pids[n::2], -1, titles_known) for n in (0, 1)
                ]
                self._decided.set()

    def skip(self) -> None:
        """The caller's collector needs no scan (or failed): the others scan their own."""
        with self._lock:
            self._decided.set()

    def parts(
        self, members: Sequence[int] | None = None, titles_known: Mapping[int, int] | None = None
    ) -> list[ScanPart]:
        """The shared scan's parts; members: a collector of another namespace, which scans
        these itself if the caller's collector skipped the shared scan."""
        self._decided.wait()
        if self._halves is None:
            return [scan_part(members or (), -1, titles_known)]
        return [half.result() for half in self._halves]

    def close(self) -> None:
        self.skip()  # nobody may wait for a decision once it is closed
        self._pool.shutdown()
