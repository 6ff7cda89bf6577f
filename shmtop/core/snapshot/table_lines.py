"""Rows of a /proc/sysvipc table, parsing again only the lines that changed since last time.

A steady table that moved a little (a segment's RSS grew, one attached, one was made) keeps
most of its lines byte for byte; each such line gives back the very row it gave last time
(the same tuple object, so what the collector builds from it is reused by an identity test),
and only the new lines go through the C parser. Measured by bench/bench_record.py (the
"table parse" lines): the whole 4000-segment table parses in ~8 ms, its lines are split and
looked up in under 1 ms.
"""

from __future__ import annotations

from collections.abc import Sequence

from shmtop.core.binding import native


class TableLines:
    """Keeps the last table's rows by line; rows(table) answers as native.parse_columns does."""

    __slots__ = ("_bases", "_header", "_rows")

    def __init__(self) -> None:
        self._header = b""
        self._bases: tuple[int, ...] = ()
        self._rows: dict[bytes, tuple[int, ...]] = {}

    def rows(self, table: bytes, bases: Sequence[int]) -> list[tuple[int, ...]]:
        """Numbers of each line below the header (blank lines skipped); a line the same as
        one of the last table's gives back that row. ValueError as native.parse_columns."""
        header, _, body = table.partition(b"\n")
        bases = tuple(bases)
        if header != self._header or bases != self._bases:  # columns moved: nothing to reuse
            self._header, self._bases, self._rows = header, bases, {}
        lines = body.split(b"\n")
        if lines and not lines[-1]:  # the table ends with a newline
            lines.pop()
        old = self._rows
        rows = [old.get(line) for line in lines]
        fresh = [line for line, row in zip(lines, rows, strict=True) if row is None]
        if fresh:
            parsed = native.parse_columns(header + b"\n" + b"\n".join(fresh), bases)
            if len(parsed) != len(fresh):  # a blank line (the kernel writes none): no reuse
                self._rows = {}
                return native.parse_columns(table, bases)
            # parse_columns gives one row a line (a short line raises), in the same order.
            each = iter(parsed)
            rows = [row if row is not None else next(each) for row in rows]
        done: list[tuple[int, ...]] = rows  # type: ignore[assignment]  # every None replaced
        self._rows = dict(zip(lines, done, strict=True))
        return done
