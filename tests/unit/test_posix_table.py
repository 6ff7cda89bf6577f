"""The plain-text POSIX tables on snapshots built by hand (presentation only)."""

from __future__ import annotations

from typing import Any

import msgspec

from shmtop.core.posix.model import (
    Holder,
    Mapping,
    PosixKind,
    PosixObject,
    PosixProcess,
    PosixSnapshot,
    SemState,
)
from shmtop.text import posix_table

NOW = 1_700_000_000.0


BASE = PosixObject(27, 1, PosixKind.SHM, b"/dev/shm/a", True, True, 8192, 4096, 0, 0, 0o600,
                  NOW - 10, NOW - 10, NOW - 10)  # fmt: skip


def obj(path: bytes, inode: int, **fields: Any) -> PosixObject:
    return msgspec.structs.replace(BASE, path=path, inode=inode, **fields)


def snapshot(*objects: PosixObject, uninspected: dict[int, int] | None = None) -> PosixSnapshot:
    processes = {pid: PosixProcess(pid, f"app{pid}", 0, NOW - 100) for pid in range(1, 10)}
    return PosixSnapshot(NOW, objects, (), processes, frozenset({0}), uninspected or {}, "text", 9)


def rows(snap: PosixSnapshot, kind: PosixKind = PosixKind.SHM) -> list[list[str]]:
    lines = posix_table.table_lines(snap, kind)
    return [line.split("  ") for line in lines[1:]]


def test_mappers_are_named_once_each_with_rw_and_cut_after_three() -> None:
    maps = tuple(
        Mapping(pid, 0x1000 * pid, 0x1000 * pid + 4096, pid == 2, 0) for pid in (1, 2, 2, 3, 4, 5)
    )
    shown = posix_table.mapped_by(obj(b"/dev/shm/a", 1, mappings=maps), snapshot())
    assert shown == "1 app1 ro, 2 app2 rw, 3 app3 ro +2"


def test_an_object_not_stated_shows_question_marks_not_made_up_numbers() -> None:
    blind = obj(
        b"/dev/shm/x (deleted)", 2, linked=False, in_shm_dir=False, stat_known=False, uid=-1,
        gid=-1, mode=0, allocated=0, mappings=(Mapping(1, 0, 4096, True, 0),),
    )  # fmt: skip
    line = posix_table.table_lines(snapshot(blind), PosixKind.SHM)[1]
    assert line.split()[:6] == ["/x", "?", "?", "8.0K", "?", "?"]
    assert "unlinked" in line


def test_named_first_then_unlinked_and_the_summary_counts_the_memory_they_hold() -> None:
    held = obj(b"/dev/shm/b (deleted)", 3, linked=False, in_shm_dir=False, allocated=65536,
               holders=(Holder(4, 7, True, False),))  # fmt: skip
    snap = snapshot(held, obj(b"/dev/shm/z", 4))
    names = [line.split()[0] for line in posix_table.table_lines(snap, PosixKind.SHM)[1:]]
    assert names == ["/z", "/b"]
    assert posix_table.summary_line(snap, PosixKind.SHM) == (
        "POSIX shared memory (2, 1 unlinked holding 64.0K)"
    )


def test_semaphores_show_value_and_nwaiters_or_a_question_mark() -> None:
    known = obj(b"/dev/shm/sem.s", 5, kind=PosixKind.SEM, semaphore=SemState(3, 1))
    unknown = obj(b"/dev/shm/sem.t", 6, kind=PosixKind.SEM,
                  semaphore=SemState(None, None, "layout unknown"))  # fmt: skip
    lines = posix_table.table_lines(snapshot(known, unknown), PosixKind.SEM)
    assert [line.split()[:5] for line in lines[1:]] == [
        ["/s", "root", "600", "3", "1"], ["/t", "root", "600", "?", "?"],
    ]  # fmt: skip


def test_the_blind_spot_note_says_nothing_is_called_an_orphan() -> None:
    assert posix_table.blind_spot_note(snapshot()) is None
    note = posix_table.blind_spot_note(snapshot(uninspected={1: 13}))
    assert note is not None and note.startswith("1 process could not") and "orphan" in note
