"""A child process for the POSIX shm tests: maps (ro or rw) and/or holds a /dev/shm file.

    python pshm_child.py PATH [create|map-ro|map-rw|hold|memfd|shmat-ro:ID|shmat-rw:ID|nodump]...

Maps go through libc mmap (Python's mmap keeps a dup of the fd, which would make every
mapper a holder too); shmat-ro/rw:ID attach System V segment ID (libc shmat); nodump makes
the process not dumpable (PR_SET_DUMPABLE 0: procfs gives its files to root). Prints one
JSON line {"pid", "maps": [[start, end], ...], "sysv": [[address, ID], ...]} once done,
then does each line of its stdin as more actions on PATH (and "unmap" of its last map,
"close" of its last held fd), answering a line {"maps", "held"} for each, until its stdin
closes; dies with its parent.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

PROT_READ, PROT_WRITE, MAP_SHARED = 1, 2, 1
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
SHM_RDONLY = 0o10000


def main(path: str, actions: list[str]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]  # fmt: skip
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.prctl(PR_SET_PDEATHSIG, 9)
    maps: list[list[int]] = []
    sysv: list[list[int]] = []
    kept: list[int] = []
    _act(libc, path, actions, maps, sysv, kept)
    print(json.dumps({"pid": os.getpid(), "maps": maps, "sysv": sysv}), flush=True)
    for line in sys.stdin:
        for word in line.split():
            if word == "unmap":
                start, end = maps.pop()
                libc.munmap(start, end - start)
            elif word == "close":
                os.close(kept.pop())
            else:
                _act(libc, path, [word], maps, sysv, kept)
        print(json.dumps({"maps": maps, "held": kept}), flush=True)


def _act(
    libc: ctypes.CDLL, path: str, actions: list[str], maps: list[list[int]],
    sysv: list[list[int]], kept: list[int],
) -> None:  # fmt: skip
    for action in actions:
        if action == "nodump":
            libc.prctl(PR_SET_DUMPABLE, 0)
            continue
        if action.startswith("shmat-"):
            kind, _, shmid = action.partition(":")
            address = libc.shmat(int(shmid), None, SHM_RDONLY if kind == "shmat-ro" else 0)
            if address in (None, ctypes.c_void_p(-1).value):
                raise OSError(ctypes.get_errno(), "shmat")
            sysv.append([address, int(shmid)])
            continue
        if action == "create":  # a file of one page (in a mount namespace of the child's own)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            os.pwrite(fd, b"foreign", 0)
            os.ftruncate(fd, 4096)
            os.close(fd)
            continue
        if action == "memfd":
            fd = os.memfd_create("shmtop-test-memfd")
            os.ftruncate(fd, 4096)
            writable = True
        else:
            writable = action == "map-rw"
            fd = os.open(path, os.O_RDWR if writable else os.O_RDONLY)
        if action == "hold":
            kept.append(fd)
            continue
        size = os.fstat(fd).st_size
        prot = PROT_READ | (PROT_WRITE if writable else 0)
        address = libc.mmap(None, size, prot, MAP_SHARED, fd, 0)
        if address in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap")
        maps.append([address, address + size])
        os.close(fd)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
