"""shmtop's output taken between two readings of the ground truth that agree (a steady server)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from realworld.namespace import Namespace
from realworld.truth_model import Truth

# The /proc/sysvipc/shm fields the tests compare with shmtop's (rss and the times may move).
SHM_FIELDS = ("key", "size", "nattch", "uid", "gid", "cuid", "cgid", "perms", "cpid")
# Tries for a steady reading before giving up; a server at rest needs one.
ATTEMPTS = 5


@dataclass(frozen=True)
class Observation:
    before: Truth
    after: Truth
    outputs: dict[str, Any]  # name -> shmtop's parsed JSON


def steady_state(truth: Truth) -> Hashable:
    """What must not change while shmtop runs for its output to be judged against the truth."""
    fields = tuple(
        (shmid, tuple(row[name] for name in SHM_FIELDS)) for shmid, row in sorted(truth.shm.items())
    )
    waiters = tuple(sorted(truth.sem_waiters().items()))
    return truth.attachments(), fields, waiters, tuple(sorted(truth.sem))


def observe(namespace: Namespace, take: Callable[[Namespace], dict[str, Any]]) -> Observation:
    """Truth, shmtop (take), truth again, until both truths agree on steady_state."""
    seen = []
    for _ in range(ATTEMPTS):
        before = namespace.truth()
        outputs = take(namespace)
        after = namespace.truth()
        if steady_state(before) == steady_state(after):
            return Observation(before, after, outputs)
        seen.append((steady_state(before), steady_state(after)))
    raise AssertionError(f"the server never held still over {ATTEMPTS} readings: {seen}")


def shmtop_attachments(listing: dict[str, Any]) -> frozenset[tuple[int, int, int, int, str]]:
    """(pid, shmid, start, end, access) of every attachment in `list --json` or `show --json`."""
    segments = listing.get("segments", [listing])  # a `show` is one segment
    return frozenset(
        (a["pid"], s["id"], int(a["start"], 16), int(a["end"], 16), a["access"])
        for s in segments
        for a in s["attachments"]
    )
