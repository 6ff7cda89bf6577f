"""The exporter's POSIX families on real objects: shm_open objects mapped by real children,
an unlinked one still mapped, a named semaphore, a message queue, waiters blocked on them,
and a name made to break the exposition.

In-process (a real SnapshotSource and Exposition, scraped as Prometheus would ask); the
session's /dev/shm is a private tmpfs (conftest), but the scan also sees objects other
mount namespaces map, so every check is on this test's own objects (by name or inode),
and counts over all objects are only bounded from below.
"""

from __future__ import annotations

import _posixshmem  # type: ignore[import-not-found]  # what shared_memory uses, no stub
import contextlib
import gzip
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from futex_kids import Child
from futex_kids import start as start_futex_kid
from helpers import MakeShm, wait_until
from pmq_kids import Kid as MqKid
from pmq_kids import Queues, send
from pmq_kids import start as start_mq_kid
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from pshm_kids import NamedSemaphores

from shmtop.core.binding import native
from shmtop.core.posix import content
from shmtop.exporter.exposition import Exposition, Families
from shmtop.exporter.families import health_families, snapshot_families
from shmtop.exporter.posix_source import PosixSource
from shmtop.exporter.source import SnapshotSource
from shmtop.text.sanitize import safe_text

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")

PREFIX = f"/shmtop-exp-{os.getpid()}-"
TESTS = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
_count = itertools.count()

Samples = list[tuple[dict[str, str], float]]


class Objects:
    """shm_open objects of this test; whatever is left is unlinked at the end."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def make(self, size: int = 2 * PAGE, suffix: str = "") -> str:
        name = f"{PREFIX}{next(_count)}{suffix}"
        fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        self.names.append(name)
        try:
            os.ftruncate(fd, size)
            os.pwrite(fd, b"x" * size, 0)  # allocated: every page written
        finally:
            os.close(fd)
        return name

    def cleanup(self) -> None:
        for name in self.names:
            with contextlib.suppress(FileNotFoundError):
                _posixshmem.shm_unlink(name)


@pytest.fixture
def objects() -> Iterator[Objects]:
    made = Objects()
    yield made
    made.cleanup()
    left = [n for n in os.listdir("/dev/shm") if n.startswith(PREFIX[1:])]
    assert not left, f"objects left in /dev/shm: {left}"


class Mapper:
    """A child (tests/pshm_child.py) mapping a /dev/shm object shared; killed by PID."""

    def __init__(self, name: str, *more: str) -> None:
        command = [sys.executable, str(TESTS / "pshm_child.py"), "/dev/shm" + name, "map-rw",
                   *more]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # bounded: the child dies with an error
        assert line, f"mapper of {name} failed: {self.process.wait()}"
        self.pid: int = json.loads(line)["pid"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def mappers() -> Iterator[list[Mapper]]:
    started: list[Mapper] = []
    yield started
    for mapper in started:
        mapper.stop()


@pytest.fixture
def queues() -> Iterator[Queues]:
    made = Queues(f"/shmtop-expq-{os.getpid()}-")
    yield made
    made.cleanup()


@pytest.fixture
def exposition() -> Iterator[Exposition]:
    source = SnapshotSource(0)  # every scrape its own reading
    try:
        yield Exposition(source, max_objects=100_000)
    finally:
        source.close()


def scrape(exposition: Exposition, accept: str = "") -> str:
    body, _ = exposition.scrape(accept)
    return body.decode()


def samples(body: str, name: str) -> Samples:
    return [
        (s.labels, s.value)
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == name
    ]


def of(body: str, metric: str, **labels: str) -> list[float]:
    """The values of metric's samples whose labels include these."""
    return [
        v for got, v in samples(body, metric) if all(got.get(k) == w for k, w in labels.items())
    ]


def one(body: str, metric: str, **labels: str) -> float:
    [value] = of(body, metric, **labels)
    return value


def inode(name: str) -> str:
    return str(os.stat("/dev/shm" + name).st_ino)


def test_a_mapped_object_has_its_name_size_and_mapper_count(
    exposition: Exposition, objects: Objects, mappers: list[Mapper]
) -> None:
    name = objects.make(3 * PAGE)
    ident = inode(name)
    body = scrape(exposition)
    assert one(body, "shmtop_posix_mappers", kind="pshm", name=name) == 0
    mappers.append(Mapper(name))
    mappers.append(Mapper(name))
    body = scrape(exposition)
    [(labels, _)] = [s for s in samples(body, "shmtop_posix_mappers") if s[0]["name"] == name]
    assert labels["kind"] == "pshm" and labels["id"] == ident and labels["owner"] == "root"
    info = os.stat("/dev/shm" + name)
    assert labels["device"] == f"{os.major(info.st_dev)}:{os.minor(info.st_dev)}"
    assert one(body, "shmtop_posix_mappers", name=name) == 2
    assert one(body, "shmtop_posix_size_bytes", name=name) == 3 * PAGE
    assert one(body, "shmtop_posix_allocated_bytes", name=name) == 3 * PAGE
    assert one(body, "shmtop_posix_holders", name=name) == 0
    assert not of(body, "shmtop_posix_object_status", name=name)  # in use: no status
    assert one(body, "shmtop_objects", kind="pshm") >= 1
    assert one(body, "shmtop_memory_bytes", kind="pshm") >= 3 * PAGE
    room = os.statvfs("/dev/shm")  # the session's own tmpfs (conftest)
    assert one(body, "shmtop_resource_limit", resource="dev_shm_bytes") == (
        room.f_blocks * room.f_frsize
    )
    assert one(body, "shmtop_resource_used", resource="dev_shm_bytes") >= 3 * PAGE
    assert one(body, "shmtop_resource_used", resource="dev_shm_inodes") >= 1


def test_an_unlinked_object_still_mapped_is_counted_and_named_unlinked(
    exposition: Exposition, objects: Objects, mappers: list[Mapper]
) -> None:
    name = objects.make(4 * PAGE)
    ident = inode(name)
    mapper = Mapper(name)
    mappers.append(mapper)
    _posixshmem.shm_unlink(name)
    body = scrape(exposition)
    [status] = [got for got, _ in samples(body, "shmtop_posix_object_status")
                if got["id"] == ident and got["name"] == name]  # fmt: skip
    assert status["status"] == "unlinked" and status["kind"] == "pshm"
    assert one(body, "shmtop_posix_mappers", id=ident, name=name) == 1
    assert one(body, "shmtop_posix_unlinked", kind="pshm") >= 1
    assert one(body, "shmtop_posix_unlinked_bytes") >= 4 * PAGE
    mapper.stop()  # the last mapper lets go: the memory is freed, the series go
    wait_until(
        lambda: not of(scrape(exposition), "shmtop_posix_mappers", id=ident, name=name),
        "the freed object's series are gone",
    )


def test_a_named_semaphore_has_its_value(exposition: Exposition, objects: Objects) -> None:
    if (why := content.semaphore_layout_known()) is not None:
        pytest.skip(why)
    sems = NamedSemaphores()
    name = f"{PREFIX}sem{next(_count)}"
    sem = sems.open(name, 7)
    objects.names.append("/sem." + name[1:])  # shm_unlink of sem.NAME is sem_unlink
    try:
        body = scrape(exposition)
        assert one(body, "shmtop_posix_semaphore_value", kind="psem", name=name) == 7
        assert one(body, "shmtop_posix_semaphore_nwaiters", name=name) == 0
        assert one(body, "shmtop_posix_semaphore_waiters", name=name) == 0
        assert one(body, "shmtop_posix_mappers", kind="psem", name=name) == 1  # we map it
        assert one(body, "shmtop_objects", kind="psem") >= 1
    finally:
        sem.close()


def test_a_semaphore_waiter_is_counted_by_kind_and_on_its_semaphore(
    exposition: Exposition, child_program: Path, kids: list[Child], sem_name: str
) -> None:
    child = start_futex_kid(kids, child_program, "semwait", sem_name)
    assert child.line()[0] == "ready"

    def waiting() -> bool:
        found = of(scrape(exposition), "shmtop_posix_semaphore_waiters", name=sem_name)
        return found == [1]

    wait_until(waiting, "the exporter sees the thread blocked in sem_wait")
    body = scrape(exposition)
    assert one(body, "shmtop_waiters", kind="psem") >= 1
    assert one(body, "shmtop_posix_semaphore_value", name=sem_name) == 0


def test_a_message_queue_has_its_messages_bytes_and_waiters(
    exposition: Exposition, queues: Queues, mq_kids: list[MqKid]
) -> None:
    name = queues.make(max_messages=5, max_size=64)
    send(name, b"twelve bytes")
    send(name, b"four")
    body = scrape(exposition)
    [(labels, _)] = [s for s in samples(body, "shmtop_pmq_messages") if s[0]["name"] == name]
    assert labels["kind"] == "pmq" and labels["owner"] == "root"
    assert one(body, "shmtop_pmq_messages", name=name) == 2
    assert one(body, "shmtop_pmq_bytes", name=name) == 16
    assert one(body, "shmtop_pmq_capacity_messages", name=name) == 5
    assert one(body, "shmtop_pmq_waiters", name=name) == 0
    assert one(body, "shmtop_objects", kind="pmq") >= 1
    used = one(body, "shmtop_resource_used", resource="pmq_queues")
    assert used >= 1
    limit = int(Path("/proc/sys/fs/mqueue/queues_max").read_text())
    assert one(body, "shmtop_resource_limit", resource="pmq_queues") == limit

    empty = queues.make()
    start_mq_kid(mq_kids, empty, "r", "receive")  # blocks in mq_timedreceive

    def blocked() -> bool:
        return of(scrape(exposition), "shmtop_pmq_waiters", name=empty) == [1]

    wait_until(blocked, "the exporter sees the receiver blocked on the empty queue")
    assert one(scrape(exposition), "shmtop_waiters", kind="pmq") >= 1


def test_an_unlinked_queue_still_open_is_counted_unlinked(
    exposition: Exposition, queues: Queues, mq_kids: list[MqKid]
) -> None:
    name = queues.make()
    start_mq_kid(mq_kids, name, "r")  # holds it open
    native.mq_unlink(name)
    body = scrape(exposition)
    [status] = [got for got, _ in samples(body, "shmtop_posix_object_status")
                if got["kind"] == "pmq" and got["name"] == name]  # fmt: skip
    assert status["status"] == "unlinked"
    assert one(body, "shmtop_posix_holders", kind="pmq", name=name) == 1
    assert one(body, "shmtop_posix_unlinked", kind="pmq") >= 1


HOSTILE = '-\x1b[31m"quote"\\back\nnew\rline\x7f\u202eevil'


@pytest.mark.parametrize("accept", ["", OPENMETRICS])
def test_a_hostile_name_gives_a_valid_exposition_with_the_name_sanitised(
    exposition: Exposition, objects: Objects, mappers: list[Mapper], accept: str
) -> None:
    name = objects.make(suffix=HOSTILE)
    mappers.append(Mapper(name))
    ident = inode(name)
    body = scrape(exposition, accept)
    parse = openmetrics_families if accept else text_string_to_metric_families
    found = [
        s.labels
        for family in parse(body)  # raises on an invalid exposition
        for s in family.samples
        if s.name == "shmtop_posix_mappers" and s.labels["id"] == ident
    ]
    assert [labels["name"] for labels in found] == [safe_text(name)]
    shown = found[0]["name"]
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in shown)  # no control character
    assert '"quote"\\back' in shown and "\u202e" not in shown  # quotes kept, bidi gone


def test_max_objects_bounds_the_posix_series_and_counts_the_rest(objects: Objects) -> None:
    for _ in range(3):
        objects.make()
    source = SnapshotSource(0)
    try:
        body = scrape(Exposition(source, max_objects=2))
    finally:
        source.close()
    served = {got["id"] for got, _ in samples(body, "shmtop_posix_size_bytes")
              if got["kind"] == "pshm"}  # fmt: skip
    assert len(served) == 2
    total = one(body, "shmtop_objects", kind="pshm")
    assert total >= 3
    assert one(body, "shmtop_objects_omitted", kind="pshm") == total - 2


def everything(body: str) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
    return {
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name not in ("shmtop_scrape_duration_seconds", "shmtop_snapshot_age_seconds")
    }


def test_the_kept_posix_lines_say_what_the_library_says_of_the_whole_snapshot(
    objects: Objects, mappers: list[Mapper], queues: Queues
) -> None:
    """Each POSIX object's encoded lines are kept while its series say the same: after
    objects change, a scrape still serves what prometheus_client encodes whole."""
    source = SnapshotSource(0)
    exposition = Exposition(source)
    try:
        name = objects.make()
        queue = queues.make()
        for step in range(3):
            body, _ = exposition.scrape()
            reading = source.last
            assert reading is not None
            whole = Families([*health_families(reading), *snapshot_families(reading)])
            assert everything(body.decode()) == everything(generate_latest(whole).decode())
            if step == 0:
                mappers.append(Mapper(name))  # this object's mappers change
            else:
                send(queue, b"one more")  # this queue's messages change
    finally:
        source.close()


def test_the_posix_scan_is_reused_for_its_interval_while_system_v_is_fresh(
    objects: Objects, make_shm: MakeShm
) -> None:
    source = SnapshotSource(0, posix=PosixSource(3600))
    exposition = Exposition(source)
    try:
        first = scrape(exposition)
        name = objects.make()  # after the POSIX scan: not in the reused one
        shmid = make_shm()  # System V: in the next snapshot
        second = scrape(exposition)
    finally:
        source.close()
    assert one(first, "shmtop_snapshots_total") == 1 and one(second, "shmtop_snapshots_total") == 2
    stamp = "shmtop_posix_scan_timestamp_seconds"
    assert one(first, stamp) == one(second, stamp)
    assert not of(second, "shmtop_posix_size_bytes", name=name)
    assert of(second, "shmtop_segment_size_bytes", id=str(shmid)) == [4096]
    fresh = SnapshotSource(0, posix=PosixSource(0))
    try:
        assert one(scrape(Exposition(fresh)), "shmtop_posix_size_bytes", name=name) == 2 * PAGE
    finally:
        fresh.close()


def test_one_reading_sees_a_segment_and_a_posix_object_mapped_by_the_same_child(
    exposition: Exposition, objects: Objects, mappers: list[Mapper], make_shm: MakeShm
) -> None:
    """The POSIX scan and the System V snapshot of a reading come from one read of the
    child's maps (core/posix/full.py): both attachments are in the first scrape."""
    name, shmid = objects.make(), make_shm()
    mapper = Mapper(name, f"shmat-rw:{shmid}")
    mappers.append(mapper)
    body = scrape(exposition)
    assert one(body, "shmtop_snapshots_total") == 1
    assert one(body, "shmtop_segment_attachments", id=str(shmid)) == 1
    assert one(body, "shmtop_posix_mappers", kind="pshm", name=name) == 1
    mapper.stop()
    body = scrape(exposition)  # the same child gone from both sides at once
    assert one(body, "shmtop_segment_attachments", id=str(shmid)) == 0
    assert one(body, "shmtop_posix_mappers", kind="pshm", name=name) == 0


def test_a_posix_object_unlinked_between_scrapes_is_gone_from_the_next(
    exposition: Exposition, objects: Objects, make_shm: MakeShm
) -> None:
    name, shmid = objects.make(), make_shm()
    first = scrape(exposition)
    second = scrape(exposition)  # a steady reading: the kept rows and bytes
    for body in (first, second):
        assert one(body, "shmtop_posix_size_bytes", name=name) == 2 * PAGE
        assert one(body, "shmtop_segment_size_bytes", id=str(shmid)) == 4096
    _posixshmem.shm_unlink(name)
    third = scrape(exposition)
    assert not of(third, "shmtop_posix_size_bytes", name=name)
    assert not of(third, "shmtop_posix_object_status", name=name)
    assert one(third, "shmtop_segment_size_bytes", id=str(shmid)) == 4096


def test_steady_readings_with_a_reused_posix_scan_follow_system_v_changes(
    objects: Objects, mappers: list[Mapper], make_shm: MakeShm
) -> None:
    """Between POSIX scans the rows and bytes of unchanged objects are kept: a segment that
    gains an attacher is served with it, in both formats, gzipped or not, and the POSIX
    object's series stay as the reused scan said."""
    source = SnapshotSource(0, posix=PosixSource(3600))
    exposition = Exposition(source, max_objects=100_000)
    try:
        name, shmid = objects.make(), make_shm()
        scrape(exposition)  # the POSIX scan, kept from here on
        for accept in ("", OPENMETRICS):
            body = scrape(exposition, accept)
            assert any_format(body, "shmtop_segment_attachments", id=str(shmid)) == [0]
        mappers.append(Mapper(name, f"shmat-rw:{shmid}"))
        for accept in ("", OPENMETRICS):
            body = scrape(exposition, accept)
            assert any_format(body, "shmtop_segment_attachments", id=str(shmid)) == [1]
            assert any_format(body, "shmtop_posix_mappers", name=name) == [0]  # the scan before
        zipped, headers = exposition.scrape(OPENMETRICS, "gzip")
        assert ("Content-Encoding", "gzip") in headers
        text = gzip.decompress(zipped).decode()  # every member: head, objects, tail
        assert any_format(text, "shmtop_segment_attachments", id=str(shmid)) == [1]
        assert text.endswith("# EOF\n")
    finally:
        source.close()


def any_format(body: str, metric: str, **labels: str) -> list[float]:
    """of(), the body parsed by its format's parser (OpenMetrics ends with # EOF)."""
    if not body.endswith("# EOF\n"):
        return of(body, metric, **labels)
    return [
        s.value
        for family in openmetrics_families(body)  # type: ignore[no-untyped-call]
        for s in family.samples
        if s.name == metric and all(s.labels.get(k) == w for k, w in labels.items())
    ]
