"""Ground truth of POSIX shared memory, read straight from /proc and /dev/shm (stdlib only).

Run as ``nsenter -t PID --ipc --pid --mount -- python -I truth_posix.py``: it prints one JSON
object with every file in /dev/shm (name, inode, size) and, for every other process of the
namespace, its shared mappings of files on /dev/shm's device (from /proc/PID/maps: inode,
path, start, end, access), joined by the test on the inode, never the path. Nothing here
shares code with shmtop: it is what shmtop is checked against.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

SHM_DIR = "/dev/shm"


def _maps(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/maps", "rb") as file:
            return file.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def shm_mappings(maps: bytes, device: tuple[int, int]) -> list[dict[str, Any]]:
    """Every shared mapping of a file on the /dev/shm device: inode, path, start, end, access."""
    found = []
    for line in maps.decode("utf-8", "surrogateescape").splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or fields[1][3] != "s":
            continue
        major, minor = (int(part, 16) for part in fields[3].split(":"))
        if (major, minor) != device:
            continue
        start, end = fields[0].split("-")
        found.append({
            "inode": int(fields[4]),
            "path": fields[5],
            "start": int(start, 16),
            "end": int(end, 16),
            "access": "rw" if fields[1][1] == "w" else "ro",
        })  # fmt: skip
    return found


def main() -> None:
    info = os.stat(SHM_DIR)
    device = (os.major(info.st_dev), os.minor(info.st_dev))
    files = {}
    for entry in os.scandir(SHM_DIR):
        stat = entry.stat(follow_symlinks=False)
        files[entry.name] = {"inode": stat.st_ino, "size": stat.st_size}
    me = os.getpid()
    processes = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            maps = _maps(int(name))
            if maps is not None:
                processes[name] = shm_mappings(maps, device)
    json.dump({"files": files, "processes": processes}, sys.stdout)


if __name__ == "__main__":
    main()
