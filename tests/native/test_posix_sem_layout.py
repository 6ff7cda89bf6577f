"""A named semaphore's words are read as glibc's only where the processes that map it run
glibc (issue 12 item 2: "say layout unknown for other C libraries rather than guess"): a
statically linked program (no libc.so.6 in its maps, as a musl or a container's program)
maps the semaphore here, blocked in sem_wait on it."""

from __future__ import annotations

from pathlib import Path

from futex_kids import Child, start
from maps_reader import MapsReader

from shmtop.core.posix.collect import take_snapshot
from shmtop.core.posix.model import PosixKind, PosixObject


def semaphore_named(name: str) -> PosixObject:
    [found] = [o for o in take_snapshot().objects if o.kind is PosixKind.SEM and o.name == name]
    return found


def test_a_semaphore_mapped_by_a_glibc_program_is_read(
    child_program: Path, kids: list[Child], sem_name: str, maps_reader: MapsReader
) -> None:
    child = start(kids, child_program, "semwait", sem_name)
    assert child.line()[0] == "ready"

    found = semaphore_named(sem_name)

    assert child.pid in found.mapper_pids
    assert found.semaphore is not None
    assert (found.semaphore.value, found.semaphore.nwaiters) == (0, 1)


def test_a_semaphore_mapped_by_a_program_without_glibc_has_an_unknown_layout(
    static_child_program: Path, kids: list[Child], sem_name: str, maps_reader: MapsReader
) -> None:
    child = start(kids, static_child_program, "semwait", sem_name)
    assert child.line()[0] == "ready"

    found = semaphore_named(sem_name)

    assert child.pid in found.mapper_pids
    assert found.semaphore is not None
    assert (found.semaphore.value, found.semaphore.nwaiters) == (None, None)
    assert found.semaphore.problem == f"layout unknown: process {child.pid} does not use glibc"
