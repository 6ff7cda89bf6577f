"""Facts about the PIDs that matter (name, user, start time), cached by PID and start time.

The bulk read is done in C (one /proc/PID/stat read and one fstat a process):
for the 1000 attached processes of the benchmark it costs about 6 ms where
psutil's Process(pid).name()/uids() cost about 95 ms. psutil still supplies
what is asked for one process at a time (boot time, command lines).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Mapping
from functools import cache

import psutil

from shmtop.ipc import native
from shmtop.ipc.accounts import user_name
from shmtop.ipc.model import Process

ProcessFacts = tuple[int, bytes, int, int]  # errno, comm, start ticks, euid (native.process_facts)


@cache
def _clock() -> tuple[float, int]:
    """(boot time in epoch seconds, clock ticks a second), to turn start ticks into a time."""
    return psutil.boot_time(), os.sysconf("SC_CLK_TCK")


def start_time(ticks: int) -> float:
    """Epoch seconds of a /proc/PID/stat start time (the way psutil computes create_time)."""
    boot, hertz = _clock()
    return ticks / hertz + boot


class ProcessDirectory:
    """Facts about processes, cached by PID and start time.

    A PID whose start time changed is a different process (PID reuse), so its
    entry is made again; a PID that is gone is dropped.
    """

    def __init__(self) -> None:
        self._cache: dict[int, Process] = {}

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
        unread = [pid for pid in wanted if pid not in known]
        read = dict(zip(unread, native.process_facts(unread), strict=True))
        found: dict[int, Process] = {}
        for pid in wanted:
            number, comm, ticks, uid = known[pid] if pid in known else read[pid]
            if number == errno.ESRCH:
                continue
            if number and unreadable is not None:
                unreadable[pid] = number
                continue
            started = start_time(ticks)
            cached = self._cache.get(pid)
            if cached is not None and cached.started == started:
                found[pid] = cached
            elif number:
                found[pid] = Process(pid=pid, command="?", user="?", started=started)
            else:
                command = comm.decode("utf-8", "replace")
                found[pid] = Process(pid=pid, command=command, user=user_name(uid), started=started)
        self._cache.update(found)
        return found

    def prune(self, keep: Iterable[int]) -> None:
        """Forget every PID but these (the ones that still matter), so the cache stays small."""
        kept = set(keep)
        self._cache = {pid: p for pid, p in self._cache.items() if pid in kept}


def command_line(pid: int) -> str | None:
    """The full command line of a process (untrusted text), or None if gone or unreadable."""
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def alive_since(process: Process | None, created: int) -> bool:
    """Whether process is the one that created an object at epoch second `created`.

    A process started after the object was made is a PID reuse, not its creator.
    """
    return process is not None and process.started <= created + 1
