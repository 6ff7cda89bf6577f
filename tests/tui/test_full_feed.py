"""The view's shared read (tui/full_feed.py) on real objects: the System V snapshot and the
POSIX view of a refresh come from one FullCollector read, a POSIX tab that opens gets a
fresh scan, and an idle view is reused for its interval."""

from __future__ import annotations

import _posixshmem  # type: ignore[import-not-found]  # what shared_memory uses, no stub
import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import MakeShm

from shmtop.tui.full_feed import FullFeed
from shmtop.tui.posix_source import PosixView

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")

PREFIX = f"/shmtop-feed-{os.getpid()}-"
TESTS = Path(__file__).resolve().parent.parent
_count = itertools.count()


@pytest.fixture
def names() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        with contextlib.suppress(FileNotFoundError):
            _posixshmem.shm_unlink(name)


def make_object(names: list[str]) -> str:
    name = f"{PREFIX}{next(_count)}"
    fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    names.append(name)
    try:
        os.ftruncate(fd, 4096)
    finally:
        os.close(fd)
    return name


@contextlib.contextmanager
def mapper(name: str, shmid: int) -> Iterator[int]:
    """A child mapping the object and attaching the segment (tests/pshm_child.py)."""
    command = [sys.executable, str(TESTS / "pshm_child.py"), "/dev/shm" + name, "map-rw",
               f"shmat-rw:{shmid}"]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # bounded: the child dies with an error
        assert line, f"the child failed: {process.wait()}"
        yield int(json.loads(line)["pid"])
    finally:
        process.kill()
        process.wait()


def shm_names(view: PosixView) -> set[str]:
    assert view.shm is not None and view.problem is None
    return {obj.name for obj in view.shm.objects}


def mappers_of(view: PosixView, name: str) -> set[int]:
    assert view.shm is not None
    [obj] = [o for o in view.shm.objects if o.name == name]
    return {m.pid for m in obj.mappings}


def test_a_refresh_sees_one_child_in_both_the_segment_and_the_posix_object(
    names: list[str], make_shm: MakeShm
) -> None:
    feed = FullFeed(idle_seconds=3600)
    try:
        name, shmid = make_object(names), make_shm()
        with mapper(name, shmid) as pid:
            snapshot = feed.system_v.snapshot()
            view = feed.posix.snapshot(True)
            [segment] = [s for s in snapshot.segments if s.id == shmid]
            assert pid in {a.pid for a in segment.attachments}
            assert mappers_of(view, name) == {pid}
            assert view.queues is not None and view.limits is not None
        snapshot = feed.system_v.snapshot()  # shown at the last refresh: a full read again
        view = feed.posix.snapshot(True)
        [segment] = [s for s in snapshot.segments if s.id == shmid]
        assert not segment.attachments and mappers_of(view, name) == set()
    finally:
        feed.close()


def test_an_idle_view_is_reused_and_a_tab_that_opens_gets_a_fresh_scan(
    names: list[str],
) -> None:
    feed = FullFeed(idle_seconds=3600)
    try:
        first = make_object(names)
        feed.system_v.snapshot()
        idle = feed.posix.snapshot(False)
        assert first in shm_names(idle)
        second = make_object(names)
        feed.system_v.snapshot()
        assert feed.posix.snapshot(False) is idle  # no tab shown: reused for idle_seconds
        feed.system_v.snapshot()  # the tab opens at this refresh: not known here yet
        shown = feed.posix.snapshot(True)
        assert {first, second} <= shm_names(shown)
        _posixshmem.shm_unlink(second)
        feed.system_v.snapshot()  # shown at the last refresh: this one is a full read
        assert second not in shm_names(feed.posix.snapshot(True))
    finally:
        feed.close()
