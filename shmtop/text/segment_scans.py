"""What a segment view's long reads mean: the job (core/segment/scans.py) and its one line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from shmtop.core.model import Segment
from shmtop.core.segment import scans
from shmtop.core.segment.segment_reader import Cancelled, SegmentReader
from shmtop.text.filtering import wrapped_note
from shmtop.text.hexdump import hex_lines
from shmtop.text.process_names import attachers_text
from shmtop.text.sanitize import safe_text
from shmtop.text.units import human_size
from shmtop.text.view_input import ExportRequest

NOBODY = "nobody"  # the attachers line of a segment nobody maps


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a finished scan means for the view: where to go, and what to say."""

    message: str
    goto: int | None = None
    error: bool = False
    match: int | None = None  # a search's: how many bytes from goto matched (None: no search)


@dataclass(frozen=True, slots=True)
class Scan:
    """A named read of the segment: job runs in a thread, done(result, seconds) explains it."""

    what: str
    job: Callable[[Cancelled], Any]
    done: Callable[[Any, float], Outcome]


def search(reader: SegmentReader, pattern: bytes, cursor: int, direction: int) -> Scan:
    """The next (direction 1) or previous (-1) occurrence of pattern from the cursor, going
    round the end of the segment once (and saying so)."""
    shown = repr(safe_text(pattern.decode("utf-8", errors="replace")))

    def done(result: tuple[int, bool], seconds: float) -> Outcome:
        found, wrapped = result
        if found < 0:
            return Outcome(f"{shown} not found in the segment", error=True, match=0)
        note = f"{wrapped_note(direction)}: " if wrapped else ""  # first: it fits 80 columns
        return Outcome(f"{note}{shown} at {found:#x} ({seconds * 1000:.0f} ms)", goto=found,
                       match=len(pattern))  # fmt: skip

    job = partial(scans.find_wrapping, reader, pattern, cursor, direction)
    return Scan(f"searching for {shown}", job, done)


def region(reader: SegmentReader, cursor: int, direction: int) -> Scan:
    """The start of the next (1) or previous (-1) run of non-zero bytes."""

    def done(found: int, seconds: float) -> Outcome:
        if found < 0:
            return Outcome(f"no non-zero bytes {'after' if direction > 0 else 'before'} "
                           f"{cursor:#x}")  # fmt: skip
        return Outcome(f"non-zero data at {found:#x}", goto=found)

    job = partial(scans.region_from, reader, cursor, direction)
    return Scan("looking for non-zero bytes", job, done)


def export(reader: SegmentReader, request: ExportRequest) -> Scan:
    """Save a range to a new file, raw or as a hex dump."""
    path, kind = safe_text(request.path), "hex dump" if request.hex_dump else "raw bytes"

    def job(cancelled: Cancelled) -> int:
        return reader.export(request.path, request.start, request.end,
                             lines=hex_lines if request.hex_dump else None,
                             cancelled=cancelled)  # fmt: skip

    def done(written: int, seconds: float) -> Outcome:
        return Outcome(f"saved {request.start:#x}-{request.end:#x} ({human_size(written)}) "
                       f"to {path} as {kind}")  # fmt: skip

    return Scan(f"saving to {path}", job, done)


def attachers_line(shmid: int) -> str:
    """Who maps the segment now, this process marked as the viewer (reads every maps file)."""
    return attachers_text(scans.mapped_by(shmid), access=True) or NOBODY


def attachers_of(segment: Segment) -> str:
    """The same line from a snapshot's attachments (is_self marks the viewer)."""
    return attachers_text(segment.attachments, access=True) or NOBODY
