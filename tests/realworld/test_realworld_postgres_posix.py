"""PostgreSQL with POSIX dynamic shared memory, in its own namespaces: shmtop against /proc.

The server (Debian's package) runs with dynamic_shared_memory_type = posix (its default): its
dynamic segments are POSIX shm objects /dev/shm/PostgreSQL.N, the control segment mapped by
the postmaster and every child, a parallel query's by its leader and workers. Its main
shared memory is a System V segment (shared_memory_type = sysv), which holds the backends'
semaphores: unnamed POSIX semaphores (sem_init, pshared), so a backend waiting for an LWLock
sleeps in futex on its own semaphore, "segment X at offset Y". A second server, after the
first, runs with PostgreSQL's default settings (but for no TCP listener): its
/dev/shm/PostgreSQL.* objects have the same right mappers, and the same wait is then in
shared anonymous memory (shared_memory_type = mmap). A heavyweight lock wait is a latch
wait (epoll_wait), no IPC. The ground truth is the test's own reading of /proc and /dev/shm
inside the server's namespaces (truth_posix.py, truth.py, the waiter's maps).

/dev/shm is the session's private tmpfs (conftest's mount namespace; the server's mount
namespace is a copy of it): every PostgreSQL.* file the server leaves is removed, and fails
the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helpers
import pytest

from realworld.namespace import Namespace
from realworld.postgres import SETTINGS, Postgres, Session

pytestmark = [pytest.mark.realworld, pytest.mark.root]

POSIX_SETTINGS = {**SETTINGS, "dynamic_shared_memory_type": "posix"}
DEFAULTS = {"listen_addresses": SETTINGS["listen_addresses"]}  # no TCP: nothing else changed
DSM_PREFIX = "PostgreSQL."
TRUTH_POSIX = Path(__file__).parent / "truth_posix.py"
WORKER_TITLE = "postgres: parallel worker for PID"
FUTEX = {"x86_64": 202, "aarch64": 98, "riscv64": 98}[platform.machine()]
EPOLL_WAIT = {"x86_64": 232, "aarch64": 22, "riscv64": 22}[platform.machine()]  # epoll_pwait: 22
# Tries at stopping the sequence's user while it holds the page's buffer lock: each is a
# bounded wait for a condition (the other session answers, or blocks), never a sleep.
STOP_ATTEMPTS = 200
SETTLE_PATIENCE = 5.0  # a bound on one try (a spin on a stopped holder's spinlock), not a measure
HAMMER = "DO $$ BEGIN LOOP PERFORM nextval('hammered'); END LOOP; END $$;"

Mapping = tuple[int, str, int, int, str]  # pid, /NAME, start, end, access


def dsm_files() -> set[str]:
    return {name for name in os.listdir("/dev/shm") if name.startswith(DSM_PREFIX)}


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    before = dsm_files()
    server = Postgres(POSIX_SETTINGS)
    try:
        server.make_slow_table()
        server.psql("CREATE SEQUENCE hammered;")
        yield server
    finally:
        problems = server.stop()
        left = sorted(dsm_files() - before)
        for name in left:
            os.unlink(f"/dev/shm/{name}")
    assert not problems, problems
    assert not left, f"the server left {left} in /dev/shm"


def posix_truth(namespace: Namespace) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        namespace.run([sys.executable, "-I", str(TRUTH_POSIX)]).stdout
    )
    return found


def truth_mappings(truth: dict[str, Any]) -> frozenset[Mapping]:
    """Every mapping of a PostgreSQL.* object, joined on the inode (never the path)."""
    names = {f["inode"]: name for name, f in truth["files"].items() if name.startswith(DSM_PREFIX)}
    return frozenset(
        (int(pid), "/" + names[m["inode"]], m["start"], m["end"], m["access"])
        for pid, mappings in truth["processes"].items()
        for m in mappings
        if m["inode"] in names
    )


def shmtop_mappings(listing: dict[str, Any]) -> frozenset[Mapping]:
    return frozenset(
        (m["pid"], o["name"], m["start"], m["end"], "rw" if m["writable"] else "ro")
        for o in listing["objects"]
        if o["name"].startswith("/" + DSM_PREFIX)
        for m in o["mappings"]
    )


def observe_posix(namespace: Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The truth, `list pshm --json`, the truth again, until both truths agree."""
    seen = []
    for _ in range(5):
        before = posix_truth(namespace)
        listing = namespace.shmtop_json("list", "pshm")
        after = posix_truth(namespace)
        if truth_mappings(before) == truth_mappings(after) and before["files"] == after["files"]:
            return after, listing
        seen.append(sorted(truth_mappings(before) ^ truth_mappings(after)))
    raise AssertionError(f"the server never held still: {seen}")


@pytest.mark.parametrize("server", ["postgres", "postgres_defaults"])
def test_dsm_segments_are_posix_objects_with_the_mappers_proc_shows(
    server: str, request: pytest.FixtureRequest
) -> None:
    """On the System V server and on one with PostgreSQL's default settings (its autovacuum
    and logical replication launchers among the control segment's mappers)."""
    postgres: Postgres = request.getfixturevalue(server)
    with postgres.sessions(2), postgres.parallel_query():

        def workers_running() -> bool:
            return len(postgres.namespace.truth().with_title(WORKER_TITLE)) == 2

        helpers.wait_until(workers_running, "the parallel query's workers run")
        truth, listing = observe_posix(postgres.namespace)
        processes = postgres.namespace.truth()
    mappings = truth_mappings(truth)
    by_name: dict[str, set[int]] = {}
    for pid, name, *_ in mappings:
        by_name.setdefault(name, set()).add(pid)
    # The control segment: the postmaster and every one of its children map it.
    everyone = set(processes.processes) - {1}
    assert everyone in by_name.values(), (by_name, everyone)
    # A parallel query's segment: its leader and its two workers.
    leader = processes.with_title("postgres: postgres postgres [local] SELECT")
    assert set(leader) | set(processes.with_title(WORKER_TITLE)) in by_name.values(), by_name

    assert shmtop_mappings(listing) == mappings
    objects = {o["name"]: o for o in listing["objects"] if o["name"].startswith("/" + DSM_PREFIX)}
    assert set(objects) == {"/" + name for name in truth["files"] if name.startswith(DSM_PREFIX)}
    for name, shown in objects.items():
        file = truth["files"][name[1:]]
        assert (shown["inode"], shown["size"], shown["linked"], shown["kind"]) == (
            file["inode"], file["size"], True, "pshm")  # fmt: skip


def futex_address(namespace: Namespace, pid: int) -> int | None:
    """The word a backend's (single) thread sleeps on in futex, or None (from /proc)."""
    line = namespace.truth().processes[pid].syscalls.get(pid, "")
    fields = line.split()
    if not fields or fields[0] != str(FUTEX):
        return None
    return int(fields[1], 16)


def block_on_lwlock(postgres: Postgres, holder: Session, waiter: Session) -> int:
    """Stop holder (looping on nextval, which takes the sequence page's buffer lock) until it
    is stopped holding the lock: waiter's nextval then sleeps on its semaphore. The address.

    Each try waits (bounded) for the waiter to answer or to sleep in futex; a try where it
    does neither (it spins on a spinlock the stopped holder holds) resumes the holder."""
    holder.send(HAMMER)
    stop, resume = (["kill", f"-{sig}", str(holder.backend_pid)] for sig in ("STOP", "CONT"))
    for _ in range(STOP_ATTEMPTS):
        postgres.namespace.run(stop)
        waiter.send("SELECT nextval('hammered');")

        def settled() -> bool:
            return waiter.answered() or futex_address(postgres.namespace, waiter.backend_pid) \
                is not None  # fmt: skip

        with contextlib.suppress(TimeoutError):
            helpers.wait_until(settled, "the other session answers or blocks", SETTLE_PATIENCE)
        address = futex_address(postgres.namespace, waiter.backend_pid)
        if address is not None and not waiter.answered():
            return address
        postgres.namespace.run(resume)
        waiter.read_line("the other session's nextval never came back")
    raise AssertionError(f"never caught the holder holding the lock in {STOP_ATTEMPTS} tries")


def test_a_backend_waiting_for_an_lwlock_is_a_futex_waiter_at_its_semaphore_in_the_segment(
    postgres: Postgres,
) -> None:
    with postgres.sessions(2) as (holder, waiter):
        address = block_on_lwlock(postgres, holder, waiter)
        try:
            truth = postgres.namespace.truth()
            (segment,) = [m for m in truth.processes[waiter.backend_pid].mappings
                          if m[2] <= address < m[3]]  # fmt: skip
            shmid, offset = segment[1], address - segment[2]
            waits = postgres.namespace.shmtop_json("waiters")
            text = postgres.namespace.shmtop("waiters").stdout
        finally:
            postgres.namespace.run(["kill", "-CONT", str(holder.backend_pid)])
        postgres.psql(f"SELECT pg_cancel_backend({holder.backend_pid})")
        assert waiter.read_line().isdigit()  # its nextval went through once the holder ran

    (found,) = [w for w in waits["waiters"] if w["pid"] == waiter.backend_pid]
    assert (found["kind"], found["id"], found["syscall"]) == ("shm", shmid, "futex")
    assert found["futex"]["offset"] == offset and found["futex"]["address"] == address
    # PostgreSQL's semaphore is a glibc sem_t (sem_init, pshared): value 0, one waiter.
    assert (found["futex"]["what"], found["futex"]["sem_waiters"]) == ("semaphore", 1)
    assert holder.backend_pid in found["futex"]["mappers"]  # it maps the segment: a hint
    row = next(line for line in text.splitlines() if line.startswith(f"{waiter.backend_pid} "))
    assert f"shm {shmid} +{offset:#x}" in row and "sem_wait (value 0, nwaiters 1" in row


def test_a_backend_waiting_for_a_table_lock_sleeps_on_its_latch_and_is_no_ipc_waiter(
    postgres: Postgres,
) -> None:
    """A heavyweight lock wait (LOCK TABLE held by another session) sleeps in ProcSleep on
    the backend's latch: epoll_wait, no semaphore (PostgreSQL >= 9.5). /proc says so, and
    shmtop lists no wait for it rather than invent one."""
    with postgres.sessions(2) as (holder, waiter):
        assert holder.ask("BEGIN; LOCK TABLE slow IN ACCESS EXCLUSIVE MODE; SELECT 'held';") == (
            "held")  # fmt: skip
        waiter.send("SELECT count(*) FROM slow;")

        def asleep() -> str | None:
            """Its syscall line once it waits for the lock and sleeps in a system call."""
            rows = postgres.psql(f"SELECT wait_event_type FROM pg_stat_activity "
                                 f"WHERE pid = {waiter.backend_pid}")  # fmt: skip
            truth = postgres.namespace.truth().processes[waiter.backend_pid]
            line = truth.syscalls[waiter.backend_pid]
            return line if rows == "Lock" and not line.startswith("running") else None

        helpers.wait_until(lambda: asleep() is not None, "the second session waits for the lock")
        line = asleep()
        assert line is not None
        waits = postgres.namespace.shmtop_json("waiters")
        assert holder.ask("COMMIT; SELECT 'released';") == "released"
        assert waiter.read_line().isdigit()
    assert line.split()[0] == str(EPOLL_WAIT), line
    assert not [w for w in waits["waiters"] if w["pid"] == waiter.backend_pid]


def address_range(maps_line: str) -> range:
    start, end = maps_line.split(maxsplit=1)[0].split("-")
    return range(int(start, 16), int(end, 16))


@pytest.fixture(scope="module")
def postgres_defaults(postgres: Postgres) -> Iterator[Postgres]:
    """A server with PostgreSQL's default settings (shared_memory_type = mmap,
    dynamic_shared_memory_type = posix, autovacuum and the logical replication launcher on,
    fsync on), but for listening on its private unix socket only: after the first one
    (never two at once, each with its own namespace)."""
    before = dsm_files()
    server = Postgres(DEFAULTS)
    try:
        server.make_slow_table()
        server.psql("CREATE SEQUENCE hammered;")
        yield server
    finally:
        problems = server.stop()
        left = sorted(dsm_files() - before)
        for name in left:
            os.unlink(f"/dev/shm/{name}")
    assert not problems, problems
    assert not left, f"the server left {left} in /dev/shm"


def test_with_default_memory_settings_a_semaphore_wait_is_in_shared_anonymous_memory(
    postgres_defaults: Postgres,
) -> None:
    """shared_memory_type = mmap (the default) puts the semaphores in shared anonymous memory
    (MAP_SHARED | MAP_ANONYMOUS, inherited by every backend: /dev/zero (deleted) in maps):
    the LWLock waiter is a futex waiter on that object, by its inode, at the offset /proc
    gives, with every postgres process mapping it."""
    server = postgres_defaults
    with server.sessions(2) as (holder, waiter):
        address = block_on_lwlock(server, holder, waiter)
        try:
            maps = server.namespace.run(["cat", f"/proc/{waiter.backend_pid}/maps"]).stdout
            waits = server.namespace.shmtop_json("waiters")
            everyone = set(server.namespace.truth().processes) - {1}
        finally:
            server.namespace.run(["kill", "-CONT", str(holder.backend_pid)])
        server.psql(f"SELECT pg_cancel_backend({holder.backend_pid})")
        assert waiter.read_line().isdigit()
    (line,) = [entry for entry in maps.splitlines() if address in address_range(entry)]
    fields = line.split()
    assert fields[1].endswith("s") and line.endswith("/dev/zero (deleted)"), line
    inode, offset = int(fields[4]), address - address_range(line).start + int(fields[2], 16)

    (found,) = [w for w in waits["waiters"] if w["pid"] == waiter.backend_pid]
    assert (found["kind"], found["id"], found["syscall"]) == ("anon", inode, "futex")
    assert (found["futex"]["offset"], found["futex"]["address"]) == (offset, address)
    assert (found["futex"]["what"], found["futex"]["sem_waiters"]) == ("semaphore", 1)
    assert set(found["futex"]["mappers"]) == everyone  # forked from the postmaster: all map it
