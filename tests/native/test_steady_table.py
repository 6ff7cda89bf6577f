"""A collector keeps the rows and segments of a table that barely moved (TableLines and the
reuse after it): each read still sees every change of real segments, and nothing else."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from helpers import MakeShm, Spawn

from shmtop.core.binding import native
from shmtop.core.binding._native import ffi
from shmtop.core.model import Segment, Snapshot
from shmtop.core.snapshot import procfs
from shmtop.core.snapshot.collect import Collector
from shmtop.core.snapshot.procs import SETTLE_SECONDS, ProcessDirectory
from shmtop.core.snapshot.table_lines import TableLines

PAGE = 4096


@pytest.fixture
def collector() -> Iterator[Collector]:
    made = Collector()
    yield made
    made.close()


def kernel_rows() -> dict[int, dict[str, int]]:
    """/proc/sysvipc/shm as the plain Python parser reads it, by shmid."""
    return {r["shmid"]: r for r in procfs.parse_sysvipc(procfs.read_sysvipc("shm").decode())}


def agrees(snapshot: Snapshot, ids: list[int]) -> None:
    """The snapshot's segments say what the kernel says now (nothing else moves them here)."""
    rows = kernel_rows()
    assert {s.id for s in snapshot.segments} == rows.keys()
    for shmid in ids:
        seg = snapshot.segment(shmid)
        assert seg is not None, shmid
        row = rows[shmid]
        assert (seg.rss, seg.swap, seg.nattch, seg.size) == (
            row["rss"], row["swap"], row["nattch"], row["size"],
        )  # fmt: skip


def segment(snapshot: Snapshot, shmid: int) -> Segment:
    found = snapshot.segment(shmid)
    assert found is not None, shmid
    return found


def test_each_steady_read_sees_every_change_of_real_segments(
    make_shm: MakeShm, collector: Collector
) -> None:
    ids = [make_shm(size=16 * PAGE) for _ in range(20)]
    first = collector.snapshot()
    agrees(first, ids)
    touched = ids[3]
    address = native.shmat(touched, 0)
    pages = ffi.cast("char *", address)
    try:
        attached = collector.snapshot()
        agrees(attached, ids)
        assert segment(attached, touched).nattch == 1
        assert [a.pid for a in segment(attached, touched).attachments] != []
        before = segment(attached, touched).rss or 0
        for page in range(4):  # RSS moves a page at a time; each read sees it
            pages[page * PAGE] = b"x"
            moved = collector.snapshot()
            agrees(moved, ids)
            assert segment(moved, touched).rss == before + (page + 1) * PAGE
            # The rows that did not move give back the very segments of the read before.
            kept = [s for s in moved.segments if s.id != touched]
            assert all(s is segment(attached, s.id) for s in kept)
    finally:
        native.shmdt(address)
    detached = collector.snapshot()
    agrees(detached, ids)
    assert segment(detached, touched).nattch == 0
    native.shm_rmid(ids[0])
    gone = collector.snapshot()
    agrees(gone, ids[1:])
    assert gone.segment(ids[0]) is None
    made = make_shm()
    came = collector.snapshot()
    agrees(came, [*ids[1:], made])


def test_table_lines_answer_as_the_whole_parse(make_shm: MakeShm) -> None:
    """Over real tables that change (made, touched, removed), rows() == parse_columns()."""
    reader = TableLines()
    ids = [make_shm(size=4 * PAGE) for _ in range(8)]

    def check() -> list[tuple[int, ...]]:
        table = procfs.read_sysvipc("shm")
        bases = procfs.column_bases(procfs.header_columns(table))
        rows = reader.rows(table, bases)
        assert rows == native.parse_columns(table, bases)
        return rows

    first = check()
    with native.attached(ids[2], readonly=False) as address:
        ffi.cast("char *", address)[0] = b"y"
        second = check()
    assert sum(a is b for a, b in zip(first, second, strict=True)) == len(ids) - 1
    native.shm_rmid(ids[5])
    third = check()
    assert len(third) == len(ids) - 1
    make_shm()
    assert len(check()) == len(ids)


def test_a_process_read_young_is_read_again_until_settled(spawn: Spawn) -> None:
    """ProcessDirectory.unsettled answers at once when every entry is settled, and still
    names a process read in its first seconds (its title may be its parent's yet)."""
    directory = ProcessDirectory()
    me = 1  # init: it has run longer than SETTLE_SECONDS
    assert time.time() - directory.lookup([me])[me].started > SETTLE_SECONDS
    assert directory.unsettled([me]) == []
    young = spawn().pid
    before = time.time()
    found = directory.lookup([me, young])
    after = time.time()
    assert young in found
    age = found[young].started
    # Settled or not by its age at the lookup (a loaded machine may start a child slowly).
    if after - age < SETTLE_SECONDS:
        assert directory.unsettled([me, young]) == [young]
    elif before - age >= SETTLE_SECONDS:
        assert directory.unsettled([me, young]) == []
    directory.prune({me: found[me]})  # the young one no longer matters
    assert directory.unsettled([me, young]) == []
    assert directory.known_titles() == {me: directory.known_titles()[me]}
