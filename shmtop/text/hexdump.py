"""hexdump -C style lines of untrusted bytes, every byte through the sanitiser's table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shmtop.text.sanitize import safe_bytes

ROW = 16


def hex_lines(chunks: Iterable[bytes], start: int = 0, *, squeeze: bool = True) -> Iterator[str]:
    """Offset, 16 hex bytes in two groups, and |text|; repeated rows become one '*' line."""
    offset = start
    previous: bytes | None = None
    squeezed = False
    pending = b""
    for chunk in chunks:
        pending += chunk
        whole = len(pending) - len(pending) % ROW
        at = 0
        while at < whole:
            row = pending[at : at + ROW]
            if squeeze and row == previous:
                if not squeezed:
                    yield "*"
                    squeezed = True
                # A run of repeats (a hole: megabytes of zeros) is skipped at C speed.
                run = _repeats(pending, at, whole, row)
                at += run * ROW
                offset += run * ROW
                continue
            yield format_row(offset, row)
            squeezed = False
            previous = row
            at += ROW
            offset += ROW
        pending = pending[whole:]
    if pending:
        yield format_row(offset, pending)
        offset += len(pending)
    yield f"{offset:08x}"


def _repeats(data: bytes, at: int, end: int, row: bytes) -> int:
    """How many whole rows from at (before end) are row, the first being one: compared
    in slices, halving the span, never row by row."""
    rows = (end - at) // ROW
    if data[at:end] == row * rows:
        return rows
    low, high = 1, rows  # the first low rows repeat; the first high rows do not all
    while high - low > 1:
        middle = (low + high) // 2
        if data[at : at + middle * ROW] == row * middle:
            low = middle
        else:
            high = middle
    return low


def format_row(offset: int, row: bytes) -> str:
    """One dump line for up to 16 bytes at offset."""
    left = " ".join(f"{b:02x}" for b in row[:8])
    right = " ".join(f"{b:02x}" for b in row[8:16])
    return f"{offset:08x}  {left:<23}  {right:<23}  |{safe_bytes(row)}|"
