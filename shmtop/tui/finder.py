"""Search and filter in the tables, as htop has them: next/previous with wrapping, the
words of a match marked in the rows, and what an empty filtered table says.

The texts are plain (never markup); the match marks split a cell's already sanitised
text into styled pieces, as rich Text spans do, so nothing typed is ever parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment as RichSegment
from rich.style import Style

from shmtop.core.model import IpcObject, Kind, Snapshot
from shmtop.text.filtering import Filter
from shmtop.text.sanitize import safe_text

NOUNS = {Kind.SHM: "segment", Kind.SEM: "semaphore set", Kind.MSG: "queue"}  # one of a kind
NEXT_KEYS = "n next, N previous"
CLEAR_FILTER = "\\ then Esc clears it"


@dataclass(frozen=True, slots=True)
class Found:
    """Where a search landed: the row's index, and whether it went round the end."""

    index: int
    wrapped: bool


def find_row(
    rows: Sequence[IpcObject | None],
    matches: Filter,
    snapshot: Snapshot,
    cursor: int,
    *,
    direction: int = 1,
    start_after: bool = True,
) -> Found | None:
    """The first row from the cursor on (after it, with start_after) in direction that the
    search matches, going round the end of the table once; None: no row matches."""
    count = len(rows)
    first = direction if start_after else 0
    for step in range(count):
        offset = first + step * direction
        at = (cursor + offset) % count
        obj = rows[at]
        if obj is not None and matches(obj, snapshot):
            return Found(at, wrapped=not 0 <= cursor + offset < count)
    return None


def search_indicator(text: str) -> str:
    """The status line's reminder of the search the keys repeat."""
    return f"search {safe_text(text)!r} ({NEXT_KEYS})"


def filter_indicator(expression: str) -> str:
    return f"filter: {safe_text(expression)} ({CLEAR_FILTER})"


def empty_note(expression: str, noun: str) -> str:
    """What a table the filter empties says where its rows would be."""
    return f"no {noun} matches the filter {safe_text(expression)!r}: {CLEAR_FILTER}"


def match_spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """The (start, end) of every occurrence of any word in text, case folded, merged."""
    folded = text.lower()
    if len(folded) != len(text):  # a character that lowers to two: offsets would drift
        return []
    spans: list[tuple[int, int]] = []
    for word in words:
        if not word:
            continue
        at = folded.find(word)
        while at >= 0:
            spans.append((at, at + len(word)))
            at = folded.find(word, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def marked(text: str, words: Sequence[str], style: Style, mark: Style) -> list[RichSegment]:
    """A cell's text as segments, the matches of words in mark added to style."""
    spans = match_spans(text, words) if words else []
    if not spans:
        return [RichSegment(text, style)]
    pieces, at, strong = [], 0, style + mark
    for start, end in spans:
        if start > at:
            pieces.append(RichSegment(text[at:start], style))
        pieces.append(RichSegment(text[start:end], strong))
        at = end
    if at < len(text):
        pieces.append(RichSegment(text[at:], style))
    return pieces
