"""Times what naming the C rows costs: plain tuples vs the NamedTuples native.py returns."""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from shmtop.core.binding import native  # noqa: E402
from shmtop.core.binding._native import ffi  # noqa: E402

ROWS = 4000


def best_ms(call: Callable[[], object]) -> float:
    return min(timeit.repeat(call, number=20, repeat=15)) / 20 * 1e3


def main() -> None:
    rows: tuple[type[tuple[int, ...]], ...] = (
        native.SemRow, native.MsgRow, native.MapRow, native.TaskRow,
    )  # fmt: skip
    print(f"| row | fields | tuple ms | NamedTuple ms ({ROWS} rows) |")
    print("|---|---:|---:|---:|")
    for row in rows:
        width = len(row._fields)  # type: ignore[attr-defined]
        out = ffi.new("long long[]", list(range(ROWS * width)))
        plain = best_ms(lambda: native._rows(out, ROWS, width, tuple))  # noqa: B023
        named = best_ms(lambda: native._rows(out, ROWS, width, row))  # noqa: B023
        print(f"| {row.__name__} | {width} | {plain:.3f} | {named:.3f} |")


if __name__ == "__main__":
    main()
