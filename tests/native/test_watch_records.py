"""text/watch_records: a watch's kept records are byte for byte what list_records encodes
anew, line after line, on real objects that change, appear and go, and past the grace."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys

import helpers
from helpers import MakeMsg, MakeSem, MakeShm, Spawn
from msgspec.structs import replace

from shmtop.cli.commands import KINDS, build_parser, check_listing, choose, watch_records
from shmtop.cli.output import emit_streamed
from shmtop.core.binding import native
from shmtop.core.model import Kind, Snapshot
from shmtop.core.snapshot.collect import Collector
from shmtop.core.verdicts import DEFAULT_GRACE, Status, judge
from shmtop.text.documents import list_records
from shmtop.text.watch_records import WatchRecords


def _everything() -> argparse.Namespace:
    """`list --json`'s options, checked as run_list checks them (which sets its filter)."""
    args = build_parser().parse_args(["list", "--json"])
    check_listing(args, KINDS)
    return args


EVERYTHING = _everything()
# Makes a private segment and exits: its creator is gone, so it settles, then is an orphan.
_MAKER = (
    "from shmtop.core.binding import native;"
    " print(native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600))"
)


def line(snapshot: Snapshot, records: WatchRecords | None) -> bytes:
    written = io.BytesIO()
    out = io.TextIOWrapper(written, encoding="utf-8")  # the bytes below it, as sys.stdout
    chosen = choose(snapshot, EVERYTHING, KINDS)
    if records is None:
        emit_streamed(*list_records(snapshot, chosen), out)
    else:
        emit_streamed(*records.records(snapshot, chosen), out)
    return written.getvalue()


def test_kept_records_are_the_bytes_a_new_encoding_gives_while_objects_change(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, spawn: Spawn
) -> None:
    shmid = make_shm()
    semid = make_sem(3)
    msqid = make_msg()
    spawn(attach=[(shmid, True)])
    collector = Collector()
    records = watch_records()
    try:
        lines = []
        for change in (
            lambda: None,  # nothing: every record is the one kept
            lambda: native.semop(semid, [(1, 2, 0)]),  # one set's values
            lambda: native.msgsnd(msqid, 1, b"one more"),  # one queue's header
            lambda: make_shm(8192),  # a new segment
            lambda: helpers.remove("sem", semid),  # a set gone
        ):
            change()
            snapshot = collector.snapshot()
            kept = line(snapshot, records)
            assert kept == line(snapshot, None)
            lines.append(kept)
        assert len(set(lines)) == len(lines)  # each change reached its line
    finally:
        collector.close()


def test_a_kept_record_turns_when_the_grace_is_up() -> None:
    """The same objects judged a grace later: settling becomes orphan in the kept bytes too."""
    made = subprocess.run(
        [sys.executable, "-c", _MAKER], capture_output=True, check=True, timeout=helpers.PATIENCE
    )
    shmid = helpers.record("shm", int(made.stdout))
    collector = Collector()
    records = watch_records()
    try:
        snapshot = collector.snapshot()
        segment = snapshot.find(Kind.SHM, shmid)
        assert segment is not None
        assert judge(segment, snapshot).settling
        first = line(snapshot, records)
        later = replace(snapshot, taken_at=snapshot.taken_at + DEFAULT_GRACE + 1)
        assert judge(segment, later).status is Status.ORPHAN
        kept = line(later, records)
        assert kept == line(later, None) != first
        assert b'"status":"orphan"' in kept and b'"status":"orphan"' not in first
    finally:
        collector.close()
        helpers.remove("shm", shmid)


def test_an_unchanged_line_gives_the_last_lines_records_as_they_are(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg
) -> None:
    """The very objects in the same order: each kind's list of records is the last line's
    (no look-up an object), still the bytes a new encoding gives; one object changed: a new
    list."""
    make_shm()
    semid = make_sem(2)
    make_msg()
    collector = Collector()
    records = watch_records()
    try:
        snapshot = collector.snapshot()
        chosen = choose(snapshot, EVERYTHING, KINDS)
        _, first = records.records(snapshot, chosen)
        _, second = records.records(snapshot, choose(snapshot, EVERYTHING, KINDS))
        assert all(second[name] is first[name] for name in first)
        assert line(snapshot, records) == line(snapshot, None)
        native.semop(semid, [(0, 1, 0)])
        moved = collector.snapshot()
        _, third = records.records(moved, choose(moved, EVERYTHING, KINDS))
        assert third["semaphore_sets"] is not first["semaphore_sets"]
        assert line(moved, records) == line(moved, None)
    finally:
        collector.close()
