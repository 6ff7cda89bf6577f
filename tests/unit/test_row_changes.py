"""row_changes: rows compared by identity, in place, and what is made again from them."""

from __future__ import annotations

from shmtop.core.snapshot import row_changes

A, B, C = (1, 10, 100), (2, 20, 200), (3, 30, 300)


def test_moved_names_the_places_of_rows_that_are_not_the_very_same() -> None:
    b_again = (2, 20, 201)
    assert row_changes.moved([A, B, C], [A, b_again, C]) == [1]
    assert row_changes.moved([A, B, C], [A, B, C]) == []
    assert row_changes.moved([A, B], [A, B, C]) is None
    assert row_changes.moved(None, [A]) is None


def test_same_in_looks_only_at_the_columns_asked() -> None:
    b_again = (2, 20, 201)
    assert row_changes.same_in([A, B], [A, b_again], (0, 1))
    assert not row_changes.same_in([A, B], [A, b_again], (2,))
    assert not row_changes.same_in([A, B], [B, A], (0,))  # changed place: not the same


def test_remade_makes_only_what_moved_and_refuses_a_row_of_another_id() -> None:
    made = ["a", "b", "c"]
    calls: list[tuple[int, ...]] = []

    def make(row: tuple[int, ...]) -> str:
        calls.append(row)
        return f"new {row[0]}"

    b_again = (2, 20, 201)
    assert row_changes.remade([A, B, C], [A, b_again, C], made, make, 0) == ["a", "new 2", "c"]
    assert calls == [b_again]
    assert row_changes.remade([A, B, C], [A, (4, 40, 400), C], made, make, 0) is None
    assert row_changes.remade([A, B], [A, B, C], made, make, 0) is None
