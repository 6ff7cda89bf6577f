"""The long reads a segment view runs off the UI thread, and the one line each leaves behind."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shmtop.core.binding import native
from shmtop.core.model import Segment
from shmtop.core.segment.segment_reader import Cancelled, SegmentReader, find_mappers
from shmtop.core.snapshot.procs import title_text
from shmtop.text.hexdump import hex_lines
from shmtop.text.process_names import CELL_WIDTH, process_name
from shmtop.text.sanitize import safe_text
from shmtop.text.units import human_size
from shmtop.text.view_input import ExportRequest


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a finished scan means for the view: where to go, and what to say."""

    message: str
    goto: int | None = None
    error: bool = False


@dataclass(frozen=True, slots=True)
class Scan:
    """A named read of the segment: job runs in a thread, done(result, seconds) explains it."""

    what: str
    job: Callable[[Cancelled], Any]
    done: Callable[[Any, float], Outcome]


def search(reader: SegmentReader, pattern: bytes, cursor: int, direction: int) -> Scan:
    """The next (direction 1) or previous (-1) occurrence of pattern from the cursor."""
    shown = repr(safe_text(pattern.decode("utf-8", errors="replace")))

    def job(cancelled: Cancelled) -> int:
        if direction > 0:
            return reader.find(pattern, cursor + 1, cancelled=cancelled)
        return reader.rfind(pattern, 0, cursor + len(pattern) - 1, cancelled)

    def done(found: int, seconds: float) -> Outcome:
        if found < 0:
            where = "after" if direction > 0 else "before"
            return Outcome(f"{shown} not found {where} {cursor:#x}", error=True)
        return Outcome(f"{shown} at {found:#x} ({seconds * 1000:.0f} ms)", goto=found)

    return Scan(f"searching for {shown}", job, done)


def region(reader: SegmentReader, cursor: int, direction: int) -> Scan:
    """The start of the next (1) or previous (-1) run of non-zero bytes."""

    def job(cancelled: Cancelled) -> int:
        if direction > 0:
            return reader.next_region(cursor, cancelled)
        return reader.previous_region(cursor, cancelled)

    def done(found: int, seconds: float) -> Outcome:
        if found < 0:
            return Outcome(f"no non-zero bytes {'after' if direction > 0 else 'before'} "
                           f"{cursor:#x}")  # fmt: skip
        return Outcome(f"non-zero data at {found:#x}", goto=found)

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
    """Who maps the segment, this process marked as the viewer (reads every maps file)."""
    mappers = find_mappers(shmid, include_self=True)
    pids = list(dict.fromkeys(m.pid for m in mappers))
    facts = zip(pids, native.process_facts(pids, titles=True), strict=True)
    names = {pid: (f[1].decode(errors="replace"), title_text(f[4] or b"")) for pid, f in facts}
    own = os.getpid()
    return ", ".join(
        f"{m.pid} {process_name(*names.get(m.pid, ('?', None)), CELL_WIDTH)}"
        f"{' (this viewer)' if m.pid == own else ''}{' rw' if m.writable else ''}"
        for m in mappers
    ) or "nobody"  # fmt: skip


def attachers_of(segment: Segment) -> str:
    """The same line from a snapshot's attachments (is_self marks the viewer)."""
    return ", ".join(
        f"{a.pid} {process_name(a.command, a.title, CELL_WIDTH)}"
        f"{' (this viewer)' if a.is_self else ''}"
        f"{' rw' if a.writable else ''}"
        for a in segment.attachments
    ) or "nobody"  # fmt: skip
