"""The one psutil user: names, users and start times of the PIDs that matter, cached."""

from __future__ import annotations

from collections.abc import Iterable

import psutil

from shmtop.ipc.accounts import user_name
from shmtop.ipc.model import Process


class ProcessDirectory:
    """Facts about processes, cached by PID and start time.

    A PID whose start time changed is a different process (PID reuse), so its
    entry is fetched again; a PID that is gone is dropped.
    """

    def __init__(self) -> None:
        self._cache: dict[int, Process] = {}

    def lookup(self, pids: Iterable[int]) -> dict[int, Process]:
        """Facts for each live PID among pids (0 and gone PIDs are left out)."""
        found: dict[int, Process] = {}
        for pid in set(pids):
            if pid > 0 and (process := self._lookup_one(pid)) is not None:
                found[pid] = process
        # Forget the PIDs nobody asked about this time, so the cache stays small.
        self._cache = dict(found)
        return found

    def _lookup_one(self, pid: int) -> Process | None:
        try:
            handle = psutil.Process(pid)  # reads the start time, which names the process
            started = handle.create_time()
            cached = self._cache.get(pid)
            if cached is not None and cached.started == started:
                return cached
            with handle.oneshot():
                command = handle.name()
                user = user_name(handle.uids().real)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return None
        except psutil.AccessDenied:
            return Process(pid=pid, command="?", user="?", started=0.0)
        return Process(pid=pid, command=command, user=user, started=started)


def alive_since(process: Process | None, created: int) -> bool:
    """Whether process is the one that created an object at epoch second `created`.

    A process started after the object was made is a PID reuse, not its creator.
    """
    return process is not None and process.started <= created + 1
