"""Fixtures that make real System V objects and real processes, and always clean them up.

Every object is created with IPC_PRIVATE and recorded (helpers.record); a
session-scoped fixture fails the run if any recorded object is still listed
in /proc/sysvipc when the session ends, and removes it so the machine stays
clean. Children are killed by PID and reaped when their test ends.

As root the whole session runs in a private IPC namespace of its own (entered
before any test or thread starts, inherited by every child and subprocess), so
the tests see only their own objects and never touch the machine's. /dev/shm
(POSIX shared memory) belongs to the mount namespace instead: the session also
enters a private mount namespace with a fresh tmpfs on /dev/shm, gone with the
session's last process.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import time
from collections.abc import Iterator, Sequence

import helpers
import maps_reader as readers
import pytest
import snapshot_pin
from helpers import MakeMsg, MakeSem, MakeShm, Spawn

from shmtop.core.binding import native

pytest_plugins = ["pytester", "futex_kids", "pmq_kids"]  # children blocked in futex(2), on queues

_CLONE_NEWIPC = 0x08000000
_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x4000, 1 << 18
HOST_IPC_NAMESPACE = os.stat("/proc/self/ns/ipc").st_ino  # before the session left it


def pytest_configure(config: pytest.Config) -> None:
    """Enter a private IPC namespace (root only; others share the machine's, IPC_PRIVATE)."""
    snapshot_pin.refuse_update_on_another_textual(config)
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWIPC) != 0:
        number = ctypes.get_errno()
        raise pytest.UsageError(f"unshare(CLONE_NEWIPC) failed: {os.strerror(number)}")
    _private_dev_shm(libc)


def _private_dev_shm(libc: ctypes.CDLL) -> None:
    """A mount namespace of the session's own with an empty tmpfs on /dev/shm: the POSIX
    tests see only their objects, and nothing they make can outlive the session there."""

    def step(what: str, result: int) -> None:
        if result != 0:
            number = ctypes.get_errno()
            raise pytest.UsageError(f"private /dev/shm: {what} failed: {os.strerror(number)}")

    step("unshare(CLONE_NEWNS)", libc.unshare(_CLONE_NEWNS))
    # no mount event may travel back to the machine's namespace
    step("mount --make-rprivate /", libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None))
    step(
        "mount tmpfs /dev/shm",
        libc.mount(b"shmtop-tests", b"/dev/shm", b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=1777"),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    snapshot_pin.mark_snapshot_tests(items)


# How long a segment already removed with IPC_RMID may take to go once its
# last attacher died (the mm of a reaped process can be released a moment
# later when a /proc reader holds it). A bound, not a measurement.
DEST_GRACE = 10.0


def _remove_all(kind: helpers.Kind, made: list[int]) -> None:
    for ident in reversed(made):
        helpers.remove(kind, ident)


@pytest.fixture
def make_shm() -> Iterator[MakeShm]:
    """Create segments (IPC_PRIVATE); each is removed when the test ends."""
    made: list[int] = []

    def make(size: int = 4096, mode: int = 0o600) -> int:
        shmid = native.shmget(native.IPC_PRIVATE, size, native.IPC_CREAT | mode)
        made.append(helpers.record("shm", shmid))
        return shmid

    yield make
    _remove_all("shm", made)


@pytest.fixture
def make_sem() -> Iterator[MakeSem]:
    """Create semaphore sets (IPC_PRIVATE); each is removed when the test ends."""
    made: list[int] = []

    def make(nsems: int, mode: int = 0o600) -> int:
        semid = native.semget(native.IPC_PRIVATE, nsems, native.IPC_CREAT | mode)
        made.append(helpers.record("sem", semid))
        return semid

    yield make
    _remove_all("sem", made)


@pytest.fixture
def make_msg() -> Iterator[MakeMsg]:
    """Create message queues (IPC_PRIVATE); each is removed when the test ends."""
    made: list[int] = []

    def make(mode: int = 0o600) -> int:
        msqid = native.msgget(native.IPC_PRIVATE, native.IPC_CREAT | mode)
        made.append(helpers.record("msg", msqid))
        return msqid

    yield make
    _remove_all("msg", made)


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start real child processes (see helpers.start_child).

    When the test ends every child and grandchild is killed by PID and reaped,
    and any segment a child created is removed.
    """
    children: list[helpers.Child] = []

    def start(
        *,
        name: str = "shmtop-kid",
        attach: Sequence[tuple[int, bool]] = (),
        forks: int = 0,
        create_shm: int | None = None,
        semop: tuple[int, int, int] | None = None,
        exit_after_report: bool = False,
    ) -> helpers.Child:
        child = helpers.start_child(
            name=name, attach=attach, forks=forks, create_shm=create_shm,
            semop=semop, exit_after_report=exit_after_report,
        )  # fmt: skip
        children.append(child)
        if child.created is not None:
            helpers.record("shm", child.created)
        return child

    yield start
    errors: list[BaseException] = []
    for child in reversed(children):
        try:
            child.stop()
        except Exception as error:  # stop the others anyway, then report
            errors.append(error)
        if child.created is not None:
            helpers.remove("shm", child.created)
    if errors:
        raise errors[0]


@pytest.fixture(params=native.READERS)
def maps_reader(request: pytest.FixtureRequest) -> Iterator[readers.MapsReader]:
    """Run the test once on each maps reader (PROCMAP_QUERY, text); see tests/maps_reader.py."""
    yield from readers.run_on(request.param)


@pytest.fixture(scope="session", autouse=True)
def no_ipc_object_outlives_the_session() -> Iterator[None]:
    """Fail the run if an object the tests created is still alive at the end."""
    yield
    left = helpers.leftovers()
    if left and all(
        helpers.removed_but_attached(kind, ident) for kind, ids in left.items() for ident in ids
    ):
        # Only segments already removed (IPC_RMID) and waiting for a detach:
        # give a dying attacher a bounded moment before calling them leaked.
        with contextlib.suppress(TimeoutError):
            helpers.wait_until(lambda: not helpers.leftovers(), "removed segments go", DEST_GRACE)
        left = helpers.leftovers()
    if not left:
        return
    for kind, ids in left.items():
        for ident in ids:
            helpers.remove(kind, ident)
    listing = "; ".join(f"{kind} {', '.join(map(str, ids))}" for kind, ids in left.items())
    still = helpers.leftovers()
    note = f" (still there after IPC_RMID: {still})" if still else " (removed now)"
    pytest.fail(f"System V objects the tests created outlived the session: {listing}{note}")


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times on screen are local time: pin the zone so SVG snapshots match anywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
