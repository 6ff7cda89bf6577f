"""TableLines on made-up tables: the same rows as the whole parse, the unchanged ones reused."""

from __future__ import annotations

import pytest

from shmtop.core.binding import native
from shmtop.core.snapshot.table_lines import TableLines

HEADER = b"       key      shmid perms       size  rss\n"
BASES = [10, 10, 8, 10, 10]


def table(*lines: bytes) -> bytes:
    return HEADER + b"".join(line + b"\n" for line in lines)


A = b"         0          1   600       4096    0"
B = b"         0          2   644       8192 4096"
C = b"        -1          3   600       4096    0"


def test_unchanged_lines_give_back_the_very_rows() -> None:
    reader = TableLines()
    first = reader.rows(table(A, B, C), BASES)
    assert first == native.parse_columns(table(A, B, C), BASES)
    moved = B[:-4] + b"8192"  # its RSS grew
    second = reader.rows(table(A, moved, C), BASES)
    assert second == native.parse_columns(table(A, moved, C), BASES)
    assert second[0] is first[0] and second[2] is first[2] and second[1] != first[1]


def test_rows_that_come_and_go_and_move_place() -> None:
    reader = TableLines()
    first = reader.rows(table(A, B, C), BASES)
    second = reader.rows(table(C, A), BASES)  # B gone, a reused slot reorders
    assert second == [first[2], first[0]]
    assert second[0] is first[2]


def test_other_columns_parse_anew() -> None:
    reader = TableLines()
    reader.rows(table(A), BASES)
    again = reader.rows(table(A), [10, 10, 10, 10, 10])  # perms read as decimal now
    assert again == native.parse_columns(table(A), [10, 10, 10, 10, 10])


def test_a_blank_line_parses_as_the_whole_table_does() -> None:
    reader = TableLines()
    text = HEADER + A + b"\n\n" + B + b"\n"
    assert reader.rows(text, BASES) == native.parse_columns(text, BASES)


def test_a_short_line_raises_as_the_whole_parse() -> None:
    reader = TableLines()
    with pytest.raises(ValueError):
        reader.rows(table(A, b"         0          9"), BASES)


def test_lines_shifted_in_place_are_found_by_content() -> None:
    """One gone and one made keep the count but shift every line between: still reused."""
    many = [b"%10d %10d   600       4096    0" % (0, shmid) for shmid in range(1, 201)]
    reader = TableLines()
    first = reader.rows(table(*many), BASES)
    made = b"%10d %10d   600       4096    0" % (0, 999)
    shifted = [*many[1:], made]
    second = reader.rows(table(*shifted), BASES)
    assert second == native.parse_columns(table(*shifted), BASES)
    assert all(a is b for a, b in zip(second[:-1], first[1:], strict=True))
