"""A steady full snapshot reads again only the processes that ran (core/posix/carry.py), on
real objects and real children, on both maps readers.

Children map and hold /dev/shm objects and then sleep on their stdin: a steady snapshot
carries their rows without reading their maps or fds. Each change a process can make (map,
unmap, open, close, start, end) makes it run, and each must show in the next steady
snapshot exactly as a fresh collector sees it; an unlink by someone else (the sleeping
mapper does not run) must show too.
"""

from __future__ import annotations

import _posixshmem  # type: ignore[import-not-found]  # what shared_memory uses, no stub
import errno
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from maps_reader import MapsReader
from pshm_kids import (
    PAGE,
    PREFIX,
    Kid,
    NamedSemaphores,
    Objects,
    children,
    key_of,
    next_number,
    objects,
    path_of,
    start,
)

from shmtop.core.binding import native
from shmtop.core.posix import collect as posix_collect
from shmtop.core.posix import content, full
from shmtop.core.posix.full import FullCollector, FullSnapshot
from shmtop.core.posix.model import PosixObject

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")


@pytest.fixture
def shm() -> Iterator[Objects]:
    with objects() as made:
        yield made


@pytest.fixture
def kids() -> Iterator[list[Kid]]:
    with children() as started:
        yield started


class ReadPids:
    """The pids each maps scan of the test was given (the real scan runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rounds: list[set[int]] = []
        real = native.scan_shared_maps

        def spy(pids: Sequence[int], *args: object, **kwargs: object) -> native.SharedMapsScan:
            self.rounds.append(set(pids))
            return real(pids, *args, **kwargs)  # type: ignore[arg-type]

        self.spy = spy
        monkeypatch.setattr(native, "scan_shared_maps", spy)

    def take(self) -> set[int]:
        """The pids read since the last take."""
        read = set().union(*self.rounds)
        self.rounds.clear()
        return read


@pytest.fixture
def read_pids(monkeypatch: pytest.MonkeyPatch) -> ReadPids:
    # However slow the machine, no read of every process in the middle of a test (one
    # test below sets it to 0 to see that read).
    monkeypatch.setattr(full, "READ_ALL_EVERY", 3600.0)
    return ReadPids(monkeypatch)


def tell(kid: Kid, words: str) -> dict[str, list[list[int]]]:
    """Have a child do more actions (pshm_child.py), and its answer."""
    assert kid.process.stdin is not None and kid.process.stdout is not None
    kid.process.stdin.write(words.encode() + b"\n")
    kid.process.stdin.flush()
    answer: dict[str, list[list[int]]] = json.loads(kid.process.stdout.readline())
    return answer


def users(obj: PosixObject | None) -> tuple[list[tuple[int, int, bool]], list[int]]:
    """Its mappings (pid, start, writable) and holders' pids."""
    assert obj is not None, "the object is not in the snapshot"
    return (
        sorted((m.pid, m.start, m.writable) for m in obj.mappings),
        sorted(h.pid for h in obj.holders),
    )


def fresh() -> FullSnapshot:
    with FullCollector() as collector:
        return collector.snapshot()


def same_as_fresh(steady: FullSnapshot, key: tuple[int, int]) -> PosixObject:
    """The object in the steady snapshot, checked against a fresh collector's view."""
    now = fresh().posix.find(*key)
    found = steady.posix.find(*key)
    assert users(found) == users(now)
    assert found is not None and now is not None and found.linked == now.linked
    return found


def settled(collector: FullCollector, read_pids: ReadPids, idle: Sequence[int]) -> None:
    """Snapshots until one carries every idle child (the first reads everything; one after
    it may still see the children's last steps to sleep)."""
    for _ in range(20):
        collector.snapshot()
        if not read_pids.take() & set(idle):
            return
    pytest.fail(f"children {list(idle)} were read in every steady snapshot")


def test_sleeping_mappers_are_carried_and_a_mapper_that_runs_is_read(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids
) -> None:
    name = shm.make()
    key = key_of(name)
    start(kids, name, "map-rw")
    start(kids, name, "map-ro", "hold")
    pids = [kid.pid for kid in kids]
    with FullCollector() as collector:
        settled(collector, read_pids, pids)
        steady = collector.snapshot()
        assert not read_pids.take() & set(pids), "a sleeping child was read again"
        mapped, held = users(same_as_fresh(steady, key))
        assert [pid for pid, _, _ in mapped] == sorted(pids) and held == [pids[1]]
        more = tell(kids[0], "map-ro")["maps"][-1]
        grown = collector.snapshot()
        assert pids[0] in read_pids.take()
        assert (pids[0], more[0], False) in users(same_as_fresh(grown, key))[0]
        tell(kids[0], "unmap")
        tell(kids[1], "close")
        shrunk = collector.snapshot()
        assert users(same_as_fresh(shrunk, key)) == (
            [(pids[0], mapped[0][1], True), (pids[1], mapped[1][1], False)],
            [],
        )


def test_a_new_mapper_and_an_ended_one_show_in_a_steady_snapshot(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids
) -> None:
    name = shm.make()
    key = key_of(name)
    first, _ = start(kids, name, "map-rw")
    with FullCollector() as collector:
        settled(collector, read_pids, [first])
        second, second_maps = start(kids, name, "map-ro")
        grown = collector.snapshot()
        assert (second, second_maps[0][0], False) in users(same_as_fresh(grown, key))[0]
        kids[0].stop()
        shrunk = collector.snapshot()
        assert users(same_as_fresh(shrunk, key))[0] == [(second, second_maps[0][0], False)]
        assert first not in shrunk.posix.processes


def test_an_unlink_by_another_process_shows_though_the_mapper_sleeps(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids
) -> None:
    name = shm.make(size=2 * PAGE)
    key = key_of(name)
    pid, maps = start(kids, name, "map-rw", "hold")
    with FullCollector() as collector:
        settled(collector, read_pids, [pid])
        _posixshmem.shm_unlink(name)  # the test unlinks it: the mapper does not run
        after = collector.snapshot()
        assert pid not in read_pids.take()
        found = same_as_fresh(after, key)
        assert not found.linked
        assert users(found) == ([(pid, maps[0][0], True)], [pid])


def test_a_resize_and_a_semaphore_post_show_though_the_mappers_sleep(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids
) -> None:
    if content.semaphore_layout_known() is not None:
        pytest.skip(content.semaphore_layout_known() or "")
    name = shm.make(size=PAGE)
    key = key_of(name)
    sems = NamedSemaphores()
    sem_name = f"/{PREFIX}sem{next_number()}"
    sem = sems.open(sem_name, 1)
    shm.names.append("/sem." + sem_name[1:])  # shm_unlink of sem.NAME is sem_unlink
    try:
        sem_key = key_of("/sem." + sem_name[1:])
        pid, _ = start(kids, name, "map-rw")
        with FullCollector() as collector:
            settled(collector, read_pids, [pid])
            before = collector.snapshot()
            assert (before.posix.find(*key) or pytest.fail("no object")).size == PAGE
            fd = os.open(path_of(name), os.O_RDWR)
            try:
                os.ftruncate(fd, 2 * PAGE)  # the test resizes it: the mapper sleeps
            finally:
                os.close(fd)
            sem.post()
            after = collector.snapshot()
            assert pid not in read_pids.take()
            assert same_as_fresh(after, key).size == 2 * PAGE
            state = (after.posix.find(*sem_key) or pytest.fail("no semaphore")).semaphore
            assert state is not None and state.value == 2
    finally:
        sem.close()


def test_list_files_gives_each_regular_file_with_its_lstat(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"x" * 5000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "plain")
    os.mkfifo(tmp_path / "fifo")
    listing = native.list_files(str(tmp_path), capacity=1)  # too small: read again
    assert [name for name, _ in listing.files] == [b"plain"]
    info, real = listing.files[0][1], os.lstat(tmp_path / "plain")
    assert (info.st_dev, info.st_ino, info.st_mode, info.st_nlink, info.st_uid, info.st_gid,
            info.st_size, info.st_blocks) == (real.st_dev, real.st_ino, real.st_mode,
            real.st_nlink, real.st_uid, real.st_gid, real.st_size, real.st_blocks)  # fmt: skip
    assert info.st_mtime == pytest.approx(real.st_mtime_ns / 1e9)
    assert native.list_files(str(tmp_path), last=listing) is listing  # nothing changed
    os.utime(tmp_path / "plain", ns=(1, 2))
    assert native.list_files(str(tmp_path)).raw != listing.raw
    with pytest.raises(OSError):
        native.list_files(str(tmp_path / "missing"))


def test_a_system_v_snapshot_in_between_makes_the_next_full_one_read_everything(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids
) -> None:
    """The exporter's Collector takes System V snapshots of its own between full ones: their
    refreshes answer "since the one before", so the runs they saw are not the full one's."""
    name = shm.make()
    key = key_of(name)
    pid, _ = start(kids, name, "map-rw")
    with FullCollector() as collector:
        settled(collector, read_pids, [pid])
        more = tell(kids[0], "map-ro")["maps"][-1]  # it runs, then sleeps again
        collector.sysv.snapshot()  # its refresh sees that run
        after = collector.snapshot()
        assert (pid, more[0], False) in users(same_as_fresh(after, key))[0]


def test_every_process_is_read_again_every_read_all_every_seconds(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    name = shm.make()
    pid, _ = start(kids, name, "map-rw")
    with FullCollector() as collector:
        settled(collector, read_pids, [pid])
        monkeypatch.setattr(full, "READ_ALL_EVERY", 0.0)
        collector.snapshot()
        assert pid in read_pids.take()


def test_a_process_one_listing_missed_is_read_by_the_next_snapshot(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A child forked between a snapshot's listing of /proc and its task refresh is told as
    new by that refresh but not read; it is no longer new to the next one, and it sleeps:
    the next snapshot must read it all the same (its half has no rows for it)."""
    name = shm.make()
    key = key_of(name)
    with FullCollector() as collector:
        collector.snapshot()  # read every process: the halves to carry from
        pid, maps = start(kids, name, "map-rw")
        listed = posix_collect.all_pids
        monkeypatch.setattr(full, "all_pids", lambda: [p for p in listed() if p != pid])
        # The listing is all_pids' (as where the refresh gives none of its own), made after
        # the refresh: the child is told as new, then left out of the listing.
        monkeypatch.setattr(native.TaskTable, "listed", lambda self: None)
        told: list[frozenset[int] | None] = []
        real_changed = collector._changed

        def changed(*args: object) -> frozenset[int] | None:
            found = real_changed(*args)  # type: ignore[arg-type]
            told.append(found)
            return found

        monkeypatch.setattr(collector, "_changed", changed)
        for _ in range(20):  # until a refresh knows the child and it has not run since
            collector.snapshot()
            if len(told) > 1 and told[-1] is not None and pid not in told[-1]:
                break
        else:
            pytest.fail("the child kept running")
        monkeypatch.undo()  # the real listings again (the refresh's, all_pids)
        monkeypatch.setattr(full, "READ_ALL_EVERY", 3600.0)
        monkeypatch.setattr(native, "scan_shared_maps", read_pids.spy)
        monkeypatch.setattr(collector, "_changed", changed)
        read_pids.take()
        after = collector.snapshot()
        assert told[-1] is not None and pid not in told[-1]  # not told: read all the same
        assert pid in read_pids.take()
        assert users(same_as_fresh(after, key))[0] == [(pid, maps[0][0], True)]


def test_a_snapshot_that_fails_after_its_refresh_loses_no_process_that_ran(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The refresh of a snapshot that then raises (here the System V side fails, as a read
    of /proc/sysvipc can) told which processes ran; the next refresh answers since that
    one. A child that mapped more before it and sleeps since must still show next time."""
    name = shm.make()
    key = key_of(name)
    pid, _ = start(kids, name, "map-rw")
    with FullCollector() as collector:
        settled(collector, read_pids, [pid])
        more = tell(kids[0], "map-ro")["maps"][-1]  # it runs, then sleeps again

        def failing(*args: object) -> object:
            raise OSError(errno.EIO, "reading /proc/sysvipc/shm failed (the test says so)")

        monkeypatch.setattr(collector.sysv, "snapshot_from", failing)
        with pytest.raises(OSError):
            collector.snapshot()
        monkeypatch.undo()  # the System V side works again (READ_ALL_EVERY too: see below)
        monkeypatch.setattr(full, "READ_ALL_EVERY", 3600.0)  # no read of all by the clock
        after = collector.snapshot()
        assert (pid, more[0], False) in users(same_as_fresh(after, key))[0]


def test_a_steady_snapshot_takes_every_process_from_its_refreshs_listing(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The task refresh lists /proc: a steady snapshot takes that listing (a new mapper is
    in it) and lists /proc no second time."""
    name = shm.make()
    key = key_of(name)
    first, _ = start(kids, name, "map-rw")
    listings: list[int] = []
    real = posix_collect.all_pids

    def counted() -> list[int]:
        listings.append(1)
        return real()

    monkeypatch.setattr(full, "all_pids", counted)
    with FullCollector() as collector:
        if collector.sysv.refresh_activity() is None:
            pytest.skip("the Collector keeps no task evidence here")
        settled(collector, read_pids, [first])
        listings.clear()
        second, second_maps = start(kids, name, "map-ro")
        grown = collector.snapshot()
        assert not listings
        assert (second, second_maps[0][0], False) in users(same_as_fresh(grown, key))[0]


def quiet_pair(
    collector: FullCollector, read_pids: ReadPids, pid: int
) -> tuple[FullSnapshot, FullSnapshot]:
    """Two snapshots in a row, the second of which carried pid (a steady snapshot reads
    every process where the task evidence was incomplete: this sandbox's PID 1)."""
    before = collector.snapshot()
    read_pids.take()
    for _ in range(20):
        after = collector.snapshot()
        if pid not in read_pids.take():
            return before, after
        before = after
    pytest.fail(f"child {pid} was read in every steady snapshot")


def test_an_unchanged_steady_snapshot_keeps_last_times_objects_and_processes(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids
) -> None:
    """Nothing changed (the mapper sleeps, the listing and rows are last time's): the
    objects and the processes are last time's (collect.py's fast paths), and they are what
    a fresh collector sees; a change by the mapper makes them anew."""
    name = shm.make()
    key = key_of(name)
    pid, maps = start(kids, name, "map-rw", "hold")
    with FullCollector() as collector:
        settled(collector, read_pids, [pid])
        before, after = quiet_pair(collector, read_pids, pid)
        assert after.posix.find(*key) is before.posix.find(*key)
        assert after.posix.processes is before.posix.processes
        assert users(same_as_fresh(after, key)) == ([(pid, maps[0][0], True)], [pid])
        assert after.posix.processes[pid] == fresh().posix.processes[pid]
        tell(kids[0], "close")
        closed = collector.snapshot()
        assert pid in read_pids.take()
        assert users(same_as_fresh(closed, key)) == ([(pid, maps[0][0], True)], [])


def test_a_semaphore_post_alone_shows_in_a_steady_snapshot(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], read_pids: ReadPids
) -> None:
    """A post changes no stat and no maps: the listing and rows are last time's, so the
    other objects are kept, but the semaphore's words are read again."""
    if content.semaphore_layout_known() is not None:
        pytest.skip(content.semaphore_layout_known() or "")
    name = shm.make()
    key = key_of(name)
    sem_name = f"/{PREFIX}sem{next_number()}"
    sem = NamedSemaphores().open(sem_name, 1)
    shm.names.append("/sem." + sem_name[1:])
    try:
        sem_key = key_of("/sem." + sem_name[1:])
        pid, _ = start(kids, name, "map-rw")
        with FullCollector() as collector:
            settled(collector, read_pids, [pid])
            _, before = quiet_pair(collector, read_pids, pid)
            state = (before.posix.find(*sem_key) or pytest.fail("no semaphore")).semaphore
            assert state is not None and state.value == 1
            sem.post()
            after = collector.snapshot()
            assert after.posix.find(*key) is before.posix.find(*key)
            state = (after.posix.find(*sem_key) or pytest.fail("no semaphore")).semaphore
            assert state is not None and state.value == 2
            again = collector.snapshot()
            assert again.posix.find(*sem_key) is after.posix.find(*sem_key)
    finally:
        sem.close()
