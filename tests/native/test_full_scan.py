"""The full snapshot (core/posix/full.py): System V and POSIX from one read of every maps
file, on real objects and real children, on both maps readers.

A child maps a POSIX object (read-write and read-only) and attaches System V segments
(read-write and read-only): the one read must find both kinds, as the System V Collector
and the PosixCollector find them on their own; an unlinked object still mapped is found;
a steady snapshot (the join reused when the maps read the same) still sees a mapper come
and one go; rows that do not fit the first buffers are read again, and nothing is lost;
a queue's holder comes from the same one read of every process's fds, also where no mqueue
fs of ours is mounted (the queues then read through a detached mount), and so does the holder
of a file on a /dev/shm of another mount namespace, known only from a mapping of it.
"""

from __future__ import annotations

import _posixshmem  # type: ignore[import-not-found]  # what shared_memory uses, no stub
import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from helpers import MakeShm
from maps_reader import MapsReader
from pmq_kids import Kid as MqKid
from pmq_kids import Queues
from pmq_kids import start as start_mq_kid
from pshm_kids import (
    AS_NOBODY,
    PAGE,
    TESTS,
    Kid,
    Objects,
    children,
    key_of,
    objects,
    path_of,
    start,
)

from shmtop.core.binding import native
from shmtop.core.model import Snapshot
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.full import FullCollector, FullSnapshot
from shmtop.core.posix.model import PosixObject
from shmtop.core.snapshot.collect import Collector

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")


@pytest.fixture
def shm() -> Iterator[Objects]:
    with objects() as made:
        yield made


@pytest.fixture
def kids() -> Iterator[list[Kid]]:
    with children() as started:
        yield started


def attachers(snapshot: Snapshot, shmid: int) -> list[tuple[int, int, bool]]:
    segment = next(s for s in snapshot.segments if s.id == shmid)
    return sorted((a.pid, a.start, a.writable) for a in segment.attachments)


def mappers(obj: PosixObject | None) -> list[tuple[int, int, int, bool]]:
    assert obj is not None, "the object is not in the snapshot"
    return sorted((m.pid, m.start, m.end, m.writable) for m in obj.mappings)


def full_snapshot() -> FullSnapshot:
    with FullCollector() as collector:
        return collector.snapshot()


def test_one_read_finds_a_childs_posix_mappings_and_system_v_attachments(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], make_shm: MakeShm
) -> None:
    name = shm.make()
    key = key_of(name)
    writable, read_only = make_shm(PAGE), make_shm(PAGE)
    pid, maps = start(kids, name, "map-rw", "map-ro", f"shmat-rw:{writable}",
                      f"shmat-ro:{read_only}")  # fmt: skip
    maps_reader.calls.clear()
    full = full_snapshot()
    assert set(maps_reader.calls) == {"scan_shared_maps"}  # one read, in two halves
    assert len(maps_reader.calls) == 2
    (rw_start, rw_end), (ro_start, ro_end) = maps
    assert mappers(full.posix.find(*key)) == sorted(
        [(pid, rw_start, rw_end, True), (pid, ro_start, ro_end, False)]
    )
    said = {shmid: address for address, shmid in _sysv_of(kids[-1])}
    assert attachers(full.sysv, writable) == [(pid, said[writable], True)]
    assert attachers(full.sysv, read_only) == [(pid, said[read_only], False)]
    # What each collector finds on its own, reading the maps itself.
    alone = Collector()
    try:
        sysv = alone.snapshot()
    finally:
        alone.close()
    with PosixCollector() as collector:
        posix = collector.snapshot()
    for shmid in (writable, read_only):
        assert attachers(full.sysv, shmid) == attachers(sysv, shmid)
    assert mappers(full.posix.find(*key)) == mappers(posix.find(*key))
    assert full.posix.processes[pid].uid == 0
    assert full.posix.processes[pid].command.startswith("python")


def _sysv_of(kid: Kid) -> list[list[int]]:
    """The child's System V attachments as it said them: [address, shmid]."""
    return list(json.loads(kid.line)["sysv"])


def test_an_unlinked_object_still_mapped_is_found_by_the_one_read(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make(data=b"still here")
    key = key_of(name)
    pid, maps = start(kids, name, "map-ro")
    _posixshmem.shm_unlink(name)
    obj = full_snapshot().posix.find(*key)
    assert obj is not None
    assert not obj.linked and not obj.in_shm_dir
    assert obj.path.endswith(b" (deleted)")
    assert mappers(obj) == [(pid, maps[0][0], maps[0][1], False)]


def test_a_steady_snapshot_sees_a_mapper_come_and_one_go(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], make_shm: MakeShm
) -> None:
    name = shm.make()
    key = key_of(name)
    segment = make_shm(PAGE)
    first, first_maps = start(kids, name, "map-rw", f"shmat-rw:{segment}")
    with FullCollector() as collector:
        before = collector.snapshot()
        again = collector.snapshot()
        assert mappers(again.posix.find(*key)) == mappers(before.posix.find(*key))
        assert [m[0] for m in mappers(again.posix.find(*key))] == [first]
        second, second_maps = start(kids, name, "map-ro", f"shmat-ro:{segment}")
        grown = collector.snapshot()
        assert mappers(grown.posix.find(*key)) == sorted(
            [(first, *first_maps[0], True), (second, *second_maps[0], False)]
        )
        assert [(p, w) for p, _, w in attachers(grown.sysv, segment)] == sorted(
            [(first, True), (second, False)]
        )
        kids[0].stop()
        shrunk = collector.snapshot()
        assert mappers(shrunk.posix.find(*key)) == [(second, *second_maps[0], False)]
        assert [(p, w) for p, _, w in attachers(shrunk.sysv, segment)] == [(second, False)]
        assert first not in shrunk.posix.processes


def test_the_same_maps_give_the_same_rows_and_a_change_gives_new_ones(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make()
    device = key_of(name)[0]
    pid, _ = start(kids, name, "map-rw")
    last = native.scan_shared_maps([pid], [device])
    assert [row.pid for row in last.files.rows] == [pid]
    same = native.scan_shared_maps([pid], [device], last=last)
    assert same.files.rows is last.files.rows  # the C read the same bytes: no new rows
    other, other_maps = start(kids, name, "map-ro")
    changed = native.scan_shared_maps([pid, other], [device], last=last)
    assert changed.files.rows is not last.files.rows
    assert [(r.pid, r.start, r.writable) for r in changed.files.rows if r.pid == other] == [
        (other, other_maps[0][0], 0)
    ]


def test_rows_that_do_not_fit_are_read_again_and_none_is_lost(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], make_shm: MakeShm
) -> None:
    names = [shm.make(size=PAGE) for _ in range(3)]
    device = key_of(names[0])[0]
    segments = [make_shm(PAGE) for _ in range(3)]
    pids = [
        start(kids, name, "map-rw", "map-ro", *(f"shmat-rw:{s}" for s in segments))[0]
        for name in names
    ]
    ended = _reaped_pid()
    pids.insert(1, ended)  # a pid between them that is gone: its failure is kept too
    roomy = native.scan_shared_maps(pids, [device], capacity=(1024, 1024))
    short = native.scan_shared_maps(pids, [device], capacity=(1, 1))
    assert len(roomy.files.rows) == 6 and len(roomy.sysv.rows) == 9
    assert short.files.rows == roomy.files.rows
    assert short.sysv.rows == roomy.sysv.rows
    assert short.uids == roomy.uids
    assert roomy.uids == {**dict.fromkeys(pids, 0), ended: -errno.ESRCH}
    assert short.sysv.failures == roomy.sysv.failures == {ended: errno.ESRCH}
    assert short.sysv.scanned == len(pids)


def _reaped_pid() -> int:
    """The pid of a child that ended and was reaped (no process has it now, most likely)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_process_that_is_not_dumpable_keeps_its_own_uid(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], make_shm: MakeShm
) -> None:
    name = shm.make()
    os.chown(path_of(name), 65534, 65534)
    segment = make_shm(PAGE, 0o666)
    kid = Kid([*AS_NOBODY, sys.executable, str(TESTS / "pshm_child.py"), path_of(name),
               "nodump", "map-rw", f"shmat-rw:{segment}"])  # fmt: skip
    kids.append(kid)
    pid = json.loads(kid.line)["pid"]
    assert os.stat(f"/proc/{pid}/maps").st_uid == 0  # procfs gives its files to root
    assert os.stat(f"/proc/{pid}").st_uid == 65534  # and its directory to its euid
    full = full_snapshot()
    assert full.posix.processes[pid].uid == 65534
    assert 65534 in full.posix.uids_running  # an owner with a running process: no leak to claim
    assert [m[0] for m in mappers(full.posix.find(*key_of(name)))] == [pid]
    assert full.sysv.processes[pid].user == "nobody"
    assert [p for p, _, _ in attachers(full.sysv, segment)] == [pid]


def test_a_first_snapshot_finds_a_queues_holder_in_its_one_read_of_the_fds(
    maps_reader: MapsReader, mq_queues: Queues, mq_kids: list[MqKid],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    name = mq_queues.make()
    kid = start_mq_kid(mq_kids, name, "r")
    real = native.scan_fds
    scans: list[int] = []

    def counted(
        pids: list[int], devices: list[int], **kwargs: int
    ) -> tuple[list[native.FdRow], dict[int, int]]:
        scans.append(len(pids))
        return real(pids, devices, **kwargs)

    monkeypatch.setattr(native, "scan_fds", counted)
    full = full_snapshot()  # a fresh collector: it knows no queue device from before
    queue = full.queues.named(name)
    assert [(h.pid, h.fd, h.readable) for q in queue for h in q.holders] == [
        (kid.pid, kid.fd, True)
    ]
    # The two workers' halves, and no read of every process's fds for the queues alone
    # (which a first snapshot made when the queues' device was that of a detached mount).
    assert len(scans) == 2


def test_a_holder_on_another_mount_namespaces_dev_shm_is_read_with_the_fds(
    maps_reader: MapsReader, kids: list[Kid], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container's /dev/shm (a tmpfs in the child's own mount namespace), known only from
    the child's mapping: its fd is read in the workers' one read of the fds (and the other
    half's fds on that device alone), and found as PosixCollector finds it on its own."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1)")
    script = 'mount -t tmpfs shmtop-foreign /dev/shm && exec "$0" "$@"'
    kid = Kid(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
               sys.executable, str(TESTS / "pshm_child.py"), "/dev/shm/foreign", "create",
               "map-rw", "hold"])  # fmt: skip
    kids.append(kid)
    pid = json.loads(kid.line)["pid"]
    real = native.scan_fds
    scans: list[list[int]] = []

    def counted(
        pids: list[int], devices: list[int], **kwargs: int
    ) -> tuple[list[native.FdRow], dict[int, int]]:
        scans.append(list(pids))
        return real(pids, devices, **kwargs)

    monkeypatch.setattr(native, "scan_fds", counted)
    full = full_snapshot()
    monkeypatch.undo()
    found = [o for o in full.posix.objects if pid in o.mapper_pids]
    assert len(found) == 1
    holders = [(h.pid, h.fd) for h in found[0].holders]
    assert len(holders) == 1 and holders[0][0] == pid
    with PosixCollector() as alone:  # reads the device's fds on every process again
        again = next(o for o in alone.snapshot().objects if pid in o.mapper_pids)
    assert [(h.pid, h.fd) for h in again.holders] == holders
    # The two halves, then the other half's fds on the new device only: no read of every
    # process's fds again.
    assert len(scans) == 3
    assert scans[2] and all(p % 2 != pid % 2 for p in scans[2])
