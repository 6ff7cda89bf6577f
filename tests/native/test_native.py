"""The compiled binding (core.binding.native) against real kernel objects and real processes."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import helpers
import pytest
from helpers import MakeMsg, MakeSem, MakeShm, Spawn
from maps_reader import MapsReader
from paths import TESTS

from shmtop.core.binding import native
from shmtop.core.snapshot import procfs

# ---- shared memory ----


def test_shm_stat_of_a_new_segment(make_shm: MakeShm) -> None:
    shmid = make_shm(size=12288, mode=0o640)

    stat = native.shm_stat(shmid)

    assert stat.id == shmid
    assert stat.key == 0  # IPC_PRIVATE
    assert stat.size == 12288
    assert stat.mode == 0o640  # no DEST, no LOCKED, and HUGETLB/NORESERVE never stored
    assert stat.cpid == os.getpid()
    assert (stat.uid, stat.cuid, stat.gid, stat.cgid) == (os.geteuid(),) * 2 + (os.getegid(),) * 2
    assert (stat.nattch, stat.lpid, stat.atime, stat.dtime) == (0, 0, 0, 0)
    assert stat.ctime > 0


def test_attaching_raises_nattch_and_sets_lpid_atime_detaching_sets_dtime(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm()

    with native.attached(shmid):  # read-only: observing still changes what is observed
        during = native.shm_stat(shmid)
    after = native.shm_stat(shmid)
    child = spawn(attach=[(shmid, False)])
    by_child = native.shm_stat(shmid)

    assert (during.nattch, during.lpid) == (1, os.getpid())
    assert during.atime >= during.ctime > 0
    assert (after.nattch, after.lpid) == (0, os.getpid())
    assert after.dtime >= during.atime
    assert (by_child.nattch, by_child.lpid) == (1, child.pid)
    assert by_child.cpid == os.getpid()  # the creator stays the creator


def test_shm_stat_all_agrees_with_proc_sysvipc(make_shm: MakeShm, spawn: Spawn) -> None:
    plain = make_shm(size=4096, mode=0o600)
    shared = make_shm(size=3 * 4096, mode=0o644)
    removed = make_shm(size=8192, mode=0o660)
    spawn(attach=[(shared, True), (removed, False)])
    native.shm_rmid(removed)  # still attached: stays listed, marked SHM_DEST
    ours = {plain, shared, removed}

    table = {shmid: row for shmid, row in helpers.live_rows("shm").items() if shmid in ours}
    by_any = {s.id: s for s in native.shm_stat_all() if s.id in ours}
    by_stat = {s.id: s for s in native.shm_stat_all(any_permission=False) if s.id in ours}

    assert set(table) == set(by_any) == set(by_stat) == ours
    for shmid in ours:
        row, stat = table[shmid], by_any[shmid]
        assert (stat.key, stat.mode, stat.size, stat.cpid, stat.lpid, stat.nattch) == (
            row["key"], row["perms"], row["size"], row["cpid"], row["lpid"], row["nattch"]
        )  # fmt: skip
        assert (stat.uid, stat.gid, stat.cuid, stat.cgid) == (
            row["uid"], row["gid"], row["cuid"], row["cgid"]
        )  # fmt: skip
        assert (stat.atime, stat.dtime, stat.ctime) == (row["atime"], row["dtime"], row["ctime"])
        assert by_stat[shmid] == stat
    assert by_any[removed].mode == native.SHM_DEST | 0o660
    assert (by_any[removed].nattch, by_any[shared].nattch, by_any[plain].nattch) == (1, 1, 0)


def test_read_segment_reads_what_a_writer_wrote_and_detaches(make_shm: MakeShm) -> None:
    shmid = make_shm(size=8192)
    address = helpers.libc_shmat(shmid, writable=True)  # written through plain libc
    try:
        ctypes.memmove(address + 4096, b"shmtop\x1b[41m", 11)
    finally:
        helpers.libc_shmdt(address)

    assert native.read_segment(shmid, 4096, 11) == b"shmtop\x1b[41m"
    assert native.read_segment(shmid, 0, 4) == b"\0\0\0\0"
    assert native.shm_stat(shmid).nattch == 0


def test_shm_limits_agree_with_proc_sys(make_shm: MakeShm) -> None:
    make_shm()
    limits, usage = native.shm_limits()

    assert limits["shmmni"] == int(Path("/proc/sys/kernel/shmmni").read_text())
    assert limits["shmmax"] == int(Path("/proc/sys/kernel/shmmax").read_text())
    assert limits["shmall"] == int(Path("/proc/sys/kernel/shmall").read_text())
    assert usage["used_ids"] >= 1


# ---- semaphores ----


def test_semop_changes_values_and_the_last_pid(make_sem: MakeSem) -> None:
    semid = make_sem(3)

    native.sem_setall(semid, [3, 0, 7])
    set_values = native.sem_values([(semid, 3)])
    native.semop(semid, [(0, -1, 0), (2, 2, 0)])
    after = native.sem_values([(semid, 3)])

    me = os.getpid()
    assert set_values == [[(3, 0, 0, me), (0, 0, 0, me), (7, 0, 0, me)]]  # SETALL sets sempid
    assert after == [[(2, 0, 0, me), (0, 0, 0, me), (9, 0, 0, me)]]
    assert native.sem_getall(semid, 3) == [2, 0, 9]
    assert [native.sem_getval(semid, n) for n in range(3)] == [2, 0, 9]
    assert native.sem_counts(semid, 2) == (0, 0, me)


def test_sem_setval_and_the_table_agree_with_proc(make_sem: MakeSem) -> None:
    semid = make_sem(4, mode=0o640)
    native.sem_setval(semid, 3, 32767)  # SEMVMX

    rows = {row.id: row for row in native.sem_table()}
    proc = helpers.live_rows("sem")[semid]

    assert native.sem_getall(semid, 4) == [0, 0, 0, 32767]
    _, key, uid, gid, cuid, cgid, mode, nsems, otime, ctime = rows[semid]
    assert (key, mode, nsems, otime) == (0, 0o640, 4, 0)  # SETVAL is no semop: otime stays 0
    assert (key, uid, gid, cuid, cgid, mode, nsems, otime, ctime) == (
        proc["key"], proc["uid"], proc["gid"], proc["cuid"], proc["cgid"], proc["perms"],
        proc["nsems"], proc["otime"], proc["ctime"],
    )  # fmt: skip


def test_a_blocked_semop_shows_in_ncnt_and_a_wait_for_zero_in_zcnt(
    make_sem: MakeSem, spawn: Spawn
) -> None:
    semid = make_sem(3)
    native.sem_setall(semid, [1, 0, 2])

    decrementer = spawn(name="shmtop-dec", semop=(semid, 1, -1))
    helpers.wait_until(
        lambda: native.sem_counts(semid, 1)[0] == 1, "the child waits on semaphore 1"
    )
    zero_waiter = spawn(name="shmtop-zero", semop=(semid, 2, 0))
    helpers.wait_until(
        lambda: native.sem_counts(semid, 2)[1] == 1, "the child waits for semaphore 2 to be 0"
    )
    waiting = native.sem_values([(semid, 3)])
    decrementer.stop()
    zero_waiter.stop()
    after = native.sem_values([(semid, 3)])

    me = os.getpid()  # a blocked operation changes neither value nor sempid
    assert waiting == [[(1, 0, 0, me), (0, 1, 0, me), (2, 0, 1, me)]]
    assert after == [[(1, 0, 0, me), (0, 0, 0, me), (2, 0, 0, me)]]


def test_sem_values_reports_an_unreadable_set_in_place(make_sem: MakeSem) -> None:
    kept, gone = make_sem(1), make_sem(2)
    native.sem_rmid(gone)

    values = native.sem_values([(kept, 1), (gone, 2), (kept, 1)])

    assert values[0] == values[2] == [(0, 0, 0, 0)]
    error = values[1]
    assert isinstance(error, OSError)
    assert error.errno == errno.EINVAL
    assert f"semid={gone}" in str(error)
    assert native.sem_values([]) == []


def test_sem_values_flags_a_count_the_set_no_longer_has(make_sem: MakeSem) -> None:
    semid = make_sem(64)
    native.sem_setall(semid, [n % 7 for n in range(64)])

    stale_small, stale_big, right = native.sem_values([(semid, 2), (semid, 100), (semid, 64)])

    # A set's size never changes: another count means the set it was read for is gone.
    for stale in (stale_small, stale_big):
        assert isinstance(stale, OSError)
        assert stale.errno == errno.EIDRM
    assert right == [(n % 7, 0, 0, os.getpid()) for n in range(64)]


NEXT_SEM_ID = Path("/proc/sys/kernel/sem_next_id")


@pytest.mark.skipif(not NEXT_SEM_ID.exists(), reason="needs sem_next_id (CHECKPOINT_RESTORE)")
def test_sem_values_of_an_id_reused_by_a_bigger_set(make_sem: MakeSem) -> None:
    """The table said 2 semaphores; by the values read the id names a set of 64."""
    small = make_sem(2)
    table = {row.id: row.nsems for row in native.sem_table()}
    native.sem_rmid(small)
    NEXT_SEM_ID.write_text(str(small))  # the next semget takes this id (the kernel resets it)
    bigger = make_sem(64)
    assert bigger == small
    assert NEXT_SEM_ID.read_text().strip() == "-1"
    native.sem_setall(bigger, [9] * 64)

    [values] = native.sem_values([(small, table[small])])

    assert isinstance(values, OSError)
    assert values.errno == errno.EIDRM  # the collector drops it as removed, as it was
    assert native.sem_values([(bigger, 64)]) == [[(9, 0, 0, os.getpid())] * 64]


SEM_LIMITS = Path("/proc/sys/kernel/sem")
BIG_SET = 40000  # more than the 32000 values the old reader had room for on its stack
BIG_SET_VALUES = """
import json, sys
from shmtop.core.binding import native
semid = int(sys.argv[1])
stale, right = native.sem_values([(semid, 2), (semid, int(sys.argv[2]))])
assert isinstance(stale, OSError) and not isinstance(right, OSError)
print(json.dumps({"stale": stale.errno, "values": [v[0] for v in right],
                  "pids": sorted({v[3] for v in right})}))
"""


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to raise SEMMSL")
def test_sem_values_of_a_set_bigger_than_any_fixed_buffer(make_sem: MakeSem) -> None:
    """SEMMSL raised in the session's own IPC namespace; read in a child so that an
    overflow shows as a crashed child, not a crashed test run."""
    limits = SEM_LIMITS.read_text()
    semmsl, *rest = limits.split()
    SEM_LIMITS.write_text(" ".join([str(BIG_SET), *rest]))
    try:
        semid = make_sem(BIG_SET)
    finally:
        SEM_LIMITS.write_text(limits)
    assert int(semmsl) < BIG_SET
    native.sem_setall(semid, [n % 32768 for n in range(BIG_SET)])

    done = subprocess.run(
        [sys.executable, "-c", BIG_SET_VALUES, str(semid), str(BIG_SET)],
        capture_output=True, text=True, timeout=helpers.PATIENCE, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["stale"] == errno.EIDRM
    assert seen["values"] == [n % 32768 for n in range(BIG_SET)]
    assert seen["pids"] == [os.getpid()]


# ---- message queues ----


def test_msgsnd_raises_qnum_and_cbytes(make_msg: MakeMsg) -> None:
    msqid = make_msg(mode=0o620)
    before = {row.id: row for row in native.msg_table()}[msqid]

    native.msgsnd(msqid, 5, b"abc")
    native.msgsnd(msqid, 7, b"defgh")
    row = {row.id: row for row in native.msg_table()}[msqid]
    proc = helpers.live_rows("msg")[msqid]

    _, key, uid, gid, cuid, cgid, mode, cbytes, qnum, qbytes, lspid, lrpid, *_ = row
    assert (before.cbytes, before.qnum, before.lspid) == (0, 0, 0)
    assert (key, mode, cbytes, qnum, lspid, lrpid) == (0, 0o620, 8, 2, os.getpid(), 0)
    assert qbytes == native.msg_limits()[0]["msgmnb"]  # a new queue gets MSGMNB
    assert (cbytes, qnum, lspid, lrpid, mode, uid, cuid) == (
        proc["cbytes"], proc["qnum"], proc["lspid"], proc["lrpid"], proc["perms"],
        proc["uid"], proc["cuid"],
    )  # fmt: skip
    assert (gid, cgid) == (proc["gid"], proc["cgid"])


def test_msg_copy_peeks_without_consuming(make_msg: MakeMsg) -> None:
    msqid = make_msg()
    native.msgsnd(msqid, 5, b"abc")
    native.msgsnd(msqid, 7, b"defgh")
    peek = native.MSG_COPY | native.IPC_NOWAIT

    def header() -> tuple[int, ...]:
        row = {row.id: row for row in native.msg_table()}[msqid]
        return row.cbytes, row.qnum, row.lrpid, row.rtime

    before = header()
    copies = [native.msgrcv(msqid, 64, index, peek) for index in (0, 1, 0)]
    with pytest.raises(OSError) as past_the_end:
        native.msgrcv(msqid, 64, 2, peek)
    peeked = header()
    received = native.msgrcv(msqid, 64, 0, native.IPC_NOWAIT)  # a real receive, for contrast
    consumed = header()

    assert copies == [(5, b"abc"), (7, b"defgh"), (5, b"abc")]
    assert past_the_end.value.errno == errno.ENOMSG
    assert peeked == before == (8, 2, 0, 0)
    assert received == (5, b"abc")
    assert consumed[:3] == (5, 1, os.getpid())
    assert consumed[3] > 0


def test_msg_limits_agree_with_proc_sys(make_msg: MakeMsg) -> None:
    msqid = make_msg()
    native.msgsnd(msqid, 1, b"x" * 10)
    limits, usage = native.msg_limits()

    for name in ("msgmni", "msgmax", "msgmnb"):
        assert limits[name] == int(Path(f"/proc/sys/kernel/{name}").read_text())
    assert usage["queues"] >= 1
    assert usage["messages"] >= 1
    assert usage["bytes"] >= 10


# ---- errors ----


def test_errors_keep_errno_and_name_the_call(make_shm: MakeShm, make_msg: MakeMsg) -> None:
    shmid = make_shm()
    native.shm_rmid(shmid)  # nobody attached: gone at once
    msqid = make_msg()
    native.msg_rmid(msqid)

    with pytest.raises(OSError) as shm_error:
        native.shm_rmid(shmid)
    with pytest.raises(OSError) as stat_error:
        native.shm_stat(shmid)
    with pytest.raises(OSError) as msg_error:
        native.msgsnd(msqid, 1, b"x")
    with pytest.raises(OSError) as attach_error:
        native.shmat(shmid)

    assert shm_error.value.errno == errno.EINVAL
    assert f"shmctl(shmid={shmid}, IPC_RMID)" in str(shm_error.value)
    assert stat_error.value.errno == errno.EINVAL
    assert f"shmctl(shmid={shmid}, IPC_STAT)" in str(stat_error.value)
    assert msg_error.value.errno == errno.EINVAL
    assert f"msgsnd(msqid={msqid})" in str(msg_error.value)
    assert attach_error.value.errno == errno.EINVAL
    assert f"shmat(shmid={shmid})" in str(attach_error.value)


def _free_high_key() -> int:
    """A key with the top bit set (negative as key_t) that no segment has now."""
    taken = {row["key"] for row in helpers.live_rows("shm").values()}
    chooser = random.SystemRandom()
    return next(
        k for k in iter(lambda: chooser.randrange(1 << 31, 1 << 32), None) if k not in taken
    )


def test_a_key_as_snapshots_report_it_can_be_looked_up() -> None:
    key = _free_high_key()
    with pytest.raises(FileNotFoundError):  # look up only (no IPC_CREAT): never creates
        native.shmget(key, 0, 0)
    assert key not in {row["key"] for row in helpers.live_rows("shm").values()}
    shmid = helpers.record(
        "shm", native.shmget(key, 4096, native.IPC_CREAT | native.IPC_EXCL | 0o600)
    )
    try:
        reported = native.shm_stat(shmid).key
        assert reported == key == helpers.live_rows("shm")[shmid]["key"]  # unsigned, as reported
        assert native.shmget(reported, 0, 0) == shmid
        assert native.shmget(key - (1 << 32), 0, 0) == shmid  # the signed form names it too
    finally:
        helpers.remove("shm", shmid)


# ---- which processes map which segment ----


def test_scan_maps_finds_what_the_child_attached(
    make_shm: MakeShm, spawn: Spawn, maps_reader: MapsReader
) -> None:
    writable = make_shm(size=2 * 4096)
    readonly = make_shm(size=4096)
    child = spawn(attach=[(writable, True), (readonly, False)])

    scan = native.scan_maps([child.pid])
    maps = Path(f"/proc/{child.pid}/maps").read_text()
    parsed = [(child.pid, m.start, m.end, int(m.writable), m.shmid)
              for m in procfs.parse_sysv_mappings(maps)]  # fmt: skip

    assert scan.reader == maps_reader.name
    assert scan.rows == parsed
    assert sorted((shmid, w) for *_, w, shmid in scan.rows) == sorted(
        [(writable, 1), (readonly, 0)]
    )
    starts = {shmid: start for _, start, _, _, shmid in scan.rows}
    assert [starts[writable], starts[readonly]] == child.report["addresses"]
    sizes = {shmid: end - start for _, start, end, _, shmid in scan.rows}
    assert sizes == {writable: 2 * 4096, readonly: 4096}
    assert (scan.failures, scan.scanned) == ({}, 1)


def test_scan_maps_takes_the_reader_per_call(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm()
    child = spawn(attach=[(shmid, True)])
    was = native.procmap_query_enabled()
    native.use_procmap_query(True)  # the process-wide choice: each call may override it
    try:
        by_text = native.scan_maps([child.pid], reader=native.TEXT)
        by_default = native.scan_maps([child.pid])
        native.use_procmap_query(False)
        forced = native.scan_maps([child.pid])
    finally:
        native.use_procmap_query(was)

    assert by_text.reader == forced.reader == native.TEXT
    assert by_default.reader in native.READERS  # the ioctl, where the kernel has it
    assert by_text.rows == by_default.rows == forced.rows
    assert [row.shmid for row in by_text.rows] == [shmid]
    with pytest.raises(ValueError, match="unknown maps reader"):
        native.scan_maps([child.pid], reader="ioctl")


def test_scan_maps_stops_once_it_found_what_it_wants_and_reports_the_gone(
    make_shm: MakeShm, spawn: Spawn, maps_reader: MapsReader
) -> None:
    shmid = make_shm()
    first = spawn(name="shmtop-one", attach=[(shmid, True)])
    second = spawn(name="shmtop-two", attach=[(shmid, False)])
    gone = spawn(name="shmtop-gone", exit_after_report=True)
    gone.wait_exit()

    everything = native.scan_maps([gone.pid, first.pid, second.pid])
    enough = native.scan_maps([first.pid, second.pid], want=1)

    assert [(pid, w, s) for pid, _, _, w, s in everything.rows] == [
        (first.pid, 1, shmid),
        (second.pid, 0, shmid),
    ]
    assert everything.failures == {gone.pid: errno.ESRCH}
    assert everything.scanned == 3
    assert [row.pid for row in enough.rows] == [first.pid]
    assert enough.scanned == 1
    assert everything.reader == enough.reader == maps_reader.name


# ---- the session's own safety net must be able to fail ----

INNER_LEAK = """
import helpers
from shmtop.core.binding import native


def test_cleans_up(make_shm) -> None:
    make_shm()


def test_leaks() -> None:
    shmid = native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600)
    helpers.record("shm", shmid)
    print("LEAKED", shmid)
"""

INNER_CLEAN = """
def test_cleans_up(make_shm, make_sem, make_msg) -> None:
    make_shm()
    make_sem(2)
    make_msg()
"""


def test_the_session_fails_when_an_object_outlives_it(pytester: pytest.Pytester) -> None:
    here = TESTS
    pytester.makeconftest((here / "conftest.py").read_text())
    pytester.makepyfile(helpers=(here / "helpers.py").read_text())
    pytester.makepyfile(maps_reader=(here / "maps_reader.py").read_text())
    pytester.makepyfile(snapshot_pin=(here / "snapshot_pin.py").read_text())
    pytester.makepyfile(futex_kids=(here / "futex_kids.py").read_text())  # a conftest plugin
    pytester.makepyfile(pmq_kids=(here / "pmq_kids.py").read_text())  # another
    pytester.makepyfile(test_inner=INNER_CLEAN)
    clean = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    pytester.makepyfile(test_inner=INNER_LEAK)
    leaky = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    found = re.search(r"LEAKED (\d+)\b", leaky.stdout.str())
    leaked = int(found.group(1)) if found else None
    if leaked is not None:
        helpers.record("shm", leaked)  # the outer check catches it if the inner one did not
    try:
        assert clean.ret == 0
        clean.assert_outcomes(passed=1)
        assert leaked is not None, leaky.stdout.str()
        assert leaky.ret == 1
        leaky.assert_outcomes(passed=2, errors=1)
        message = "System V objects the tests created outlived the session"
        leaky.stdout.fnmatch_lines([f"*{message}: shm {leaked} (removed now)*"])
        assert leaked not in helpers.live_rows("shm")  # and it cleaned up after itself
    finally:
        if leaked is not None:
            helpers.remove("shm", leaked)


def test_ipc_namespaces_tells_ours_from_another_and_from_a_gone_process(spawn: Spawn) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to make an IPC namespace")
    ours = os.stat("/proc/self/ns/ipc").st_ino
    child = spawn(name="ns-ours")
    ended = subprocess.Popen(["true"])
    ended.wait()  # reaped: its PID names nobody now
    other = subprocess.Popen(["unshare", "--ipc", "sleep", "60"], stdin=subprocess.DEVNULL)
    try:
        helpers.wait_until(
            lambda: os.stat(f"/proc/{other.pid}/ns/ipc").st_ino != ours, "unshare's namespace"
        )
        theirs = os.stat(f"/proc/{other.pid}/ns/ipc").st_ino
        found = native.ipc_namespaces([os.getpid(), child.pid, other.pid, ended.pid])
    finally:
        other.kill()
        other.wait()
    assert found == [ours, ours, theirs, None]
    assert native.ipc_namespaces([]) == []
