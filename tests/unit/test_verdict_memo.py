"""judge()'s memo: a snapshot's default verdicts made once, and never handed to another
snapshot, another object or a call with other arguments."""

from __future__ import annotations

from fake_source import fixed_snapshot
from msgspec.structs import replace

from shmtop.core.model import Kind
from shmtop.core.verdicts import DEFAULT_GRACE, Status, judge


def test_a_snapshots_verdicts_are_made_once_and_are_the_rules() -> None:
    snapshot = fixed_snapshot()
    for kind in Kind:
        for obj in snapshot.objects(kind):
            first = judge(obj, snapshot)

            assert judge(obj, snapshot) is first
            # The same rule without the memo (an explicit moment bypasses it).
            assert judge(obj, snapshot, now=snapshot.taken_at) == first


def test_another_snapshot_or_object_or_grace_gets_its_own_verdict() -> None:
    snapshot = fixed_snapshot()
    leak = snapshot.segments[3]  # private, never attached, its creator gone
    assert judge(leak, snapshot).status is Status.ORPHAN

    later = replace(snapshot, taken_at=snapshot.taken_at + 1000)
    assert judge(leak, later).idle == judge(leak, snapshot).idle + 1000
    attached = replace(leak, nattch=1)
    assert judge(attached, snapshot).status is None
    assert judge(attached, snapshot).busy == "attached (nattch 1)"
    assert judge(leak, snapshot, grace=10 * judge(leak, snapshot).idle).status is None
    assert judge(leak, snapshot, grace=DEFAULT_GRACE).status is Status.ORPHAN
    assert judge(leak, snapshot, blocked={(Kind.SHM, leak.id)}).busy is not None
    assert judge(leak, snapshot).busy is None
