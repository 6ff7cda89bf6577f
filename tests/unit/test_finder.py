"""The tables' search (shmtop.tui.finder) on a fixed snapshot: the row it lands on, when it
went round the end, and the spans of a match marked in a cell."""

from __future__ import annotations

import pytest
from fake_source import fixed_snapshot
from rich.style import Style

from shmtop.text.filtering import parse_filter
from shmtop.tui.finder import Found, find_row, marked, match_spans

SNAPSHOT = fixed_snapshot()
ROWS = list(SNAPSHOT.segments)  # 32768 (postgres), 32769, 32770 (app), 32771 (nobody)


@pytest.mark.parametrize(
    ("cursor", "direction", "start_after", "found"),
    [(0, 1, False, Found(1, False)),  # from the cursor on: the first app segment
     (1, 1, False, Found(1, False)), (1, 1, True, Found(2, False)),
     (2, 1, True, Found(1, True)),  # past the last: round to the top
     (2, -1, True, Found(1, False)), (1, -1, True, Found(2, True)),  # round to the bottom
     (3, 1, True, Found(1, True)), (0, -1, True, Found(2, True))],
)  # fmt: skip
def test_find_row_goes_round_the_end_once_and_says_so(
    cursor: int, direction: int, start_after: bool, found: Found
) -> None:
    search = parse_filter("user:app")
    got = find_row(ROWS, search, SNAPSHOT, cursor, direction=direction, start_after=start_after)
    assert got == found


def test_a_lone_match_under_the_cursor_is_found_again_round_the_end() -> None:
    search = parse_filter("user:nobody")
    assert find_row(ROWS, search, SNAPSHOT, 3) == Found(3, True)
    assert find_row(ROWS, parse_filter("user:nosuch"), SNAPSHOT, 0) is None
    assert find_row([], search, SNAPSHOT, 0) is None


def test_match_spans_are_case_folded_and_merged() -> None:
    assert match_spans("Demo-Producer demo", ["demo"]) == [(0, 4), (14, 18)]
    assert match_spans("abcabc", ["bc", "ca"]) == [(1, 6)]
    assert match_spans("aaa", ["aa"]) == [(0, 3)]
    assert match_spans("İx", ["x"]) == []  # İ lowers to two characters: no drifting marks


def test_marked_splits_a_cell_without_reading_markup() -> None:
    plain, mark = Style(), Style(bold=True)
    pieces = marked("12 ([b]x) [b]", ["[b]"], plain, mark)
    assert "".join(p.text for p in pieces) == "12 ([b]x) [b]"
    assert [p.text for p in pieces if p.style == plain + mark] == ["[b]", "[b]"]
    assert marked("nothing", ["zz"], plain, mark) == marked("nothing", [], plain, mark)
