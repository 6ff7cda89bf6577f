"""The light helpers of the JSON documents (text/documents.py) that the tables share too:
ISO times, and the kernel limits with their usage (no msgspec import: `limits` and `list`
without --json use these)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from functools import lru_cache

from shmtop.core.model import Limits


def iso_moment(epoch: float) -> str:
    """ISO 8601 in UTC (with the offset, +00:00)."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


# The kernel's times are whole seconds, and objects made or touched together share them: a
# list of thousands asks for a few distinct ones, each formatted once.
@lru_cache(maxsize=4096)
def iso_time(epoch: float) -> str | None:
    """ISO 8601 in UTC, or None for the kernel's 0 (never)."""
    return iso_moment(epoch) if epoch else None


# The kernel's own "no limit" for SHMMAX and SHMALL (include/uapi/linux/shm.h:
# ULONG_MAX - 2**24, the default since Linux 3.16). At or above it a limit cannot
# be reached: shown as unlimited (null in JSON), never as a 20-digit number.
ULONG_MAX = 2 ** (8 * struct.calcsize("L")) - 1  # native unsigned long (ctypes: ~2 ms to import)
SHM_NO_LIMIT = ULONG_MAX - 2**24


def shm_limit(value: int) -> int | None:
    """shmall or shmmax, None where it is the kernel's "no limit" (or beyond)."""
    return None if value >= SHM_NO_LIMIT else value


def limit_rows(limits: Limits) -> list[tuple[str, int, int | None]]:
    """(what, used, limit or None for no limit) for every limit with a usage figure.

    Only shm_pages (SHMALL) can be unlimited: whatever is set, the counts of
    segments, sets and queues are capped by IPCMNI (32768, 2**24 with
    ipcmni_extend) and SEMMNS is a C int."""
    return [
        ("shm_segments", limits.shm_segments, limits.shmmni),
        ("shm_pages", limits.shm_pages, shm_limit(limits.shmall)),
        ("sem_sets", limits.sem_sets, limits.semmni),
        ("sem_semaphores", limits.sem_semaphores, limits.semmns),
        ("msg_queues", limits.msg_queues, limits.msgmni),
    ]


def percent(used: int, limit: int | None) -> float | None:
    """used as a percentage of limit, to 0.01; None for no limit (or a limit of 0)."""
    if limit is None or limit <= 0:
        return None
    return round(100.0 * used / limit, 2)
