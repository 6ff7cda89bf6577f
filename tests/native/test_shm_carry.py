"""A steady snapshot takes its segment rows from the last read of /proc/sysvipc/shm only while
SHM_INFO's sums and every segment's shmid_ds say nothing moved (core/snapshot/shm_carry.py):
on real segments, every RSS change, attach, detach, removal and new segment shows in the next
snapshot, and while nothing moves the rows are carried (the file is not read)."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import pytest
from helpers import MakeShm, Spawn, libc_shmat, libc_shmdt, wait_until
from maps_reader import MapsReader

from shmtop.core.binding import native
from shmtop.core.model import Segment, Snapshot
from shmtop.core.snapshot import procfs, shm_carry
from shmtop.core.snapshot.collect import Collector

PAGE = 4096
MADV_REMOVE = 9
_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)


@pytest.fixture
def collector() -> Iterator[Collector]:
    made = Collector()
    yield made
    made.close()


def file_rows() -> dict[int, dict[str, int]]:
    """/proc/sysvipc/shm now, by the plain Python parser, by shmid."""
    return {r["shmid"]: r for r in procfs.parse_sysvipc(procfs.read_sysvipc("shm").decode())}


FIELDS = ("key", "perms", "size", "cpid", "lpid", "nattch", "uid", "gid", "cuid", "cgid",
          "atime", "dtime", "ctime", "rss", "swap")  # fmt: skip


def said(seg: Segment) -> tuple[int | None, ...]:
    o = seg.owner
    return (o.key, o.mode, seg.size, seg.cpid, seg.lpid, seg.nattch, o.uid, o.gid, o.cuid,
            o.cgid, seg.atime, seg.dtime, seg.ctime, seg.rss, seg.swap)  # fmt: skip


def agrees(snapshot: Snapshot) -> None:
    """Every segment of the snapshot is what the file says now (nothing else moves them)."""
    rows = file_rows()
    assert {s.id for s in snapshot.segments} == rows.keys()
    for seg in snapshot.segments:
        assert said(seg) == tuple(rows[seg.id][name] for name in FIELDS), seg.id


def carried(collector: Collector) -> int:
    return collector._shm_carry.carries


def steady(collector: Collector) -> Snapshot:
    """A snapshot that must have carried its rows (nothing moved since the one before)."""
    before = carried(collector)
    snapshot = collector.snapshot()
    assert carried(collector) == before + 1
    return snapshot


def moved(collector: Collector) -> Snapshot:
    """A snapshot that must have read the file (something moved), and says what it says."""
    before = carried(collector)
    snapshot = collector.snapshot()
    assert carried(collector) == before
    agrees(snapshot)
    return snapshot


def rss(snapshot: Snapshot, shmid: int) -> int | None:
    seg = snapshot.segment(shmid)
    assert seg is not None, shmid
    return seg.rss


def test_the_look_is_the_files_columns(make_shm: MakeShm, spawn: Spawn) -> None:
    """ShmStateLook's rows are /proc/sysvipc/shm's columns up to ctime, in its order, for
    plain, attached, and removed-but-attached segments (key 0, SHM_DEST in the mode)."""
    ids = [make_shm(size=n * PAGE) for n in (1, 2, 3)]
    child = spawn(attach=[(ids[1], True), (ids[2], False)])
    native.shm_rmid(ids[2])  # marked for destruction while the child holds it
    look = native.ShmStateLook()
    assert not look.look()  # nothing kept yet
    table = procfs.read_sysvipc("shm")
    columns = procfs.header_columns(table)
    at = [columns.index(name) for name in native.ShmStateLook.STATE_COLUMNS]
    rows = native.parse_columns(table, procfs.column_bases(columns))
    assert look.rows() == list(chain.from_iterable([row[i] for i in at] for row in rows))
    dest = next(row for row in rows if row[columns.index("shmid")] == ids[2])
    assert dest[columns.index("key")] == 0
    assert dest[columns.index("perms")] & native.SHM_DEST
    look.keep()
    assert look.look()  # nothing moved
    child.stop()
    wait_until(lambda: ids[2] not in file_rows(), "the removed segment to go with its user")
    assert not look.look()


def test_steady_snapshots_carry_the_rows_and_see_every_change(
    make_shm: MakeShm, collector: Collector
) -> None:
    ids = [make_shm(size=8 * PAGE) for _ in range(6)]
    first = collector.snapshot()  # reads the file
    agrees(first)
    again = steady(collector)  # nothing moved: the last read's rows (checked once)
    agrees(again)
    assert all(a is b for a, b in zip(first.segments, again.segments, strict=True))
    address = libc_shmat(ids[2], writable=True)
    try:
        attached = moved(collector)  # our attach moved its nattch, lpid and atime
        base = rss(attached, ids[2]) or 0
        for page in range(3):  # each page touched shows in the next snapshot
            ctypes.memset(address + page * PAGE, 1, 1)
            assert rss(moved(collector), ids[2]) == base + (page + 1) * PAGE
        agrees(steady(collector))
        assert _LIBC.madvise(address, 2 * PAGE, MADV_REMOVE) == 0, ctypes.get_errno()
        assert rss(moved(collector), ids[2]) == base + PAGE  # a hole punched in it
        agrees(steady(collector))
    finally:
        libc_shmdt(address)
    detached = moved(collector)
    assert (detached.segment(ids[2]) or pytest.fail("gone")).nattch == 0
    native.shm_rmid(ids[0])
    assert moved(collector).segment(ids[0]) is None
    new = make_shm(size=PAGE)
    assert moved(collector).segment(new) is not None
    agrees(steady(collector))


def test_attach_and_detach_by_another_process_show(
    make_shm: MakeShm, spawn: Spawn, collector: Collector, maps_reader: MapsReader
) -> None:
    """nattch, lpid and the attachments move in the next snapshot, whichever maps reader."""
    shmid = make_shm(size=4 * PAGE)
    agrees(collector.snapshot())
    agrees(steady(collector))
    child = spawn(attach=[(shmid, True)])
    seg = moved(collector).segment(shmid) or pytest.fail("gone")
    assert seg.nattch == 1
    assert [a.pid for a in seg.attachments] == [child.pid]
    agrees(steady(collector))
    child.stop()
    wait_until(lambda: file_rows()[shmid]["nattch"] == 0, "the child to detach")
    left = moved(collector).segment(shmid) or pytest.fail("gone")
    assert left.nattch == 0
    assert left.attachments == ()


def test_a_compensated_change_is_read_within_the_bound(
    make_shm: MakeShm, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page removed from one segment as one is added to another keeps SHM_INFO's sums
    (the case the module says is not exact): the file is read again once READ_EVERY passed."""
    ids = [make_shm(size=4 * PAGE) for _ in range(2)]
    first_at, second_at = (libc_shmat(shmid, writable=True) for shmid in ids)
    try:
        ctypes.memset(first_at, 1, 1)
        collector.snapshot()
        agrees(steady(collector))
        assert _LIBC.madvise(first_at, PAGE, MADV_REMOVE) == 0, ctypes.get_errno()
        ctypes.memset(second_at, 1, 1)  # the sums are as they were
        stale = steady(collector)  # carried: what the module says is not exact
        assert (rss(stale, ids[0]), rss(stale, ids[1])) == (PAGE, 0)
        monkeypatch.setattr(shm_carry, "READ_EVERY", 0.0)
        fresh = moved(collector)
        assert (rss(fresh, ids[0]), rss(fresh, ids[1])) == (0, PAGE)
    finally:
        libc_shmdt(first_at)
        libc_shmdt(second_at)


def test_swap_outs_sum_the_counters_a_kernel_has(tmp_path: Path) -> None:
    vmstat = tmp_path / "vmstat"
    vmstat.write_bytes(b"nr_free_pages 5\npswpin 7\npswpout 11\nzswpout 2\nthp_swpout 1\n")
    assert shm_carry.swap_outs(str(vmstat)) == 13
    assert shm_carry.swap_outs(str(tmp_path / "missing")) is None
    assert isinstance(shm_carry.swap_outs(), int)  # this kernel's /proc/vmstat
