"""A child process that writes known bytes into a segment and exits: the tests' writer.

Run as ``python segment_writer.py SHMID JSON`` where JSON is [[offset, hex], ...].
It attaches read-write with plain ctypes (not shmtop's binding), writes, detaches.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import zlib
from collections.abc import Sequence


def write_here(shmid: int, pieces: Sequence[tuple[int, bytes]]) -> None:
    """Attach read-write, copy each piece to its offset, detach (in this process)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    address = libc.shmat(shmid, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "shmat")
    try:
        for offset, data in pieces:
            ctypes.memmove(address + offset, data, len(data))
    finally:
        libc.shmdt(address)


def write(shmid: int, pieces: Sequence[tuple[int, bytes]]) -> None:
    """Have a separate process write the pieces; returns once it has exited."""
    spec = json.dumps([[offset, data.hex()] for offset, data in pieces])
    subprocess.run([sys.executable, __file__, str(shmid), spec], check=True, timeout=60)


def expected(size: int, pieces: Sequence[tuple[int, bytes]]) -> bytes:
    """What a fresh (zeroed) segment holds after write()."""
    content = bytearray(size)
    for offset, data in pieces:
        content[offset : offset + len(data)] = data
    return bytes(content)


def checksum(data: bytes) -> int:
    return zlib.crc32(data)


if __name__ == "__main__":
    write_here(int(sys.argv[1]), [(int(o), bytes.fromhex(h)) for o, h in json.loads(sys.argv[2])])
