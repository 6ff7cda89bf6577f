"""Which C library a process runs: glibc's words (a sem_t's value and nwaiters, a mutex's
owner) are read only where the process that uses them has glibc mapped. shmtop's own C
library says nothing of a container's (musl's sem_t is 32 bytes too, its words others)."""

from __future__ import annotations

import os

_ROOM = 4096  # processes remembered: pids come and go, the cache never grows past this


def maps_name_glibc(pid: int) -> bool:
    """Whether the process has glibc mapped (libc.so.6); False also when its maps cannot be
    read (then its words are not read as glibc's either)."""
    try:
        with open(f"/proc/{pid}/maps", "rb") as file:
            return any(line.rstrip().endswith(b"/libc.so.6") for line in file)
    except OSError:
        return False


class LibcCache:
    """maps_name_glibc of each process, read once per program it runs: keyed by the pid and
    the device and inode of its /proc/PID/exe (an exec of another program reads it again)."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int, int], bool] = {}

    def glibc(self, pid: int) -> bool:
        try:
            exe = os.stat(f"/proc/{pid}/exe")
        except OSError:
            return maps_name_glibc(pid)
        key = (pid, exe.st_dev, exe.st_ino)
        if key not in self._known:
            if len(self._known) > _ROOM:
                self._known.clear()
            self._known[key] = maps_name_glibc(pid)
        return self._known[key]
