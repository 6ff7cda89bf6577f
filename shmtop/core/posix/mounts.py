"""Which filesystems hold shared memory: tmpfs and hugetlbfs mounts, from mountinfo."""

from __future__ import annotations

import os
import re

from shmtop.core.posix.model import SHM_DIR, ShmMount

SHM_FSTYPES = frozenset({"tmpfs", "hugetlbfs"})
_ESCAPE = re.compile(rb"\\([0-7]{3})")


def _unescape(field: bytes) -> bytes:
    """mountinfo writes space, tab, newline and backslash in paths as \\ooo."""
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 8)]), field)


def parse_mountinfo(
    text: bytes, fstypes: frozenset[str] = SHM_FSTYPES
) -> list[tuple[int, str, str]]:
    """(st_dev, fstype, mount point) of every mount of fstypes (tmpfs and hugetlbfs unless
    told: the mqueue listing asks for "mqueue") in mountinfo text."""
    found = []
    for line in text.splitlines():
        fields = line.split(b" ")
        try:
            separator = fields.index(b"-", 6)
            major, minor = fields[2].split(b":")
            fstype = fields[separator + 1].decode("ascii", "replace")
        except (ValueError, IndexError):
            continue  # not a mountinfo line
        if fstype in fstypes:
            point = os.fsdecode(_unescape(fields[4]))
            found.append((os.makedev(int(major), int(minor)), fstype, point))
    return found


def read_mountinfo(
    pid: int | str = "self", fstypes: frozenset[str] = SHM_FSTYPES
) -> list[tuple[int, str, str]]:
    """The shm mounts (or those of fstypes) of a process's mount namespace ([] when it
    cannot be read)."""
    try:
        with open(f"/proc/{pid}/mountinfo", "rb") as info:
            return parse_mountinfo(info.read(), fstypes)
    except OSError:
        return []


def our_mounts(shm_dir: str = SHM_DIR) -> dict[int, ShmMount]:
    """The shm mounts of our mount namespace by device, and the one of shm_dir marked so
    (listed even when /dev/shm is a plain directory on another filesystem)."""
    try:
        shm_dev: int | None = os.stat(shm_dir).st_dev
    except OSError:
        shm_dev = None
    mounts: dict[int, ShmMount] = {}
    for dev, fstype, point in read_mountinfo():
        if dev not in mounts or point == shm_dir:  # a bind mount: prefer the /dev/shm one
            mounts[dev] = ShmMount(dev, fstype, point, dev == shm_dev)
    if shm_dev is not None and shm_dev not in mounts:
        mounts[shm_dev] = ShmMount(shm_dev, "", shm_dir, True)
    return mounts


def classify_device(dev: int, pid: int) -> ShmMount | None:
    """A device of major 0 seen in pid's maps: a shm mount of pid's mount namespace (a
    container's /dev/shm), or None (an internal mount: memfd, /dev/zero, aio, or no shm)."""
    for found, fstype, _point in read_mountinfo(pid):
        if found == dev:
            return ShmMount(dev, fstype, "", False)
    return None
