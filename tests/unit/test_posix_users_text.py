"""The users of a POSIX object as its verdict's reason says them (a snapshot built by hand)."""

from __future__ import annotations

import msgspec

from shmtop.core.posix.model import (
    Holder,
    Mapping,
    PosixKind,
    PosixObject,
    PosixProcess,
    PosixSnapshot,
)
from shmtop.core.posix.verdicts import judge, users_text

NOW = 1_700_000_000.0
BASE = PosixObject(27, 1, PosixKind.SHM, b"/dev/shm/a", True, True, 8192, 4096, 0, 0, 0o600,
                   NOW - 10, NOW - 10, NOW - 10)  # fmt: skip


def snapshot(*objects: PosixObject) -> PosixSnapshot:
    processes = {pid: PosixProcess(pid, f"app{pid}", 0, NOW - 100) for pid in (3, 5, 9)}
    return PosixSnapshot(NOW, objects, (), processes, frozenset({0}), {}, "text", 9)


def test_each_mapper_once_in_pid_order_with_its_modes_then_each_holder_with_its_fds() -> None:
    mappings = (
        Mapping(9, 0x1000, 0x2000, False, 0),
        Mapping(3, 0x1000, 0x2000, True, 0),
        Mapping(9, 0x5000, 0x6000, True, 4096),
        Mapping(3, 0x7000, 0x8000, True, 0),
        Mapping(4, 0x1000, 0x2000, False, 0),  # not in the scan's processes: no command
    )
    holders = (Holder(5, 7, True, True), Holder(3, 4, True, False), Holder(5, 2, True, False))
    obj = msgspec.structs.replace(BASE, mappings=mappings, holders=holders)

    assert users_text(obj, snapshot(obj)) == (
        "pid 3 (app3) maps rw, pid 4 maps ro, pid 9 (app9) maps ro/rw,"
        " pid 3 (app3) holds fd 4, pid 5 (app5) holds fd 7, 2"
    )
    assert judge(obj, snapshot(obj)).reason == f"in use: {users_text(obj, snapshot(obj))}"


def test_an_object_nobody_uses_has_no_users() -> None:
    assert users_text(BASE, snapshot(BASE)) == ""
