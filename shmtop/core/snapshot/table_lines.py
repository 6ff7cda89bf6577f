"""Rows of a /proc/sysvipc table, parsing again only the lines that changed since last time.

A steady table that moved a little (a segment's RSS grew, one attached, one was made) keeps
most of its lines byte for byte; each such line gives back the very row it gave last time
(the same tuple object, so what the collector builds from it is reused by an identity test),
and only the new lines go through the C parser. The lines are compared in place first (in
C: map(bytes.__eq__)); only when lines came or went are they looked up by content. Measured
by bench/bench_record_parts.py: the whole 4000-segment table parses in ~7 ms.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import eq

from shmtop.core.binding import native

Row = tuple[int, ...]
# More lines unlike the one in their place than this: look them up by content instead (one
# segment gone and one made shifts every line between them).
IN_PLACE_MOST = 64


class TableLines:
    """Keeps the last table's lines and rows; rows(table) answers as native.parse_columns."""

    __slots__ = ("_bases", "_header", "_lines", "_rows")

    def __init__(self) -> None:
        self._header = b""
        self._bases: tuple[int, ...] = ()
        self._lines: list[bytes] = []
        self._rows: list[Row] = []

    def rows(self, table: bytes, bases: Sequence[int]) -> list[Row]:
        """Numbers of each line below the header (blank lines skipped); a line the same as
        one of the last table's gives back that row. ValueError as native.parse_columns."""
        header, _, body = table.partition(b"\n")
        bases = tuple(bases)
        if header != self._header or bases != self._bases:  # columns moved: nothing to reuse
            self._header, self._bases, self._lines, self._rows = header, bases, [], []
        lines = body.split(b"\n")
        if lines and not lines[-1]:  # the table ends with a newline
            lines.pop()
        if not self._lines:  # nothing to reuse (a first table): one parse of it as it is
            rows = native.parse_columns(table, bases)
            if len(rows) == len(lines):  # (a blank line, which the kernel writes none of:
                self._lines, self._rows = lines, rows  # no reuse next time)
            return rows
        fresh: list[int] | None = None
        if len(lines) == len(self._lines):  # the same count: most likely each in its place
            fresh = [i for i, same in enumerate(map(eq, lines, self._lines)) if not same]
            rows = list(self._rows)
        if fresh is None or len(fresh) > IN_PLACE_MOST:  # lines came, went or moved place
            by_line = dict(zip(self._lines, self._rows, strict=True))
            found = [by_line.get(line) for line in lines]
            fresh = [i for i, row in enumerate(found) if row is None]
            rows = found  # type: ignore[assignment]  # each None replaced below
        if fresh:
            parsed = native.parse_columns(header + b"\n" + b"\n".join(lines[i] for i in fresh),
                                          bases)  # fmt: skip
            if len(parsed) != len(fresh):  # a blank line (the kernel writes none): no reuse
                self._lines, self._rows = [], []
                return native.parse_columns(table, bases)
            # parse_columns gives one row a line (a short line raises), in the same order.
            for i, row in zip(fresh, parsed, strict=True):
                rows[i] = row
        self._lines, self._rows = lines, rows
        return rows  # never changed afterwards: the next table's rows are a copy
