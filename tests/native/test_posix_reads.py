"""The POSIX reads made in C loops for a steady snapshot, on real objects (issue 12): named
semaphores' words (native.read_named_semaphores, checked against glibc's sem_getvalue and
a real waiter), a semaphore file replaced or unlinked between the listing and the read, and
our own process's fds (read by fstat on the fd, not through /proc/self/fd/N's link).
"""

from __future__ import annotations

import _posixshmem  # type: ignore[import-not-found]  # what shared_memory uses, no stub
import contextlib
import errno
import os
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from maps_reader import MapsReader
from pshm_kids import PAGE, PREFIX, NamedSemaphores, Objects, key_of, next_number, objects

from shmtop.core.binding import native
from shmtop.core.posix import content
from shmtop.core.posix.full import FullCollector
from shmtop.core.posix.model import SHM_DIR, SemState

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")
WAIT = 30.0  # seconds: a bound for conditions that take milliseconds


@pytest.fixture
def shm() -> Iterator[Objects]:
    with objects() as made:
        yield made


class Semaphores(NamedSemaphores):
    """Named semaphores of this test, closed and unlinked at the end; sem_getvalue too."""

    def __init__(self, shm: Objects) -> None:
        self._shm = shm
        self.opened: list[native.NamedSemaphore] = []

    def make(self, value: int) -> tuple[native.NamedSemaphore, str]:
        """A new semaphore at value and its file's path."""
        name = f"{PREFIX}sem{next_number()}"
        sem = self.open("/" + name, value)
        self.opened.append(sem)
        self._shm.names.append("/sem." + name)  # shm_unlink of sem.NAME is sem_unlink
        return sem, f"{SHM_DIR}/sem.{name}"

    def value(self, sem: native.NamedSemaphore) -> int:
        return sem.value()

    def post(self, sem: native.NamedSemaphore, times: int = 1) -> None:
        for _ in range(times):
            sem.post()

    def close(self) -> None:
        for sem in self.opened:
            sem.close()


@pytest.fixture
def sems(shm: Objects) -> Iterator[Semaphores]:
    if content.semaphore_layout_known() is not None:
        pytest.skip(content.semaphore_layout_known() or "")
    made = Semaphores(shm)
    try:
        yield made
    finally:
        made.close()


def words(path: str) -> native.SemWords:
    info = os.stat(path)
    return native.read_named_semaphores([(os.fsencode(path), info.st_dev, info.st_ino)])[0]


def test_a_semaphores_words_read_in_c_are_what_sem_getvalue_says_after_posts(
    sems: Semaphores,
) -> None:
    sem, path = sems.make(0)
    assert words(path) == (0, 0, 0)
    sems.post(sem, 5)
    assert sems.value(sem) == 5
    assert words(path) == (0, 5, 0)
    other, other_path = sems.make(2)
    sems.post(other)
    both = native.read_named_semaphores(
        [(os.fsencode(p), *key_of(p.removeprefix(SHM_DIR))) for p in (path, other_path)]
    )
    assert [(w.status, w.value) for w in both] == [(0, sems.value(sem)), (0, sems.value(other))]


def test_a_blocked_waiter_is_counted_in_nwaiters_and_leaves_it_once_posted(
    sems: Semaphores,
) -> None:
    sem, path = sems.make(0)
    waiter = threading.Thread(target=sem.wait)
    waiter.start()  # cffi lets go of the GIL: the thread blocks in the futex
    try:
        deadline = time.monotonic() + WAIT
        while words(path).nwaiters != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert words(path) == (0, 0, 1)
        assert sems.value(sem) == 0
    finally:
        sems.post(sem)
        waiter.join(WAIT)
    assert not waiter.is_alive()
    assert words(path) == (0, sems.value(sem), 0) == (0, 0, 0)


def test_a_semaphore_file_replaced_unlinked_or_cut_short_is_never_read_as_it(
    sems: Semaphores, shm: Objects
) -> None:
    sem, path = sems.make(3)
    info = os.stat(path)
    listed = (os.fsencode(path), info.st_dev, info.st_ino)
    os.unlink(path)  # sem_close keeps our mapping: the semaphore lives on, unnamed
    assert native.read_named_semaphores([listed])[0].status == errno.ENOENT
    with open(path, "wb") as other:  # another file under its name
        other.write((7).to_bytes(4, "little") + bytes(28))
    assert native.read_named_semaphores([listed])[0].status == errno.ESTALE
    short = os.stat(path)
    os.truncate(path, 4)
    assert native.read_named_semaphores([(listed[0], short.st_dev, short.st_ino)]) == [
        (native.SEM_SHORT, 0, 0)
    ]
    assert sems.value(sem) == 3  # untouched by any of it


def test_a_semaphore_replaced_between_the_listing_and_its_read_shows_its_own_value(
    maps_reader: MapsReader, sems: Semaphores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing saw one file; before its words are read another takes its name. The
    snapshot gives the listed semaphore's own value (read through our mapping of it) and
    never the new file's; the next snapshot lists the new one with its own."""
    sem, path = sems.make(3)
    key = key_of(path.removeprefix(SHM_DIR))
    real = native.list_files
    replaced: list[tuple[int, int]] = []

    def listing_then_replace(*args: object, **kwargs: object) -> native.FileListing:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        if not replaced:
            os.unlink(path)
            with open(path, "wb") as other:
                other.write((7).to_bytes(4, "little") + bytes(28))
            replaced.append(key_of(path.removeprefix(SHM_DIR)))
        return found

    monkeypatch.setattr(native, "list_files", listing_then_replace)
    with FullCollector() as collector:
        first = collector.snapshot()
        old = first.posix.find(*key)
        assert old is not None and old.semaphore == SemState(3, 0)  # not the new file's 7
        later = collector.snapshot()
        new = later.posix.find(*replaced[0])
        assert new is not None and new.semaphore == SemState(7, 0)
        gone = later.posix.find(*key)
        assert gone is not None and not gone.linked and gone.semaphore == SemState(3, 0)
    assert sems.value(sem) == 3


@contextlib.contextmanager
def forked_copy() -> Iterator[int]:
    """A child of ours that holds our fds (inherited over fork) and waits on a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: wait for the word, then go (no Python cleanup)
        try:
            os.close(write_end)
            os.read(read_end, 1)
        finally:
            os._exit(0)
    os.close(read_end)
    try:
        yield pid
    finally:
        os.close(write_end)  # EOF: the child ends
        os.waitpid(pid, 0)


def test_our_own_fds_read_by_fstat_are_what_a_holders_fds_show(shm: Objects) -> None:
    """Our process's fds take another path in the C (fstat and F_GETFL on the fd itself):
    a child holding the same open files (inherited over fork) is read the usual way, and
    both give the same rows; an fd that is not ours to fstat (O_PATH) and an unlinked
    object's included."""
    names = [shm.make(size=PAGE * (n + 1)) for n in range(3)]
    paths = [SHM_DIR + name for name in names]
    fds = [
        os.open(paths[0], os.O_RDONLY),
        os.open(paths[1], os.O_RDWR),
        os.open(paths[2], os.O_PATH),
    ]
    try:
        _posixshmem.shm_unlink(names[1])  # held open, unlinked: nlink 0
        device = os.stat(SHM_DIR).st_dev
        with forked_copy() as child, forked_copy() as other:
            ours, failures = native.scan_fds([os.getpid()], [device])
            theirs, their_failures = native.scan_fds([child], [device])
            # Rows that do not fit: read again from the pid they did not fit in, none lost.
            pids = [child, ended_pid(), os.getpid(), other]
            roomy = native.scan_fds(pids, [device], capacity=1024)
            short = native.scan_fds(pids, [device], capacity=1)
        assert not failures and not their_failures
        assert short == roomy and roomy[1] == {pids[1]: errno.ESRCH}
        assert [row.pid for row in roomy[0] if row.fd in fds] == [child] * 3 + [pids[2]] * 3 + [
            other
        ] * 3
        mine = sorted(row for row in ours if row.fd in fds)
        assert [row._replace(pid=0) for row in mine] == sorted(
            row._replace(pid=0) for row in theirs if row.fd in fds
        )
        assert [(row.fd, row.access, row.nlink, row.size) for row in mine] == sorted(
            [(fds[0], 1, 1, PAGE), (fds[1], 3, 0, 2 * PAGE), (fds[2], 0, 1, 3 * PAGE)]
        )
    finally:
        for fd in fds:
            os.close(fd)


def ended_pid() -> int:
    """The pid of a child that ended and was reaped (no process has it now, most likely)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_our_own_fds_are_found_up_to_the_top_of_our_fd_table(shm: Objects) -> None:
    """Our own fds (read by fstat on each number /proc/self/fd lists): an fd far above the
    others (the table grown for it, as the task evidence's kept files sit in the upper
    half of the fd limit) is found, as a child that inherited it shows it."""
    path = SHM_DIR + shm.make(size=PAGE)
    fd = os.open(path, os.O_RDWR)
    high = os.dup2(fd, 5000)  # the table grows past 5000 (fds up to the next power of two)
    try:
        device = os.stat(SHM_DIR).st_dev
        with forked_copy() as child:
            ours, failures = native.scan_fds([os.getpid()], [device])
            theirs, _ = native.scan_fds([child], [device])
        assert not failures
        mine = {(row.fd, row.access, row.inode) for row in ours if row.fd in (fd, high)}
        assert mine == {(row.fd, row.access, row.inode) for row in theirs
                        if row.fd in (fd, high)}  # fmt: skip
        assert {number for number, _, _ in mine} == {fd, high}
        assert all(row.name == os.fsencode(path) for row in ours if row.fd == high)
    finally:
        os.close(high)
        os.close(fd)
