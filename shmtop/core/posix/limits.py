"""Limits and usage of the POSIX kinds: the mqueue sysctls, and each shm filesystem's room.

/proc/sys/fs/mqueue/* belong to the caller's IPC namespace (each namespace has its own
values), as the queues counted against them do. A shm filesystem's size and use come from
statvfs of its mount point in our mount namespace: the one holding /dev/shm always, and any
other tmpfs or hugetlbfs mount that a POSIX scan found objects on (what processes map shm
from), never every tmpfs of the machine (/run, /tmp are no shared memory).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import msgspec

from shmtop.core.posix.model import PosixSnapshot, ShmMount
from shmtop.core.posix.mqueue import MqSnapshot

MQUEUE_SYSCTL_DIR = "/proc/sys/fs/mqueue"
MQUEUE_SYSCTLS = ("queues_max", "msg_max", "msgsize_max", "msg_default", "msgsize_default")


class MqueueLimits(msgspec.Struct, frozen=True, gc=False):
    """The mqueue sysctls of our IPC namespace (None: unreadable) and what is used of them."""

    queues_max: int | None  # queues in the namespace (root is exempt from it)
    msg_max: int | None  # the most messages a queue may be made to hold (mq_maxmsg)
    msgsize_max: int | None  # the largest message size a queue may be made with
    msg_default: int | None  # mq_maxmsg of a queue made without attributes
    msgsize_default: int | None
    queues: int | None  # queues now (None: they could not be listed)
    largest_max_messages: int  # the highest mq_maxmsg of any queue now (0: none known)
    largest_max_size: int  # the highest mq_msgsize of any queue now


class ShmFilesystem(msgspec.Struct, frozen=True, gc=False):
    """One shm mount's room, as statvfs tells it (bytes and inodes)."""

    mount_point: str
    fstype: str  # "tmpfs", "hugetlbfs" ("" for a /dev/shm that is no such mount)
    dev: int
    size: int  # f_blocks * f_frsize
    used: int  # (f_blocks - f_bfree) * f_frsize
    inodes: int
    inodes_used: int
    objects: int  # POSIX objects the scan found on it (unlinked ones too)
    problem: str | None = None  # statvfs failed: sizes are 0


def read_sysctl(name: str, directory: str = MQUEUE_SYSCTL_DIR) -> int | None:
    try:
        with open(os.path.join(directory, name), "rb") as sysctl:
            return int(sysctl.read().strip())
    except (OSError, ValueError):
        return None


def mqueue_limits(
    queues: int | None, max_messages: Sequence[int | None] = (),
    max_sizes: Sequence[int | None] = (), directory: str = MQUEUE_SYSCTL_DIR,
) -> MqueueLimits:  # fmt: skip
    """The sysctls, with the queues counted and each queue's mq_maxmsg and mq_msgsize."""
    values = {name: read_sysctl(name, directory) for name in MQUEUE_SYSCTLS}
    return MqueueLimits(
        **values,
        queues=queues,
        largest_max_messages=max((m for m in max_messages if m is not None), default=0),
        largest_max_size=max((m for m in max_sizes if m is not None), default=0),
    )


def statvfs_of(mount: ShmMount, objects: int = 0) -> ShmFilesystem:
    try:
        info = os.statvfs(mount.mount_point)
    except OSError as error:
        return ShmFilesystem(mount.mount_point, mount.fstype, mount.dev, 0, 0, 0, 0, objects,
                             f"statvfs failed: {error.strerror}")  # fmt: skip
    return ShmFilesystem(
        mount.mount_point, mount.fstype, mount.dev, info.f_blocks * info.f_frsize,
        (info.f_blocks - info.f_bfree) * info.f_frsize, info.f_files,
        info.f_files - info.f_ffree, objects,
    )  # fmt: skip


def shm_filesystems(snapshot: PosixSnapshot) -> list[ShmFilesystem]:
    """The /dev/shm mount first, then every other mount of ours that holds objects the scan
    found; mounts seen only in other mount namespaces' maps have no mount point here."""
    counts: dict[int, int] = {}
    for obj in snapshot.objects:
        counts[obj.dev] = counts.get(obj.dev, 0) + 1
    chosen = [m for m in snapshot.mounts if m.mount_point and (m.shm_dir or m.dev in counts)]
    chosen.sort(key=lambda m: (not m.shm_dir, m.mount_point))
    return [statvfs_of(m, counts.get(m.dev, 0)) for m in chosen]


class PosixLimits(msgspec.Struct, frozen=True, gc=False):
    """The POSIX kinds' limits at one moment: the mqueue sysctls and the shm filesystems."""

    mqueue: MqueueLimits
    filesystems: tuple[ShmFilesystem, ...]


def posix_limits(shm: PosixSnapshot, queues: MqSnapshot | None) -> PosixLimits:
    """From a POSIX scan and a queue listing (None, or one that listed nothing: unknown)."""
    listed = queues is not None and queues.listed
    states = [q.entry.state for q in queues.queues] if queues is not None and listed else []
    mq = mqueue_limits(
        len(queues.queues) if queues is not None and listed else None,
        [s.max_messages for s in states], [s.max_size for s in states],
    )  # fmt: skip
    return PosixLimits(mq, tuple(shm_filesystems(shm)))


def read_posix_limits() -> PosixLimits:
    """One POSIX scan (for the mounts objects live on) and a queue listing (no fd scan:
    the counts need no holders)."""
    from shmtop.core.posix import collect, mqueue

    return posix_limits(collect.take_snapshot(), mqueue.take_snapshot(pids=[]))
