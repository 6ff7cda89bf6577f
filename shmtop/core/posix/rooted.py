"""Opening the path of an object of another mount namespace, /proc/PID/root/REST (how
namespace_roots names them from here), inside that root: the kernel would follow a link or
a ".." in REST from our root (namespace_roots.shm_device says why that matters). Any other
path is opened as it is (the /proc/PID/map_files and fd links a read goes through are magic
links that must be followed)."""

from __future__ import annotations

import os
import re

from shmtop.core.binding import native

_IN_ROOT = re.compile(rb"/proc/(\d+)/root/(.+)")


def open_path(path: str | bytes, flags: int) -> int:
    """os.open(path, flags), or under /proc/PID/root, native.open_in_root."""
    inside = _IN_ROOT.fullmatch(os.fsencode(path))
    if inside is None:
        return os.open(path, flags)
    return native.open_in_root(int(inside[1]), os.fsdecode(inside[2]), flags)
