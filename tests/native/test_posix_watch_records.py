"""A watch's POSIX records (text/posix_watch_records.py): the bytes a fresh encoding gives,
every line, and last line's bytes again where the steady snapshot kept the object; real
objects, a real mapper, a real FullCollector."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from pshm_kids import Kid, Objects, children, key_of, objects, start

from shmtop.cli.output import encode
from shmtop.core.posix import full
from shmtop.core.posix.full import FullCollector
from shmtop.core.posix.model import PosixKind, PosixObject, PosixSnapshot
from shmtop.text import posix_table
from shmtop.text.documents import NamespaceRecord
from shmtop.text.posix_documents import object_record
from shmtop.text.posix_watch_records import PosixWatchRecords

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")


@pytest.fixture
def shm() -> Iterator[Objects]:
    with objects() as made:
        yield made


@pytest.fixture
def kids() -> Iterator[list[Kid]]:
    with children() as started:
        yield started


def line(records: PosixWatchRecords, snapshot: PosixSnapshot) -> list[bytes]:
    records.begin()
    return list(records.encoded(posix_table.objects_of(snapshot, PosixKind.SHM), snapshot))


def fresh(snapshot: PosixSnapshot) -> list[bytes]:
    return [
        encode(object_record(o, snapshot)) for o in posix_table.objects_of(snapshot, PosixKind.SHM)
    ]


def find(snapshot: PosixSnapshot, name: str) -> PosixObject:
    found = snapshot.find(*key_of(name))
    assert found is not None
    return found


def test_records_are_a_fresh_encoding_and_kept_while_the_object_is(
    shm: Objects, kids: list[Kid], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "READ_ALL_EVERY", 3600.0)  # no read of every process midway
    name = shm.make()
    pid, _ = start(kids, name, "map-rw")
    records = PosixWatchRecords(encode)
    with FullCollector() as collector:
        first = collector.snapshot().posix
        first_line = line(records, first)
        assert first_line == fresh(first)
        index = [o.name for o in posix_table.objects_of(first, PosixKind.SHM)].index(name)
        ours = json.loads(first_line[index])
        assert [(m["pid"], m["writable"]) for m in ours["mappings"]] == [(pid, True)]
        # Until a steady snapshot keeps our object (the child's last steps to sleep may be
        # read once more): then its bytes are last line's, the very same.
        before, kept = first, first_line
        for _ in range(20):
            now = collector.snapshot().posix
            now_line = line(records, now)
            assert now_line == fresh(now)
            index = [o.name for o in posix_table.objects_of(now, PosixKind.SHM)].index(name)
            if find(now, name) is find(before, name):
                before_index = [o.name for o in posix_table.objects_of(before, PosixKind.SHM)]
                assert now_line[index] is kept[before_index.index(name)]
                break
            before, kept = now, now_line
        else:
            pytest.fail("no steady snapshot kept the object")
        os.truncate(f"/dev/shm{name}", 8 * 4096)  # a change: a new record, its new size
        changed = collector.snapshot().posix
        changed_line = line(records, changed)
        assert changed_line == fresh(changed)
        index = [o.name for o in posix_table.objects_of(changed, PosixKind.SHM)].index(name)
        assert json.loads(changed_line[index])["size"] == 8 * 4096


def test_a_record_carries_the_namespace_it_is_encoded_with(shm: Objects) -> None:
    name = shm.make()
    records = PosixWatchRecords(encode)
    with FullCollector() as collector:
        snapshot = collector.snapshot().posix
    where = NamespaceRecord(inode=1, name="box", source="hostname", current=False)
    objects_ = [find(snapshot, name)]
    records.begin()
    (plain,) = records.encoded(objects_, snapshot)
    (placed,) = records.encoded(objects_, snapshot, where)
    assert json.loads(plain)["namespace"]["current"] is True  # the caller's, unsaid
    assert json.loads(placed)["namespace"]["name"] == "box"
    assert placed == encode(object_record(objects_[0], snapshot, where))
