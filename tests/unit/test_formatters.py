"""The formatters every face shares: sizes, ages, process and attacher labels, error sentences.

Pure functions on plain values: no root, no kernel object. Each fact is written by one
function, so these tests pin its wording once for the CLI and the TUI alike.
"""

from __future__ import annotations

import errno
from datetime import UTC, datetime

import pytest

from shmtop.core.actions import Outcome, Removal
from shmtop.core.errors import Mistake, errno_words, mistake_of
from shmtop.core.model import Attachment, Kind
from shmtop.core.segment.segment_reader import CannotRead
from shmtop.text import errors, units
from shmtop.text.process_names import (
    VIEWER,
    attacher_label,
    attachers_text,
    pid_note,
    process_label,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def mapping(pid: int, command: str, *, writable: bool = False, me: bool = False) -> Attachment:
    return Attachment(pid, command, "root", writable, 0x1000, 0x2000, me)


# ---- sizes, ages, durations ----


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (None, "-"),
        (0, "0B"),
        (1023, "1023B"),
        (1024, "1.0K"),
        (3 << 20, "3.0M"),
        (5 << 50, "5120.0T"),
    ],
)
def test_human_size(count: int | None, shown: str) -> None:
    assert units.human_size(count) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (59.9, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h"),
        (86400 * 3 + 5, "3d"),
        (-5, "0s"),
    ],
)
def test_duration_is_the_largest_whole_unit(seconds: float, shown: str) -> None:
    assert units.duration(seconds) == shown


def test_an_age_says_ago_and_never_for_zero() -> None:
    assert units.age(NOW - 90, NOW) == "1m ago"
    assert units.age(0, NOW) == "never"
    assert units.short_age(NOW - 90, NOW) == "1m"
    assert units.short_age(0, NOW) == "-"
    assert units.lasted(NOW - 7200, NOW) == "2h"
    assert units.lasted(0, NOW) == "never"


def test_clock_and_since_are_local_time(utc: None) -> None:
    assert units.clock(NOW) == "2026-03-01 12:00:00"
    assert units.clock(0) == "never"
    assert units.time_of_day(NOW - 42) == "11:59:18"
    assert units.since(NOW - 42, NOW) == "11:59:18 (42s)"
    assert units.since(NOW - 42, NOW, assumed=True) == "11:59:18 (42s, assumed)"


def test_key_and_perms() -> None:
    assert units.hex_key(0x2A) == "0x0000002a"
    assert units.octal_perms(0o644) == "644"


# ---- processes and attachers ----


def test_a_process_label_has_one_shape_whatever_is_known() -> None:
    assert (
        process_label(4100, "postgres", "postgres: checkpointer") == "4100 (postgres: checkpointer)"
    )
    assert process_label(4100, None, None) == "4100 (gone)"
    assert process_label(4100, None, None, missing="") == "4100"
    assert process_label(0, "postgres", None) == "-"
    assert pid_note(4100, "hidden") == "4100 (hidden)"


def test_a_process_label_is_sanitised_and_cut() -> None:
    shown = process_label(7, "evil\x1b[2J", None)
    assert "\x1b" not in shown and shown.startswith("7 (evil")
    assert process_label(7, "x" * 40, None, width=10) == f"7 ({'x' * 9}…)"


def test_an_attacher_label_marks_the_viewer_and_with_access_a_writer() -> None:
    assert attacher_label(mapping(4100, "postgres")) == "4100 (postgres)"
    assert attacher_label(mapping(4242, "shmtop", me=True)) == f"4242 (shmtop, {VIEWER})"
    writer = mapping(4100, "postgres", writable=True)
    assert attacher_label(writer) == "4100 (postgres)"
    assert attacher_label(writer, access=True) == "4100 (postgres) rw"


def test_attachers_name_each_process_once_writable_if_any_mapping_is() -> None:
    rows = [mapping(1, "a"), mapping(1, "a", writable=True), mapping(2, "b")]
    assert attachers_text(rows) == "1 (a), 2 (b)"
    assert attachers_text(rows, access=True) == "1 (a) rw, 2 (b)"
    assert attachers_text([]) == ""


def test_attachers_cut_to_a_width_end_with_how_many_are_left() -> None:
    rows = [mapping(pid, "worker") for pid in range(100, 110)]
    text = attachers_text(rows, 40)
    assert len(text) <= 40
    shown = text.count("(worker)")
    assert text.endswith(f" +{10 - shown}") and shown >= 1
    assert attachers_text(rows, 3) == "+10"


# ---- errors: the facts and the sentences ----


@pytest.mark.parametrize(
    ("number", "mistake"),
    [
        (errno.EINVAL, Mistake.GONE),
        (errno.EIDRM, Mistake.GONE),
        (errno.EACCES, Mistake.DENIED),
        (errno.EPERM, Mistake.DENIED),
        (errno.ENOMEM, None),
        (None, None),
    ],
)
def test_which_errno_is_which_mistake(number: int | None, mistake: Mistake | None) -> None:
    assert mistake_of(number) is mistake


def test_errno_words() -> None:
    assert errno_words(errno.EPERM) == errno_words(errno.EACCES) == "permission denied"
    assert errno_words(errno.ESRCH) == "no such process"


def test_each_mistake_is_one_line_naming_the_object() -> None:
    for text in (
        errors.no_such_object("shm", 5),
        errors.permission_denied("sem", 5),
        errors.permission_denied("msg", 5, removing=True),
    ):
        assert "\n" not in text and text.split(":")[0] in ("shm 5", "sem 5", "msg 5")
    assert errors.object_error(errno.EIDRM, "msg", 5, "x") == errors.no_such_object("msg", 5)
    assert errors.object_error(errno.EACCES, "msg", 5, "x") == errors.permission_denied("msg", 5)
    assert errors.object_error(errno.ENOMEM, "msg", 5, "out of memory") == "msg 5: out of memory"


def test_a_segment_that_refused_reads_as_the_vocabulary_says() -> None:
    gone = CannotRead("shm 5: Invalid argument", OSError(errno.EINVAL, "x"), shmid=5)
    denied = CannotRead("shm 5: Permission denied", OSError(errno.EACCES, "x"), shmid=5)
    other = CannotRead("shm 5: cannot read it without attaching: ...")
    assert errors.cannot_read(gone) == errors.no_such_object("shm", 5)
    assert errors.cannot_read(denied) == errors.permission_denied("shm", 5)
    assert errors.cannot_read(other) == "shm 5: cannot read it without attaching: ..."


def test_a_removal_that_failed_says_what_every_command_says() -> None:
    gone = Removal(Kind.SEM, 7, Outcome.NOT_FOUND)
    denied = Removal(Kind.MSG, 7, Outcome.DENIED)
    assert errors.removal_text(gone) == errors.no_such_object("sem", 7)
    assert errors.removal_text(denied) == errors.permission_denied("msg", 7, removing=True)
    assert errors.removal_text(Removal(Kind.SHM, 7, Outcome.REMOVED)) == "shm 7: removed"
    changed = Removal(Kind.SHM, 7, Outcome.CHANGED, "perms 600 -> 644")
    assert (
        errors.removal_text(changed)
        == "shm 7: changed since the plan, not removed: perms 600 -> 644"
    )


def test_usage_mistakes_are_sanitised() -> None:
    assert errors.bad_sort("bogus", ["size", "id"]) == "cannot sort by 'bogus'; columns: id, size"
    assert "\x1b" not in errors.no_such_user("\x1b[31mroot")
