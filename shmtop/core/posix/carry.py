"""A steady full snapshot reads again only the processes that ran (issue 12's steady figure).

A process none of whose threads ran since the last scan made no mmap, munmap, open or close:
its maps and fds are what they were, so its rows are carried from the last scan and only
the processes that ran, appeared or could not be vouched for are read (core/snapshot/
activity.py says how that is known, from each thread's schedstat). What another process
can change in them without the owner running is taken care of elsewhere: an unlink by
someone else shows in the shm directory's listing (core/posix/collect.py marks a carried
object that left it unlinked), and a vfork child, which runs in its parent's memory until
it execs, is new, so its parent is read again with it (full.py adds the parents of new
processes). Two processes that share a memory or an fd table without being threads of one
(CLONE_VM or CLONE_FILES alone: rare outside vfork), or a seccomp supervisor installing an
fd (ADDFD) in a process it holds stopped, can change what one that did not run shows: the
one that ran is read, so the object still shows in use (by that pid), and full.py reads
every process again at least every READ_ALL_EVERY seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from shmtop.core.binding import native
from shmtop.core.snapshot.scan_parts import SharedPart


class _Rows(NamedTuple):
    """One process's rows in one scan."""

    sysv: list[native.MapRow]
    files: list[native.FileMapRow]
    fds: list[native.FdRow]
    uid: int | None
    failure: int | None  # maps errno
    fd_failure: int | None


_NONE = _Rows([], [], [], None, None, None)


def _grouped(part: SharedPart, pids: Sequence[int]) -> dict[int, _Rows]:
    """part's rows by pid (every pid in pids has an entry)."""
    sysv: dict[int, list[native.MapRow]] = {}
    files: dict[int, list[native.FileMapRow]] = {}
    fds: dict[int, list[native.FdRow]] = {}
    for row in part.maps.sysv.rows:
        sysv.setdefault(row.pid, []).append(row)
    for frow in part.maps.files.rows:
        files.setdefault(frow.pid, []).append(frow)
    for fd in part.fds:
        fds.setdefault(fd.pid, []).append(fd)
    failures, uids, fd_failures = part.maps.sysv.failures, part.maps.uids, part.fd_failures
    return {
        pid: _Rows(sysv.get(pid, []), files.get(pid, []), fds.get(pid, []), uids.get(pid),
                   failures.get(pid), fd_failures.get(pid))
        for pid in pids
    }  # fmt: skip


class CarriedHalf:
    """One worker's last part, by pid, so that a steady scan can take the processes that
    did not run from it and read the rest."""

    def __init__(self, part: SharedPart, pids: Sequence[int]) -> None:
        self.part = part
        self.pids = list(pids)
        self._by_pid: dict[int, _Rows] | None = None  # grouped at the first steady read

    @property
    def _rows(self) -> dict[int, _Rows]:
        if self._by_pid is None:
            self._by_pid = _grouped(self.part, self.pids)
        return self._by_pid

    def merged(
        self, pids: Sequence[int], read: SharedPart, read_pids: Sequence[int]
    ) -> CarriedHalf:
        """This half for pids now: read's rows for read_pids, the others' carried. The same
        CarriedHalf (the same part, so the POSIX join of last time) when nothing differs."""
        fresh = _grouped(read, read_pids)
        if list(pids) == self.pids and all(fresh[pid] == self._rows.get(pid) for pid in fresh):
            return self
        rows = {pid: fresh.get(pid) or self._rows.get(pid, _NONE) for pid in pids}
        reader = read.maps.files.reader
        failures = {pid: r.failure for pid, r in rows.items() if r.failure is not None}
        maps = native.SharedMapsScan(
            native.MapsScan([row for r in rows.values() for row in r.sysv], failures, len(rows),
                            read.maps.sysv.reader),
            native.FileMapsScan([row for r in rows.values() for row in r.files], failures,
                                reader),
            {pid: r.uid for pid, r in rows.items() if r.uid is not None},
            b"",  # not the bytes of one read: the next full read makes its rows anew
        )  # fmt: skip
        part = SharedPart(
            maps, None, [fd for r in rows.values() for fd in r.fds],
            {pid: r.fd_failure for pid, r in rows.items() if r.fd_failure is not None},
            self.part.fd_devices | read.fd_devices,  # read's is a superset (_SteadyRead)
        )  # fmt: skip
        merged = CarriedHalf(part, pids)
        merged._by_pid = rows
        return merged
