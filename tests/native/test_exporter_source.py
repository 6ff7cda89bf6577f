"""The exporter in-process on real objects: one snapshot at a time, shared by the scrapes
that wait for it, and the families each object gets (the command: tests/cli/test_exporter.py).

Native level: a real Collector and WaiterScanner on the session's objects, served by the
exporter's real HTTP server in a thread; only the collector is wrapped, to count.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import helpers
import pytest
from blocker import blockers, deadlock
from helpers import PATIENCE, MakeMsg, MakeSem, MakeShm, Spawn, wait_until
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from shmtop.core.binding import native
from shmtop.core.model import Kind, Snapshot
from shmtop.core.snapshot.activity import Activity
from shmtop.core.snapshot.collect import Collector
from shmtop.core.snapshot.scan_parts import MapsRound
from shmtop.core.verdicts import Status, judge
from shmtop.exporter.exposition import Exposition, Families
from shmtop.exporter.families import Verdicts, health_families, snapshot_families
from shmtop.exporter.serve import make_server, where
from shmtop.exporter.source import SnapshotSource

SCRAPES = 200
CLIENTS = 32  # the bounded pool the 200 scrapes share


class CountingCollector(Collector):
    """A real Collector that counts its snapshots and how many ran at once."""

    def __init__(self) -> None:
        super().__init__()
        self._guard = threading.Lock()
        self.taken = 0
        self.running = 0
        self.most_at_once = 0

    def _snapshot(self, maps: MapsRound | None, evidence: Activity | None = None) -> Snapshot:
        """Every snapshot: System V alone (snapshot) and a full one's (snapshot_from)."""
        with self._guard:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            return super()._snapshot(maps, evidence)
        finally:
            with self._guard:
                self.running -= 1
                self.taken += 1


@contextmanager
def served(interval: float, max_objects: int = 1000) -> Iterator[tuple[str, CountingCollector]]:
    collector = CountingCollector()
    source = SnapshotSource(interval, collector=collector)
    server = make_server(Exposition(source, max_objects), "127.0.0.1", 0)
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        yield f"http://{where(server)}/metrics", collector
    finally:
        server.shutdown()
        server.server_close()
        worker.join()
        source.close()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=PATIENCE) as answer:
        assert answer.status == 200
        body: bytes = answer.read()
        return body.decode()


def scrape_all(url: str) -> list[str]:
    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(lambda _: get(url), range(SCRAPES)))


def samples(body: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (s.labels, s.value)
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == name
    ]


def one(body: str, name: str, **labels: str) -> float:
    [found] = [
        v for got, v in samples(body, name) if all(got.get(k) == w for k, w in labels.items())
    ]
    return found


def test_concurrent_scrapes_wait_for_one_snapshot_and_share_it(make_shm: MakeShm) -> None:
    shmid = make_shm()
    with served(interval=3600) as (url, collector):  # no snapshot yet: the first scrape takes it
        bodies = scrape_all(url)
    assert len(bodies) == SCRAPES
    assert collector.taken == 1  # 200 scrapes, one snapshot: the others waited and shared it
    assert collector.most_at_once == 1
    for body in bodies:
        assert one(body, "shmtop_up") == 1
        assert one(body, "shmtop_snapshots_total") == 1
        assert one(body, "shmtop_segment_size_bytes", id=str(shmid)) == 4096


def test_scrapes_that_each_need_a_snapshot_never_overlap_one(make_shm: MakeShm) -> None:
    make_shm()
    with served(interval=0) as (url, collector):  # every scrape takes its own snapshot
        bodies = scrape_all(url)
    assert collector.taken == SCRAPES
    assert collector.most_at_once == 1  # the lock: never two at once
    assert sorted(one(b, "shmtop_snapshots_total") for b in bodies) == list(range(1, 201))


def test_each_kind_gets_its_families_with_labels(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, spawn: Spawn
) -> None:
    shmid, semid, msqid = make_shm(16384), make_sem(3), make_msg()
    native.msgsnd(msqid, 1, b"twelve bytes")
    native.msgsnd(msqid, 2, b"four")
    spawn(attach=[(shmid, True)])
    namespace = str(os.stat("/proc/self/ns/ipc").st_ino)  # the session's private namespace
    with served(interval=3600) as (url, _):
        body = get(url)
    ids = {"shm": str(shmid), "sem": str(semid), "msg": str(msqid)}
    for kind in ids:
        assert one(body, "shmtop_objects", kind=kind, namespace=namespace) == 1
    assert one(body, "shmtop_segment_size_bytes", id=ids["shm"]) == 16384
    assert one(body, "shmtop_segment_attachments", id=ids["shm"]) == 1
    assert one(body, "shmtop_semaphore_set_semaphores", id=ids["sem"]) == 3
    assert one(body, "shmtop_semaphore_set_waiters", id=ids["sem"]) == 0
    assert one(body, "shmtop_queue_messages", id=ids["msg"]) == 2
    assert one(body, "shmtop_queue_bytes", id=ids["msg"]) == 16
    assert one(body, "shmtop_queue_waiters", id=ids["msg"]) == 0
    [(labels, _)] = [
        s for s in samples(body, "shmtop_segment_size_bytes") if s[0]["id"] == ids["shm"]
    ]
    assert labels == {
        "kind": "shm",
        "id": ids["shm"],
        "key": "0x00000000",
        "owner": "root",
        "namespace": namespace,
    }
    assert one(body, "shmtop_resource_used", resource="shm_segments") >= 1
    assert 0 < one(body, "shmtop_resource_usage_ratio", resource="shm_segments") < 1


def test_max_objects_keeps_the_largest_and_counts_the_rest(make_shm: MakeShm) -> None:
    small = [make_shm(4096) for _ in range(3)]
    large = [make_shm(65536), make_shm(131072)]
    with served(interval=3600, max_objects=2) as (url, _):
        body = get(url)
    kept = {got["id"] for got, _ in samples(body, "shmtop_segment_size_bytes")}
    assert kept == {str(i) for i in large}
    assert one(body, "shmtop_objects_omitted", kind="shm") == len(small)


def test_a_deadlock_and_the_waiters_are_counted(make_sem: MakeSem) -> None:
    with blockers() as kids:
        semid, first, _ = deadlock(make_sem, kids)
        with served(interval=0) as (url, _):

            def deadlocks() -> float:
                return one(get(url), "shmtop_deadlocks")

            wait_until(lambda: deadlocks() == 1, "the exporter counts the deadlock")
            body = get(url)
            assert one(body, "shmtop_waiters", kind="sem") == 2
            assert one(body, "shmtop_waits", outcome="deadlock") == 2
            assert one(body, "shmtop_semaphore_set_waiters", id=str(semid)) == 2
            first.stop()  # its SEM_UNDO gives semaphore 0 back: the other one goes on
            wait_until(lambda: deadlocks() == 0, "the deadlock is gone from the metrics")


@pytest.mark.parametrize("accept", ["", "application/openmetrics-text; version=1.0.0"])
def test_a_reused_snapshot_is_served_with_fresh_scrape_families(accept: str) -> None:
    collector = CountingCollector()
    source = SnapshotSource(3600, collector=collector)
    exposition = Exposition(source)
    first, _ = exposition.scrape(accept)
    second, _ = exposition.scrape(accept)
    assert collector.taken == 1
    assert first != second  # the scrape's own duration and the snapshot's age moved
    assert first.count(b"# HELP shmtop_up ") == 1 and second.count(b"# HELP shmtop_up ") == 1
    source.close()


def keyed_segment_of_a_gone_creator() -> int:
    """A keyed segment whose creator (a forked child) has exited."""
    key = 0x5E0E0000 | (os.getpid() & 0xFFFF)
    pid = os.fork()
    if pid == 0:
        try:
            native.shmget(key, 4096, native.IPC_CREAT | native.IPC_EXCL | 0o600)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    shmid: int = native.shmget(key, 0, 0)
    return helpers.record("shm", shmid)


def test_statuses_kept_for_objects_in_use_agree_with_the_rule(spawn: Spawn) -> None:
    shmid = keyed_segment_of_a_gone_creator()
    try:
        child = spawn(attach=[(shmid, True)])
        collector, verdicts = Collector(), Verdicts()
        try:
            for attached in (True, True, False):  # in use, still (kept), then not
                if not attached:
                    child.stop()
                snapshot = collector.snapshot()
                found = verdicts.statuses(snapshot, set())
                assert found == {
                    (kind, o.id): judge(o, snapshot, blocked=set()).status
                    for kind in Kind
                    for o in snapshot.objects(kind)
                }
                expected = None if attached else Status.UNATTACHED
                assert found[Kind.SHM, shmid] is expected
        finally:
            collector.close()
    finally:
        helpers.remove("shm", shmid)


def everything(body: str) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
    return {
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name not in ("shmtop_scrape_duration_seconds", "shmtop_snapshot_age_seconds")
    }


def test_the_kept_lines_say_what_the_library_says_of_the_whole_snapshot(
    make_shm: MakeShm, make_msg: MakeMsg, spawn: Spawn
) -> None:
    """Scrapes reuse each unchanged object's encoded lines: after objects change, what they
    serve is still what prometheus_client encodes from the snapshot's families whole."""
    source = SnapshotSource(0)
    exposition = Exposition(source)
    try:
        shmid = make_shm()
        for step in range(3):
            body, _ = exposition.scrape()
            reading = source.last
            assert reading is not None
            whole = Families([*health_families(reading), *snapshot_families(reading)])
            assert everything(body.decode()) == everything(generate_latest(whole).decode())
            if step == 0:
                spawn(attach=[(shmid, True)])  # this segment's lines change
            else:
                native.msgsnd(make_msg(), 1, b"new")  # a new queue's lines are made
    finally:
        source.close()


def test_a_status_kept_for_a_running_user_is_judged_again_once_that_user_is_gone() -> None:
    """A keyed set's last changer exits: the set itself does not change (the Collector hands
    out the same instance), yet the rule now calls it unused."""
    key = 0x5E0F0000 | (os.getpid() & 0xFFFF)
    semid = helpers.record("sem", native.semget(key, 1, native.IPC_CREAT | 0o600))
    try:
        with blockers() as kids:
            user = kids.start("shmtop-user")
            assert user.call(call="semop", semid=semid, ops=[[0, 1, 0]]) == {"ok": True}
            collector, verdicts = Collector(), Verdicts()
            try:
                first = collector.snapshot()
                assert verdicts.statuses(first, set())[Kind.SEM, semid] is None
                user.stop()
                wait_until(lambda: helpers.process_gone(user.pid), "the set's user is gone")
                second = collector.snapshot()
                assert second.find(Kind.SEM, semid) is first.find(Kind.SEM, semid)
                assert verdicts.statuses(second, set())[Kind.SEM, semid] is Status.UNUSED
                set_ = second.find(Kind.SEM, semid)
                assert set_ is not None
                assert judge(set_, second, blocked=set()).status is Status.UNUSED
            finally:
                collector.close()
    finally:
        helpers.remove("sem", semid)
