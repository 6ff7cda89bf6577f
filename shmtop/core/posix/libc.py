"""Which C library a process runs: glibc's words (a sem_t's value and nwaiters, a mutex's
owner) are read only where the process that uses them has glibc mapped. shmtop's own C
library says nothing of a container's (musl's sem_t is 32 bytes too, its words others)."""

from __future__ import annotations

import os

_ROOM = 4096  # programs remembered: the cache never grows past this


def maps_name_glibc(pid: int) -> bool:
    """Whether the process has glibc mapped (libc.so.6); False also when its maps cannot be
    read (then its words are not read as glibc's either)."""
    try:
        with open(f"/proc/{pid}/maps", "rb") as file:
            return any(line.rstrip().endswith(b"/libc.so.6") for line in file)
    except OSError:
        return False


class LibcCache:
    """maps_name_glibc of each program, read once from the first process that runs it: keyed
    by the device and inode of /proc/PID/exe, as the C library a dynamic program loads is
    named in its file (1000 children of one program: one maps read and 1000 stats, where a
    read of each one's maps cost a first snapshot ~100 ms); a process whose exe cannot be
    stat'ed is asked on its own."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int], bool] = {}

    def glibc(self, pid: int) -> bool:
        try:
            exe = os.stat(f"/proc/{pid}/exe")
        except OSError:
            return maps_name_glibc(pid)
        key = (exe.st_dev, exe.st_ino)
        known = self._known.get(key)
        if known is None:
            if len(self._known) > _ROOM:
                self._known.clear()
            known = self._known[key] = maps_name_glibc(pid)
        return known
