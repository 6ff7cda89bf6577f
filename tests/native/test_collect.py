"""Collector().snapshot() against real objects and real child processes."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import helpers
import pytest
from helpers import MakeMsg, MakeSem, MakeShm, Spawn
from maps_reader import MapsReader

import shmtop
from shmtop.core.binding import native
from shmtop.core.model import Segment, Semaphore, Snapshot
from shmtop.core.snapshot.collect import Collector
from shmtop.core.verdicts import Status, judge

ME = os.getpid()


def segment(snapshot: Snapshot, shmid: int) -> Segment:
    found = snapshot.segment(shmid)
    if found is None:  # LookupError, not AssertionError: see helpers.wait_until
        raise LookupError(f"segment {shmid} missing from the snapshot")
    return found


def attachers(seg: Segment) -> set[tuple[int, bool, str]]:
    """(pid, writable, command) of every mapping: what the processes did, order aside."""
    return {(a.pid, a.writable, a.command) for a in seg.attachments}


# ---- who is attached ----


@pytest.mark.usefixtures("maps_reader")
def test_attachments_are_what_the_children_did(make_shm: MakeShm, spawn: Spawn) -> None:
    first = make_shm(size=2 * 4096)
    second = make_shm()
    one = spawn(name="shmtop-one", attach=[(first, True), (second, False)])
    two = spawn(name="shmtop-two", attach=[(first, False)])

    with native.attached(second):  # the viewer itself, read-only
        snapshot = Collector().snapshot()

    a, b = segment(snapshot, first), segment(snapshot, second)
    assert attachers(a) == {(one.pid, True, "shmtop-one"), (two.pid, False, "shmtop-two")}
    assert attachers(b) == {(one.pid, False, "shmtop-one"), (ME, False, snapshot.command_of(ME))}
    assert (a.nattch, b.nattch) == (len(a.attachments), len(b.attachments)) == (2, 2)
    assert [x.is_self for x in b.attachments if x.pid == ME] == [True]
    assert not any(x.is_self for x in a.attachments)
    starts = {(x.pid, x.start, x.end - x.start) for x in a.attachments}
    assert starts == {(one.pid, one.report["addresses"][0], 2 * 4096),
                      (two.pid, two.report["addresses"][0], 2 * 4096)}  # fmt: skip
    assert {x.user for x in a.attachments} == {pwd.getpwuid(os.geteuid()).pw_name}
    assert snapshot.viewer_pid == ME
    assert snapshot.ipc_namespace == os.stat("/proc/self/ns/ipc").st_ino


@pytest.mark.usefixtures("maps_reader")
def test_a_removed_segment_stays_listed_with_its_attacher(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm(mode=0o640)
    child = spawn(attach=[(shmid, True)])
    native.shm_rmid(shmid)  # IPC_RMID while attached: key 0, SHM_DEST, lives on

    snapshot = Collector().snapshot()
    seg = segment(snapshot, shmid)

    assert seg.owner.key == 0
    assert seg.dest
    assert seg.owner.mode == native.SHM_DEST | 0o640
    assert seg.owner.perms == 0o640
    assert seg.flags == ("dest",)
    assert judge(seg, snapshot, now=snapshot.taken_at + 3600).status is None
    assert seg.nattch == 1
    assert attachers(seg) == {(child.pid, True, child.name)}


@pytest.mark.usefixtures("maps_reader")
def test_a_fork_inherits_the_attachment(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm()
    child = spawn(name="shmtop-fork", attach=[(shmid, True)], forks=1)
    [grandchild] = child.grandchildren

    snapshot = Collector().snapshot()
    seg = segment(snapshot, shmid)

    assert seg.nattch == 2
    assert attachers(seg) == {(child.pid, True, "shmtop-fork"), (grandchild, True, "shmtop-fork-g")}
    assert {a.start for a in seg.attachments} == {child.report["addresses"][0]}  # same address
    assert seg.lpid == child.pid  # the fork attaches in the parent's name
    assert snapshot.command_of(grandchild) == "shmtop-fork-g"


@pytest.mark.usefixtures("maps_reader")
def test_the_next_snapshot_drops_an_attacher_that_exited(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm()
    stays = spawn(name="shmtop-stays", attach=[(shmid, False)])
    leaves = spawn(name="shmtop-leaves", attach=[(shmid, True)], forks=1)
    [grandchild] = leaves.grandchildren
    collector = Collector()

    before = segment(collector.snapshot(), shmid)
    leaves.kill_grandchild(grandchild)
    helpers.wait_until(lambda: native.shm_stat(shmid).nattch == 2, "the grandchild detached")
    middle = segment(collector.snapshot(), shmid)
    leaves.stop()
    helpers.wait_until(lambda: native.shm_stat(shmid).nattch == 1, "the child detached")
    after = segment(collector.snapshot(), shmid)
    again = segment(collector.snapshot(), shmid)  # nothing moved: may reuse, must agree

    assert {a.pid for a in before.attachments} == {stays.pid, leaves.pid, grandchild}
    assert {a.pid for a in middle.attachments} == {stays.pid, leaves.pid}
    assert {(a.pid, a.writable) for a in after.attachments} == {(stays.pid, False)}
    assert after.nattch == 1
    assert again.attachments == after.attachments


@pytest.mark.usefixtures("maps_reader")
def test_a_later_snapshot_names_new_attachers_and_forgets_gone_ones(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm()
    first = spawn(name="shmtop-first", attach=[(shmid, False)])
    collector = Collector()
    collector.snapshot()
    second = spawn(name="shmtop-second", attach=[(shmid, True)])
    third = spawn(name="shmtop-third", attach=[(shmid, True)])  # now the lpid

    grown = collector.snapshot()
    first.stop()
    second.stop()
    helpers.wait_until(lambda: native.shm_stat(shmid).nattch == 1, "two attachers left")
    shrunk = collector.snapshot()

    assert attachers(segment(grown, shmid)) == {
        (first.pid, False, "shmtop-first"),
        (second.pid, True, "shmtop-second"),
        (third.pid, True, "shmtop-third"),
    }
    assert grown.command_of(second.pid) == "shmtop-second"
    assert attachers(segment(shrunk, shmid)) == {(third.pid, True, "shmtop-third")}
    assert first.pid not in shrunk.processes  # gone, and neither cpid nor lpid
    assert shrunk.command_of(second.pid) is None


# ---- creators and orphans ----


@pytest.mark.usefixtures("maps_reader")
def test_creator_alive_and_orphans(make_shm: MakeShm, spawn: Spawn) -> None:
    mine = make_shm()
    maker = spawn(name="shmtop-maker", create_shm=4096, exit_after_report=True)
    orphan_id = maker.created
    assert orphan_id is not None
    assert maker.wait_exit() == 0
    adopter_maker = spawn(name="shmtop-maker2", create_shm=4096, exit_after_report=True)
    adopted_id = adopter_maker.created
    assert adopted_id is not None
    assert adopter_maker.wait_exit() == 0
    adopter = spawn(name="shmtop-adopt", attach=[(adopted_id, False)])

    snapshot = Collector().snapshot()
    own, orphan, adopted = (segment(snapshot, i) for i in (mine, orphan_id, adopted_id))
    later = snapshot.taken_at + 61  # past the grace period: the rule is judged on kernel times

    def status(seg: Segment) -> Status | None:
        return judge(seg, snapshot, now=later).status

    assert (own.cpid, own.creator_alive, status(own), own.flags) == (ME, True, None, ())
    assert (orphan.cpid, orphan.nattch) == (maker.pid, 0)
    assert orphan.creator_alive is False
    assert status(orphan) is Status.ORPHAN
    assert judge(orphan, snapshot).status is None  # just made: within the grace period
    assert adopted.creator_alive is False
    assert status(adopted) is None  # someone still has it attached
    assert attachers(adopted) == {(adopter.pid, False, "shmtop-adopt")}


# ---- semaphores and queues ----


def test_semaphore_values_waiters_and_last_pid(make_sem: MakeSem, spawn: Spawn) -> None:
    semid = make_sem(3, mode=0o640)
    native.sem_setall(semid, [4, 0, 1])
    taker = spawn(name="shmtop-taker", semop=(semid, 0, -1))
    assert taker.next_message() == {"semop": "returned"}
    spawn(name="shmtop-waiter", semop=(semid, 1, -1))  # blocks: semaphore 1 is 0
    helpers.wait_until(lambda: native.sem_counts(semid, 1)[0] == 1, "the waiter is queued")

    snapshot = Collector().snapshot()
    sem_set = snapshot.semaphore_set(semid)

    assert sem_set is not None
    assert sem_set.semaphores == (
        Semaphore(num=0, value=3, ncnt=0, zcnt=0, pid=taker.pid),
        Semaphore(num=1, value=0, ncnt=1, zcnt=0, pid=ME),
        Semaphore(num=2, value=1, ncnt=0, zcnt=0, pid=ME),
    )
    assert (sem_set.nsems, sem_set.waiters, sem_set.unreadable) == (3, 1, None)
    assert sem_set.otime > 0  # a semop happened
    assert (sem_set.owner.key, sem_set.owner.perms) == (0, 0o640)
    assert snapshot.command_of(taker.pid) == "shmtop-taker"


def test_semaphore_values_can_be_left_out(make_sem: MakeSem) -> None:
    semid = make_sem(2)
    sem_set = Collector(semaphore_values=False).snapshot().semaphore_set(semid)

    assert sem_set is not None
    assert (sem_set.semaphores, sem_set.unreadable, sem_set.waiters) == (None, "not read", None)


def test_queue_counts_after_msgsnd(make_msg: MakeMsg) -> None:
    msqid = make_msg(mode=0o604)
    native.msgsnd(msqid, 1, b"first")
    native.msgsnd(msqid, 2, b"second!")

    snapshot = Collector().snapshot()
    queue = snapshot.queue(msqid)

    assert queue is not None
    assert (queue.qnum, queue.cbytes) == (2, 12)
    assert queue.qbytes == snapshot.limits.msgmnb
    assert (queue.lspid, queue.lrpid, queue.rtime) == (ME, 0, 0)
    assert queue.stime >= queue.ctime > 0
    assert (queue.owner.key, queue.owner.perms) == (0, 0o604)
    assert snapshot.command_of(ME) is not None  # lspid is a PID that matters


# ---- limits ----


def test_limits_are_the_kernel_limits(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg
) -> None:
    shm_ids = [make_shm() for _ in range(3)]
    make_sem(5)
    make_msg()

    snapshot = Collector().snapshot()
    limits = snapshot.limits
    semmsl, semmns, semopm, semmni = map(int, Path("/proc/sys/kernel/sem").read_text().split())

    def sysctl(name: str) -> int:
        return int(Path(f"/proc/sys/kernel/{name}").read_text())

    assert limits.shmmni == sysctl("shmmni") > 0
    assert (limits.shmmax, limits.shmall) == (sysctl("shmmax"), sysctl("shmall"))
    assert (limits.semmsl, limits.semmns, limits.semopm, limits.semmni) == (
        semmsl, semmns, semopm, semmni,
    )  # fmt: skip
    assert limits.semvmx == 32767
    assert (limits.msgmni, limits.msgmax, limits.msgmnb) == (
        sysctl("msgmni"), sysctl("msgmax"), sysctl("msgmnb"),
    )  # fmt: skip
    assert limits.page_size == os.sysconf("SC_PAGE_SIZE")
    assert limits.shm_segments >= len(shm_ids)
    assert limits.shm_pages >= len(shm_ids)
    assert limits.sem_sets >= 1
    assert limits.sem_semaphores >= 5
    assert limits.msg_queues >= 1
    assert set(shm_ids) <= {s.id for s in snapshot.segments}


# ---- the collector may reuse its last scan: never with a dead attacher ----


@pytest.mark.usefixtures("maps_reader")
def test_a_reused_scan_never_lists_a_dead_attacher(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm()
    parent = spawn(name="shmtop-churn", attach=[(shmid, True)], forks=1)
    collector = Collector()

    def table() -> frozenset[tuple[int, ...]]:
        """All the collector looks at before deciding to reuse, for every segment."""
        columns = ("shmid", "nattch", "lpid", "atime", "dtime")
        return frozenset(tuple(r[c] for c in columns) for r in helpers.live_rows("shm").values())

    last_seen: frozenset[tuple[int, ...]] | None = None
    for _ in range(50):
        parent.kill_grandchild(parent.grandchildren[0])  # one attacher dies...
        born = parent.fork()  # ...and another attaches (within the same second, mostly)
        helpers.wait_until(lambda: native.shm_stat(shmid).nattch == 2, "the fork is counted")
        before = table()
        seg = segment(collector.snapshot(), shmid)
        unchanged = before == table()
        assert {a.pid for a in seg.attachments} == {parent.pid, born}, (
            f"snapshot lists {sorted(a.pid for a in seg.attachments)}, the attachers are "
            f"{sorted([parent.pid, born])}; table unchanged since the last snapshot: "
            f"{unchanged and before == last_seen}"
        )
        if unchanged and before == last_seen:
            return  # the collector saw what it saw last time, and still got it right
        last_seen = before if unchanged else None
    raise RuntimeError("never saw two snapshots of an unchanged table in the same second")


# ---- an unprivileged viewer ----

UNPRIVILEGED_VIEW = """
import json, os, sys
from shmtop.core.binding import native
from shmtop.core.snapshot.collect import Collector

readers, scan_maps = [], native.scan_maps
def recorded(*args, **kwargs):
    scan = scan_maps(*args, **kwargs)
    readers.append(scan.reader)
    return scan
native.scan_maps = recorded

shmid, semid, msqid = map(int, sys.argv[1:4])
snapshot = Collector().snapshot()
seg, sem_set, queue = (snapshot.segment(shmid), snapshot.semaphore_set(semid),
                       snapshot.queue(msqid))
blind = snapshot.blind_spots
print(json.dumps({
    "uid": os.getuid(), "euid": os.geteuid(),
    "segment": seg and {"nattch": seg.nattch, "attached": [a.pid for a in seg.attachments],
                        "uid": seg.owner.uid, "perms": seg.owner.perms},
    "semaphore_set": sem_set and {"semaphores": sem_set.semaphores,
                                  "unreadable": sem_set.unreadable, "nsems": sem_set.nsems},
    "queue": queue and {"qnum": queue.qnum, "cbytes": queue.cbytes},
    "uninspected": dict(blind.uninspected), "uninspected_total": blind.uninspected_total,
    "processes_scanned": blind.processes_scanned, "attachments_missing": blind.attachments_missing,
    "readers": readers,
}))
"""


def _as_nobody(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the venv's python as nobody:nogroup with no supplementary groups."""
    setpriv = shutil.which("setpriv")
    assert setpriv is not None
    repo = str(Path(shmtop.__file__).resolve().parents[1])
    return subprocess.run(
        [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, *args],
        capture_output=True, text=True, timeout=helpers.PATIENCE, cwd="/", check=False,
        env={"PYTHONPATH": repo, "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", **(env or {})},
    )  # fmt: skip


@pytest.mark.root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as nobody")
def test_an_unprivileged_viewer_says_what_it_could_not_see(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, spawn: Spawn, maps_reader: MapsReader
) -> None:
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.fail("there is no user nobody to run the unprivileged viewer as")
    shmid, semid, msqid = make_shm(mode=0o600), make_sem(2, mode=0o600), make_msg(mode=0o600)
    native.sem_setall(semid, [1, 2])
    native.msgsnd(msqid, 1, b"secret")
    attacher = spawn(name="shmtop-root", attach=[(shmid, True)])  # root's maps: closed to nobody

    usable = _as_nobody("-c", "import shmtop.core.snapshot.collect")
    assert usable.returncode == 0, (
        f"nobody cannot run {sys.executable} with shmtop (is the venv readable?):\n{usable.stderr}"
    )
    done = _as_nobody(
        "-c", UNPRIVILEGED_VIEW, str(shmid), str(semid), str(msqid), env=maps_reader.env
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    maps_reader.used += seen["readers"]  # the viewer's scans, checked by the fixture

    assert (seen["uid"], seen["euid"]) == (nobody, nobody)
    # /proc/sysvipc and the *_STAT_ANY commands list every object, whatever its permissions...
    assert seen["segment"] == {"nattch": 1, "attached": [], "uid": 0, "perms": 0o600}
    assert seen["queue"] == {"qnum": 1, "cbytes": 6}
    # ...but GETALL needs read permission: "?" for this set, and the snapshot carries on.
    assert seen["semaphore_set"] == {
        "semaphores": None, "unreadable": "permission denied", "nsems": 2,
    }  # fmt: skip
    # root's /proc/PID/maps cannot be opened by nobody: counted, not silently skipped.
    assert set(seen["uninspected"]) == {"permission denied"}
    assert seen["uninspected_total"] > 0
    assert seen["processes_scanned"] >= seen["uninspected_total"]
    assert seen["attachments_missing"] >= 1
    assert native.shm_stat(shmid).nattch == 1  # the root attacher was there all along
    assert attacher.pid not in seen["segment"]["attached"]


def test_a_snapshot_leaves_attachments_alone_when_asked(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm()
    spawn(attach=[(shmid, True)])

    snapshot = Collector(attachments=False).snapshot()

    assert segment(snapshot, shmid).attachments == ()
    assert snapshot.blind_spots.processes_scanned == 0
    assert snapshot.blind_spots.attachments_missing >= 1  # ours is counted as unseen
