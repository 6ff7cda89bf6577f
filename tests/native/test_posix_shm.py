"""POSIX shared memory on real objects and real child processes, on both maps readers.

Objects are made with shm_open (_posixshmem, what multiprocessing.shared_memory uses)
under a prefix of this test run's own and unlinked in teardown. As root the session
runs in a private mount namespace with a fresh tmpfs on /dev/shm (conftest), so the
machine's objects are not in the way either.
"""

from __future__ import annotations

import _posixshmem  # type: ignore[import-not-found]  # what shared_memory uses, no stub
import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_until
from maps_reader import MapsReader
from pshm_kids import (
    AS_NOBODY,
    PAGE,
    PREFIX,
    TESTS,
    Kid,
    NamedSemaphores,
    Objects,
    children,
    next_number,
    objects,
    path_of,
    start,
)

from shmtop.core.binding import native
from shmtop.core.posix import actions, content, verdicts
from shmtop.core.posix.collect import PosixCollector, all_pids, take_snapshot
from shmtop.core.posix.model import SHM_DIR, PosixKind, PosixObject, PosixSnapshot

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")


@pytest.fixture
def shm() -> Iterator[Objects]:
    with objects() as made:
        yield made


@pytest.fixture
def kids() -> Iterator[list[Kid]]:
    with children() as started:
        yield started


def find(snapshot: PosixSnapshot, name: str) -> PosixObject:
    key = _key(name)
    found = snapshot.find(*key)
    assert found is not None, f"{name} not in the snapshot"
    return found


_keys: dict[str, tuple[int, int]] = {}


def _key(name: str) -> tuple[int, int]:
    """(dev, inode) of the object as first seen (recorded at the first look, before any
    unlink: afterwards only the snapshot knows it)."""
    if name not in _keys:
        info = os.stat(path_of(name))
        _keys[name] = (info.st_dev, info.st_ino)
    return _keys[name]


def scan(pids: list[int]) -> PosixSnapshot:
    return take_snapshot([*pids, os.getpid()])


def test_mappers_read_only_and_read_write_and_a_holder_are_what_the_children_did(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make(data=b"hello" * 1000)
    _key(name)
    writer, writer_maps = start(kids, name, "map-rw")
    reader, reader_maps = start(kids, name, "map-ro", "map-ro")
    holder, _ = start(kids, name, "hold")
    snapshot = scan([writer, reader, holder])
    obj = find(snapshot, name)
    assert obj.kind is PosixKind.SHM
    assert obj.linked and obj.in_shm_dir
    assert obj.name == name
    assert obj.size == 3 * PAGE
    assert obj.allocated >= 2 * PAGE  # 5000 bytes written: two pages hold memory
    assert (obj.uid, obj.mode) == (0, 0o600)
    seen = sorted((m.pid, m.start, m.end, m.writable) for m in obj.mappings)
    wanted = sorted(
        [(writer, s, e, True) for s, e in writer_maps]
        + [(reader, s, e, False) for s, e in reader_maps]
    )
    assert seen == wanted
    assert [(h.pid, h.readable, h.writable) for h in obj.holders] == [(holder, True, False)]
    assert holder not in obj.mapper_pids
    assert verdicts.judge(obj, snapshot).status is None


def test_a_c_mapper_is_found_read_only(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid], tmp_path: Path
) -> None:
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler")
    program = tmp_path / "pshm_mapper"
    subprocess.run([compiler, "-O1", "-o", str(program), str(TESTS / "pshm_mapper.c")],
                   check=True)  # fmt: skip
    name = shm.make()
    kid = Kid([str(program), name])
    kids.append(kid)
    pid, begin, end = map(int, kid.line.split())
    obj = find(scan([pid]), name)
    assert [(m.pid, m.start, m.end, m.writable) for m in obj.mappings] == [(pid, begin, end, False)]
    assert obj.holders == ()


def test_an_unlinked_but_mapped_object_is_found_with_its_size_and_mapper(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make(data=b"still here")
    key = _key(name)
    pid, maps = start(kids, name, "map-rw")
    _posixshmem.shm_unlink(name)
    assert not os.path.exists(path_of(name))
    snapshot = scan([pid])
    obj = snapshot.find(*key)
    assert obj is not None
    assert not obj.linked and not obj.in_shm_dir
    assert obj.size == 3 * PAGE and obj.allocated == PAGE
    assert obj.name == name  # the name it had, " (deleted)" dropped
    assert obj.path.endswith(b" (deleted)")
    assert [(m.pid, m.start, m.end) for m in obj.mappings] == [(pid, *maps[0])]
    verdict = verdicts.judge(obj, snapshot)
    assert verdict.status is verdicts.PosixStatus.UNLINKED
    assert f"pid {pid} (python" in verdict.reason
    # read through /proc/PID/map_files: the name is gone
    assert content.read_object(obj, 0, 10) == b"still here"
    removal = actions.remove(obj, snapshot)
    assert removal.outcome is actions.PosixOutcome.REFUSED
    assert f"pid {pid}" in removal.detail and "maps rw" in removal.detail


def test_an_unlinked_object_only_held_open_is_found_through_the_fd(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make(size=PAGE, data=b"held")
    key = _key(name)
    pid, _ = start(kids, name, "hold")
    _posixshmem.shm_unlink(name)
    snapshot = scan([pid])
    obj = snapshot.find(*key)
    assert obj is not None and not obj.linked
    assert obj.mappings == ()
    assert [h.pid for h in obj.holders] == [pid]
    assert content.read_object(obj, 0, 4) == b"held"
    assert verdicts.judge(obj, snapshot).status is verdicts.PosixStatus.UNLINKED


def test_a_truncated_object_reads_empty_and_never_kills_the_reader(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make(data=b"x" * PAGE)
    pid, _ = start(kids, name, "map-ro")
    snapshot = scan([pid])
    obj = find(snapshot, name)
    os.truncate(path_of(name), 0)  # under the child's mapping: touching it would SIGBUS
    assert content.read_object(obj, 0, PAGE) == b""
    assert find(scan([pid]), name).size == 0
    # unlinked and truncated, read through the mapper's map_files
    os.truncate(path_of(name), 10)
    _posixshmem.shm_unlink(name)
    gone = scan([pid]).find(obj.dev, obj.inode)
    assert gone is not None and gone.size == 10
    assert content.read_object(gone, 0, PAGE) == bytes(10)
    assert content.read_object(gone, PAGE * 2, 16) == b""


def test_content_is_read_at_an_offset_and_reading_moves_no_atime(shm: Objects) -> None:
    name = shm.make(data=bytes(range(256)) * 4)
    os.utime(path_of(name), (1_000_000, 2_000_000))
    obj = find(take_snapshot([os.getpid()]), name)
    assert content.read_object(obj, 250, 10) == bytes([250, 251, 252, 253, 254, 255, 0, 1, 2, 3])
    assert os.stat(path_of(name)).st_atime == 1_000_000  # O_NOATIME


def test_removal_refuses_a_replaced_file_of_the_same_name(shm: Objects) -> None:
    name = shm.make()
    snapshot = take_snapshot([os.getpid()])
    obj = find(snapshot, name)
    os.unlink(path_of(name))
    fd = os.open(path_of(name), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)  # same name, new file
    os.close(fd)
    removal = actions.remove(obj, snapshot)
    assert removal.outcome is actions.PosixOutcome.CHANGED
    assert os.path.exists(path_of(name))
    fresh = take_snapshot([os.getpid()])
    new = next(o for o in fresh.objects if o.in_shm_dir and o.name == name)
    assert actions.remove(new, fresh).outcome is actions.PosixOutcome.REMOVED
    assert not os.path.exists(path_of(name))
    assert actions.remove(new, fresh).outcome is actions.PosixOutcome.NOT_FOUND


def test_removing_a_mapped_name_unlinks_it_and_says_who_still_maps_it(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make()
    pid, _ = start(kids, name, "map-rw")
    snapshot = scan([pid])
    removal = actions.remove(find(snapshot, name), snapshot)
    assert removal.outcome is actions.PosixOutcome.UNLINKED_IN_USE
    assert f"pid {pid}" in removal.detail
    assert not os.path.exists(path_of(name))


def test_removal_of_an_idle_choice_refuses_one_written_since(shm: Objects) -> None:
    name = shm.make()
    snapshot = take_snapshot([os.getpid()])
    obj = find(snapshot, name)
    os.truncate(path_of(name), PAGE)
    assert actions.remove(obj, snapshot, idle=True).outcome is actions.PosixOutcome.CHANGED
    assert os.path.exists(path_of(name))


def _unused_uid() -> int:
    running = set()
    for pid in all_pids():
        with contextlib.suppress(FileNotFoundError):  # ended since the listing
            running.add(os.stat(f"/proc/{pid}").st_uid)
    return next(uid for uid in range(61000, 62000) if uid not in running)


def test_the_leak_rule_needs_no_user_an_owner_gone_and_idleness(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    owned_by_nobody = shm.make()
    uid = _unused_uid()
    os.chown(path_of(owned_by_nobody), uid, uid)
    owned_by_root = shm.make()
    mapped = shm.make()
    os.chown(path_of(mapped), uid, uid)
    pid, _ = start(kids, mapped, "map-ro")
    snapshot = take_snapshot()  # every process: the rule needs the whole picture
    later = snapshot.taken_at + 2 * verdicts.DEFAULT_GRACE
    if not snapshot.complete:  # e.g. a pid 1 of another user namespace
        blind = verdicts.judge(find(snapshot, owned_by_nobody), snapshot, now=later)
        assert blind.status is verdicts.PosixStatus.UNUSED
        assert "could not be inspected" in blind.reason
        blind_pids = set(snapshot.uninspected)
        for _ in range(5):  # bounded: a process started meanwhile may be unreadable too
            snapshot = take_snapshot([p for p in all_pids() if p not in blind_pids])
            if snapshot.complete:
                break
            blind_pids |= set(snapshot.uninspected)
        later = snapshot.taken_at + 2 * verdicts.DEFAULT_GRACE
        assert snapshot.complete, snapshot.uninspected
    orphan = verdicts.judge(find(snapshot, owned_by_nobody), snapshot, now=later)
    assert orphan.status is verdicts.PosixStatus.ORPHAN, orphan.reason
    settling = verdicts.judge(find(snapshot, owned_by_nobody), snapshot)
    assert settling.status is verdicts.PosixStatus.UNUSED and "settling" in settling.reason
    root = verdicts.judge(find(snapshot, owned_by_root), snapshot, now=later)
    assert root.status is verdicts.PosixStatus.UNUSED and "uid 0" in root.reason
    busy = verdicts.judge(find(snapshot, mapped), snapshot, now=later)
    assert busy.status is None and f"pid {pid}" in busy.reason


def test_a_full_scan_finds_mappers_and_leaves_out_memfd_and_system_v(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make()
    pid, _ = start(kids, name, "map-rw", "memfd")
    snapshot = take_snapshot()
    assert pid in find(snapshot, name).mapper_pids
    of_kid = [o for o in snapshot.objects if pid in o.mapper_pids]
    assert [o.name for o in of_kid] == [name]  # the memfd (an internal mount) is not listed
    assert snapshot.scanned > 2


def test_a_named_semaphore_is_its_own_kind_with_its_value(
    maps_reader: MapsReader, shm: Objects
) -> None:
    if content.semaphore_layout_known() is not None:
        pytest.skip(content.semaphore_layout_known() or "")
    sems = NamedSemaphores()
    name = f"/{PREFIX}sem{next_number()}"
    sem = sems.open(name, 3)
    shm.names.append("/sem." + name[1:])  # shm_unlink of sem.NAME is sem_unlink
    try:
        for _ in range(2):
            sem.post()
        snapshot = take_snapshot([os.getpid()])
        found = [o for o in snapshot.objects if o.name == name]
        assert [o.kind for o in found] == [PosixKind.SEM]
        assert found[0].semaphore is not None
        assert (found[0].semaphore.value, found[0].semaphore.nwaiters) == (5, 0)
        assert os.getpid() in found[0].mapper_pids
        assert all(o.kind is PosixKind.SHM for o in snapshot.objects if o.name != name)
    finally:
        sem.close()


def test_an_unreadable_route_is_reported_not_guessed(shm: Objects) -> None:
    name = shm.make()
    obj = find(take_snapshot([os.getpid()]), name)
    os.unlink(path_of(name))
    with pytest.raises(content.Unreadable) as refused:
        content.read_object(obj)
    assert refused.value.errno == errno.ENOENT


def test_children_end(kids: list[Kid], shm: Objects) -> None:
    """The fixture's own check: a stopped child no longer maps anything."""
    name = shm.make()
    pid, _ = start(kids, name, "map-ro")
    kids[0].stop()
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), "the child goes")


def test_the_session_has_a_private_dev_shm() -> None:
    """conftest's fresh tmpfs: the machine's /dev/shm objects are not in this session's."""
    with open("/proc/self/mountinfo", "rb") as info:
        mounts = [line.split(b" - ")[1].split() for line in info if b" /dev/shm " in line]
    assert mounts[-1][:2] == [b"tmpfs", b"shmtop-tests"]


def test_a_dev_shm_of_another_mount_namespace_is_found_through_its_mappers_maps(
    maps_reader: MapsReader, kids: list[Kid]
) -> None:
    """A container's /dev/shm: a tmpfs mounted in the child's own mount namespace only."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1)")
    script = 'mount -t tmpfs shmtop-foreign /dev/shm && exec "$0" "$@"'
    kid = Kid(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
               sys.executable, str(TESTS / "pshm_child.py"), "/dev/shm/sem.foreign", "create",
               "map-rw"])  # fmt: skip
    kids.append(kid)
    said = json.loads(kid.line)
    snapshot = take_snapshot([said["pid"]])
    found = [o for o in snapshot.objects if said["pid"] in o.mapper_pids]
    assert len(found) == 1
    obj = found[0]
    assert obj.path == b"/dev/shm/sem.foreign"  # as the mapper sees it
    assert obj.linked and not obj.in_shm_dir  # not a name in *our* /dev/shm
    assert obj.kind is PosixKind.SEM  # sem.NAME in a /dev/shm: glibc's, a container's
    assert obj.semaphore is not None and obj.semaphore.problem is not None  # 4096 bytes
    mount = next(m for m in snapshot.mounts if m.dev == obj.dev)
    assert (mount.fstype, mount.mount_point) == ("tmpfs", "")
    assert content.read_object(obj, 0, 7) == b"foreign"
    assert actions.remove(obj, snapshot).outcome is actions.PosixOutcome.REFUSED


def test_a_scan_short_of_room_reads_again_only_the_processes_that_did_not_fit(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    """Five children of 7 mappings each, a gone pid among them, and room for 10 rows: the
    rows and failures equal a scan with room for all; the second pass starts at the process
    whose rows were cut (its first rows are not kept twice)."""
    name = shm.make(size=PAGE)
    pids = [start(kids, name, *["map-ro"] * 7)[0] for _ in range(5)]
    gone = Kid([sys.executable, "-c", "print()"])
    gone.stop()
    pids.insert(1, gone.pid)  # before the cut: its failure is the first pass's
    device = _key(name)[0]
    calls: list[int] = []
    lib: Any = vars(native)["lib"]
    real = lib.shmtop_scan_fmaps

    def counting(*args: Any) -> int:
        calls.append(args[1])  # the number of pids
        return int(real(*args))

    roomy = native.scan_file_maps(pids, [device], capacity=1024)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(native, "lib", _LibWith(lib, counting))
        short = native.scan_file_maps(pids, [device], capacity=10)
    assert len(roomy.rows) == 35
    assert short.rows == roomy.rows
    assert short.failures == roomy.failures == {gone.pid: errno.ESRCH}
    assert calls == [6, 4]  # rows 1-10: children 1 and 2 (cut); again from child 2 on


class _LibWith:
    """native.lib with shmtop_scan_fmaps replaced (the cffi lib object cannot be patched)."""

    def __init__(self, lib: object, scan: object) -> None:
        self._lib, self.shmtop_scan_fmaps = lib, scan

    def __getattr__(self, name: str) -> object:
        return getattr(self._lib, name)


def test_one_thread_and_two_find_the_same(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make()
    pid, _ = start(kids, name, "map-rw", "hold")
    seen = []
    for threads in (1, 2):
        with PosixCollector(threads=threads) as collector:
            obj = find(collector.snapshot([pid]), name)
        seen.append((obj.mappings, obj.holders))
    assert seen[0] == seen[1]
    assert [m.pid for m in seen[0][0]] == [pid] and [h.pid for h in seen[0][1]] == [pid]


_REPORT = """
import json, sys
from shmtop.core.posix.collect import take_snapshot
snapshot = take_snapshot([int(sys.argv[1])])
print(json.dumps({"reader": snapshot.reader, "objects": [
    [o.inode, o.linked, o.stat_known, o.size, list(o.mapper_pids)]
    for o in snapshot.objects if o.mappings]}))
"""


def test_without_privilege_an_unlinked_mapped_object_is_still_shown_with_what_is_known(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    """No CAP_SYS_ADMIN: map_files cannot be opened, so nothing can stat the unlinked object;
    it is listed anyway, its size from the mapping, its owner and times unknown."""
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv(1)")
    name = shm.make(size=2 * PAGE)
    key = _key(name)
    os.chown(path_of(name), 65534, 65534)
    kid = Kid([*AS_NOBODY, sys.executable, str(TESTS / "pshm_child.py"), path_of(name),
               "map-rw"])  # fmt: skip
    kids.append(kid)
    pid = json.loads(kid.line)["pid"]
    _posixshmem.shm_unlink(name)
    env = {**os.environ, **maps_reader.env}
    run = subprocess.run([*AS_NOBODY, sys.executable, "-c", _REPORT, str(pid)],
                         capture_output=True, env=env, check=True, timeout=60)  # fmt: skip
    said = json.loads(run.stdout)
    maps_reader.used.append(said["reader"])  # the scan ran in the subprocess
    assert said["objects"] == [[key[1], False, False, 2 * PAGE, [pid]]]
    # root sees it whole
    obj = scan([pid]).find(*key)
    assert obj is not None and obj.stat_known and obj.uid == 65534


_CHURN = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.prctl(1, 9)
prefix = sys.argv[1]
print("go", flush=True)
i = 0
while True:
    path = f"{prefix}{i % 8}"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.ftruncate(fd, 4096 * (1 + i % 3))
    address = libc.mmap(None, 4096, 3, 1, fd, 0)
    os.close(fd)
    if i % 2:
        os.unlink(path)
    os.truncate(path, 0) if os.path.exists(path) else None
    libc.munmap(ctypes.c_void_p(address), 4096)
    i += 1
"""


def test_scans_and_reads_survive_objects_that_change_under_them(
    maps_reader: MapsReader, kids: list[Kid]
) -> None:
    """A child creates, maps, truncates, unlinks and unmaps objects in a loop while we scan
    and read them: no scan or read may fail, whatever it finds."""
    prefix = f"{SHM_DIR}/{PREFIX}churn-"
    kid = Kid([sys.executable, "-c", _CHURN, prefix])
    kids.append(kid)
    seen = 0
    try:
        for _ in range(30):
            snapshot = scan([kid.pid])
            for obj in snapshot.objects:
                if not obj.path.startswith(prefix.encode()):
                    continue
                seen += 1
                assert obj.size >= 0 and obj.allocated >= 0
                with contextlib.suppress(content.Unreadable):
                    assert len(content.read_object(obj, 0, 8192)) <= 3 * 4096
    finally:
        kid.stop()
        for name in os.listdir(SHM_DIR):
            if name.startswith(f"{PREFIX}churn-"):
                os.unlink(f"{SHM_DIR}/{name}")
    assert seen > 0


def test_both_readers_name_an_unlinked_object_with_a_newline_alike(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    name = shm.make()
    hostile = f"{name}\nsecond line\x1b[2J"
    os.rename(path_of(name), path_of(hostile))
    shm.names.append(hostile)
    key = _key(hostile)
    pid, _ = start(kids, hostile, "map-ro")
    _posixshmem.shm_unlink(hostile)
    obj = scan([pid]).find(*key)
    assert obj is not None and not obj.linked
    assert obj.name == hostile  # the bytes, whichever reader (text writes \n as \012)


def test_more_mappings_than_the_first_buffer_holds_are_all_found(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    """1300 mappings of one object: past the scan's first 1024 rows, so it reads again."""
    name = shm.make(size=PAGE)
    pid, maps = start(kids, name, *["map-ro"] * 1300)
    obj = find(scan([pid]), name)
    assert sorted((m.start, m.end) for m in obj.mappings) == sorted(map(tuple, maps))
    assert len(obj.mappings) == 1300


def test_a_name_reused_by_a_new_object_is_two_objects_each_with_its_own_mappers(
    maps_reader: MapsReader, shm: Objects, kids: list[Kid]
) -> None:
    """Joined on (device, inode), never on the path: the old object, unlinked, keeps its
    mapper; the new one under the same name has its own."""
    name = shm.make(size=PAGE)
    old_key = _key(name)
    old_pid, _ = start(kids, name, "map-rw")
    _posixshmem.shm_unlink(name)
    fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.ftruncate(fd, 2 * PAGE)
    os.close(fd)
    new_pid, _ = start(kids, name, "map-ro")
    snapshot = scan([old_pid, new_pid])
    both = [o for o in snapshot.objects if o.name == name]
    assert len(both) == 2
    old = next(o for o in both if o.key == old_key)
    new = next(o for o in both if o.key != old_key)
    assert (old.linked, old.size, old.mapper_pids) == (False, PAGE, (old_pid,))
    assert (new.linked, new.size, new.mapper_pids) == (True, 2 * PAGE, (new_pid,))


def test_a_named_semaphore_is_joined_through_the_creators_temporary_name(shm: Objects) -> None:
    """glibc maps a new semaphore under a temporary name (sem.XXXXXX, unlinked once linked to
    sem.NAME): the creator's maps show that name, the same inode joins it."""
    if content.semaphore_layout_known() is not None:
        pytest.skip(content.semaphore_layout_known() or "")
    sems = NamedSemaphores()
    name = f"/{PREFIX}tmp{next_number()}"
    sem = sems.open(name, 1)
    shm.names.append("/sem." + name[1:])
    try:
        key = _key("/sem." + name[1:])
        rows = native.scan_file_maps([os.getpid()], [key[0]]).rows
        names = [r.name for r in rows if (r.dev, r.inode) == key]
        assert len(names) == 1 and names[0] != path_of("/sem." + name[1:]).encode()
        assert names[0].startswith(b"/dev/shm/sem.") and names[0].endswith(b" (deleted)")
        obj = take_snapshot([os.getpid()]).find(*key)
        assert obj is not None and obj.linked and obj.kind is PosixKind.SEM
        assert obj.mapper_pids == (os.getpid(),)
    finally:
        sem.close()
