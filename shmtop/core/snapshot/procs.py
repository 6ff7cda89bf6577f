"""Facts about the PIDs that matter (name, title, user, start time), cached by PID and start time.

The bulk read is done in C (one /proc/PID/stat read and one fstat a process):
for the 1000 attached processes of the benchmark it costs about 6 ms where
psutil's Process(pid).name()/uids() cost about 95 ms. The title (one
/proc/PID/cmdline read, which makes the kernel read the process's memory)
costs about as much again, so it is read only for a process not seen before.
The boot time and a whole command line are read from /proc too: psutil costs a
one-shot command ~12 ms to import.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterable, Mapping
from functools import cache

import msgspec

from shmtop.core.binding import native
from shmtop.core.model import Process
from shmtop.core.snapshot.accounts import user_name

ProcessFacts = native.ProcessFacts

# A process sets its title (PostgreSQL, nginx) or its name (prctl) just after it
# starts: until it has run this long, what was read may be its parent's, so it is
# read again at each lookup.
SETTLE_SECONDS = 2.0


PROC = "/proc"


def boot_time(stat: bytes) -> float:
    """The boot time (epoch seconds) in the text of /proc/stat: its `btime` line."""
    for line in stat.splitlines():
        if line.startswith(b"btime "):
            return float(line.split()[1])
    raise OSError(errno.EPROTO, "/proc/stat has no btime line")


@cache
def _clock() -> tuple[float, int]:
    """(boot time in epoch seconds, clock ticks a second), to turn start ticks into a time."""
    with open(f"{PROC}/stat", "rb") as file:
        return boot_time(file.read()), os.sysconf("SC_CLK_TCK")


def start_time(ticks: int) -> float:
    """Epoch seconds of a /proc/PID/stat start time (as psutil's create_time and ps compute it:
    ticks since boot over the tick rate, plus /proc/stat's btime)."""
    boot, hertz = _clock()
    return ticks / hertz + boot


def title_text(raw: bytes) -> str | None:
    """A process title as read from /proc/PID/cmdline: the NULs between arguments (and the
    padding after a title written over them) as spaces, trailing blanks trimmed; None when
    nothing is left (kernel threads and zombies have an empty cmdline). Untrusted text."""
    text = raw.replace(b"\0", b" ").rstrip().decode("utf-8", "replace")
    return text or None


class _Entry(msgspec.Struct, frozen=True, gc=False):
    process: Process
    ticks: int  # start time as read, in clock ticks: with the PID, names the process
    settled: bool  # read once the process had run SETTLE_SECONDS: not read again


class ProcessDirectory:
    """Facts about processes, cached by PID and start time.

    A PID whose start time changed is a different process (PID reuse), so its
    entry is made again (and its title read again); a PID that is gone is dropped.
    """

    def __init__(self) -> None:
        self._cache: dict[int, _Entry] = {}
        # The PIDs whose entry is not settled: none, once a steady view's processes have run
        # a while, so that unsettled() needs no walk of a thousand attachers a snapshot.
        self._unsettled: set[int] = set()

    def known_titles(self, pids: Iterable[int] | None = None) -> dict[int, int]:
        """PID -> start ticks of the cached processes (of pids, default all) whose title need
        not be read again: what native.process_facts takes as `known` (a copy, for threads)."""
        if pids is None:
            return {pid: e.ticks for pid, e in self._cache.items() if e.settled}
        entries = ((pid, self._cache.get(pid)) for pid in pids)
        return {pid: e.ticks for pid, e in entries if e is not None and e.settled}

    def unsettled(self, pids: Iterable[int]) -> list[int]:
        """The pids whose cached entry was read too early to be trusted (read them again)."""
        if not self._unsettled:
            return []
        return [pid for pid in pids if (e := self._cache.get(pid)) is not None and not e.settled]

    def lookup(
        self,
        pids: Iterable[int],
        known: Mapping[int, ProcessFacts] | None = None,
        unreadable: dict[int, int] | None = None,
    ) -> dict[int, Process]:
        """Facts for each live PID among pids (0 and gone PIDs are left out); `known` holds
        raw facts already read (by the maps scan), the rest are read now. Given `unreadable`,
        a PID whose facts cannot be read goes there (pid -> errno) instead of into the answer
        as "?": its start time is unknown, so it cannot be told from a reuse."""
        known = known or {}
        wanted = sorted({pid for pid in pids if pid > 0})
        facts = {pid: known[pid] for pid in wanted if pid in known}
        facts.update(self._read([pid for pid in wanted if pid not in known]))
        # Facts read with an older idea of the cache may lack a title this cache lacks too.
        missing = [
            pid for pid, fact in facts.items() if fact.title is None and not self._has(pid, fact)
        ]
        facts.update(self._read(missing, titles_known=False))
        now = time.time()
        found: dict[int, Process] = {}
        for pid in wanted:
            number, comm, ticks, uid, raw_title = facts[pid]
            if number == errno.ESRCH:
                continue
            if number and unreadable is not None:
                unreadable[pid] = number
                continue
            cached = self._cache.get(pid)
            if cached is not None and cached.ticks == ticks and raw_title is None:
                found[pid] = cached.process
                continue
            started = start_time(ticks)
            if number:
                process = Process(pid=pid, command="?", user="?", started=started)
            else:
                command = comm.decode("utf-8", "replace")
                title = title_text(raw_title) if raw_title is not None else None
                process = Process(pid=pid, command=command, user=user_name(uid), started=started,
                                  title=title)  # fmt: skip
            if cached is not None and cached.process == process:
                process = cached.process  # the same facts: keep the object (reuse downstream)
            settled = number != 0 or now - started >= SETTLE_SECONDS
            self._cache[pid] = _Entry(process, ticks, settled)
            if settled:
                self._unsettled.discard(pid)
            else:
                self._unsettled.add(pid)
            found[pid] = process
        return found

    def _has(self, pid: int, fact: ProcessFacts) -> bool:
        """Whether the cache holds this very process (PID and start ticks)."""
        cached = self._cache.get(pid)
        return fact.errno != 0 or (cached is not None and cached.ticks == fact.start)

    def _read(self, pids: list[int], *, titles_known: bool = True) -> dict[int, ProcessFacts]:
        if not pids:
            return {}
        known = self.known_titles(pids) if titles_known else None
        return dict(zip(pids, native.process_facts(pids, titles=True, known=known), strict=True))

    def prune(self, keep: Iterable[int]) -> None:
        """Forget every PID but these (the ones that still matter), so the cache stays small."""
        kept = keep if isinstance(keep, (set, frozenset, dict)) else set(keep)
        for pid in self._cache.keys() - kept:  # in C: most snapshots drop none
            del self._cache[pid]
            self._unsettled.discard(pid)


def command_line(pid: int) -> str | None:
    """The whole command line of a process, its arguments joined by spaces (untrusted text);
    None if gone, unreadable or empty (kernel threads, zombies)."""
    try:
        with open(f"{PROC}/{pid}/cmdline", "rb") as file:
            raw = file.read()
    except OSError:  # gone (ENOENT, ESRCH), or not ours to read (EACCES under hidepid)
        return None
    return title_text(raw)


def alive_since(process: Process | None, created: int) -> bool:
    """Whether process is the one that created an object at epoch second `created`.

    A process started after the object was made is a PID reuse, not its creator.
    """
    return process is not None and process.started <= created + 1
