"""hexdump -C style lines of untrusted bytes, every byte through the sanitiser's table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shmtop.sanitize import safe_bytes

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
        for at in range(0, whole, ROW):
            row = pending[at : at + ROW]
            if squeeze and row == previous:
                if not squeezed:
                    yield "*"
                    squeezed = True
            else:
                yield format_row(offset, row)
                squeezed = False
            previous = row
            offset += ROW
        pending = pending[whole:]
    if pending:
        yield format_row(offset, pending)
        offset += len(pending)
    yield f"{offset:08x}"


def format_row(offset: int, row: bytes) -> str:
    """One dump line for up to 16 bytes at offset."""
    left = " ".join(f"{b:02x}" for b in row[:8])
    right = " ".join(f"{b:02x}" for b in row[8:16])
    return f"{offset:08x}  {left:<23}  {right:<23}  |{safe_bytes(row)}|"
