"""Which rows of a table moved since the last read, by identity (TableLines hands back the
very tuple of an unchanged line), so that what was worked out from the last rows is kept when
the rows that moved did not move in the columns it depends on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import is_
from typing import TypeVar

Row = tuple[int, ...]
T = TypeVar("T")


def moved(old: Sequence[Row] | None, new: Sequence[Row]) -> list[int] | None:
    """Positions whose row is not the very row of old at that position; None when the two
    cannot be compared so (no old rows, or rows came or went)."""
    if old is None or len(old) != len(new):
        return None
    return [i for i, same in enumerate(map(is_, old, new)) if not same]


def same_in(old: Sequence[Row] | None, new: Sequence[Row], columns: Sequence[int]) -> bool:
    """Whether new's rows agree with old's, position by position, in these columns."""
    positions = moved(old, new)
    if positions is None or old is None:
        return False
    return all(old[i][c] == new[i][c] for i in positions for c in columns)


def remade(
    old: Sequence[Row] | None,
    new: Sequence[Row],
    made: Sequence[T],
    make: Callable[[Row], T],
    id_column: int,
) -> list[T] | None:
    """What make gives for each of new, where made[i] is what it gave for old[i]: made again
    only for the rows that moved (each keeping its id). None when the rows do not line up
    so (rows came, went or changed place): then make each."""
    positions = moved(old, new)
    if positions is None or old is None or len(made) != len(old):
        return None
    if any(old[i][id_column] != new[i][id_column] for i in positions):
        return None
    out = list(made)
    for i in positions:
        out[i] = make(new[i])
    return out
