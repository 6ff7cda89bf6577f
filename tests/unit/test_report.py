"""The text pages' sentences (shmtop.text.report) on a fixed snapshot."""

from __future__ import annotations

import dataclasses

from fake_source import fixed_snapshot

from shmtop.core.model import BlindSpots, Snapshot
from shmtop.text import report


def test_the_blind_spot_note_tells_root_no_lie() -> None:
    refused = BlindSpots(5, {"permission denied": 1}, 0, 0)
    churn = BlindSpots(5, {}, 2, 0)

    snapshot = fixed_snapshot()
    as_user = report.blind_spot_note(_with(snapshot, refused), root=False)
    as_root = report.blind_spot_note(_with(snapshot, refused), root=True)
    moved = report.blind_spot_note(_with(snapshot, churn), root=True)

    assert as_user is not None and "run as root for the full picture" in as_user
    assert as_root is not None and "run as root" not in as_root and "even as root" in as_root
    assert moved is not None and "run as root" not in moved
    assert "2 attachments counted by nattch not found" in moved
    assert "exited while the scan ran" in moved


def _with(snapshot: Snapshot, blind: BlindSpots) -> Snapshot:
    return dataclasses.replace(snapshot, blind_spots=blind)
