"""Ground truth read straight from /proc by the tests, inside a server's namespaces (stdlib only).

Run as ``nsenter -t PID --ipc --pid --mount -- python -I truth.py``: it prints one JSON object
with, for every other process of the namespace, its command line (hex of the raw bytes), its
user, its System V mappings (the `/SYSV` lines of /proc/PID/maps: the inode is the shmid) and
each thread's /proc/PID/task/TID/syscall line; and the namespace's /proc/sysvipc tables.
Nothing here shares code with shmtop: it is what shmtop is checked against.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def sysv_mappings(maps: bytes) -> list[dict[str, Any]]:
    """Every mapping of a System V segment: shmid (the inode), start, end, access."""
    found = []
    for line in maps.decode("ascii", "replace").splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or not fields[5].startswith("/SYSV"):
            continue
        start, end = fields[0].split("-")
        found.append({
            "shmid": int(fields[4]),
            "start": int(start, 16),
            "end": int(end, 16),
            "access": "rw" if fields[1][1] == "w" else "ro",
        })  # fmt: skip
    return found


def process(pid: int) -> dict[str, Any] | None:
    base = f"/proc/{pid}"
    cmdline, maps, status = _read(f"{base}/cmdline"), _read(f"{base}/maps"), _read(f"{base}/status")
    if cmdline is None or maps is None or status is None:
        return None  # exited while read
    uid = next(int(line.split()[2]) for line in status.splitlines() if line.startswith(b"Uid:"))
    tasks: dict[str, str] = {}
    try:
        tids = os.listdir(f"{base}/task")
    except FileNotFoundError:
        return None
    for tid in tids:
        line = _read(f"{base}/task/{tid}/syscall")
        if line is not None:
            tasks[tid] = line.decode("ascii").strip()
    return {
        "cmdline_hex": cmdline.hex(),
        "euid": uid,
        "mappings": sysv_mappings(maps),
        "syscalls": tasks,
    }


def sysvipc(kind: str) -> list[dict[str, str]]:
    """The rows of /proc/sysvipc/KIND as text (perms is octal there, keys signed)."""
    text = (_read(f"/proc/sysvipc/{kind}") or b"").decode("ascii").splitlines()
    header = text[0].split()
    return [dict(zip(header, line.split(), strict=True)) for line in text[1:]]


def main() -> None:
    me = os.getpid()
    processes = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            facts = process(int(name))
            if facts is not None:
                processes[name] = facts
    tables = {kind: sysvipc(kind) for kind in ("shm", "sem", "msg")}
    json.dump({"processes": processes, **tables}, sys.stdout)


if __name__ == "__main__":
    main()
