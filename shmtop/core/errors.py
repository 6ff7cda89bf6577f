"""The facts behind every error shmtop reports: which errno means which mistake.

The sentences a user reads are text/errors.py's; the core only classifies.
"""

from __future__ import annotations

import enum
import errno
import os

GONE = (errno.EINVAL, errno.EIDRM)  # of an IPC id: no object has it (never did, or removed)
DENIED = (errno.EACCES, errno.EPERM)


class Mistake(enum.Enum):
    """What an errno met on one IPC object means for the user."""

    GONE = "gone"
    DENIED = "denied"


def mistake_of(number: int | None) -> Mistake | None:
    """The mistake an errno of an IPC call on one object is, or None for any other."""
    if number in GONE:
        return Mistake.GONE
    if number in DENIED:
        return Mistake.DENIED
    return None


def errno_words(number: int) -> str:
    """A few words for why a process or object could not be read ('permission denied')."""
    if number in DENIED:
        return "permission denied"
    return os.strerror(number).lower()
