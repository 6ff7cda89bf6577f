"""The long reads of a segment view, as data: where a pattern or data is, who maps it now.

Each runs off the UI thread and may be cancelled; text/segment_scans.py says what a
result means (the sentences), this module only finds it.
"""

from __future__ import annotations

import os

from shmtop.core.binding import native
from shmtop.core.model import Attachment
from shmtop.core.segment.segment_reader import Cancelled, SegmentReader, find_mappers
from shmtop.core.snapshot.accounts import user_name
from shmtop.core.snapshot.procs import title_text

UNREAD = "?"  # the name of a mapper whose /proc entries could not be read (gone meanwhile)


def find_from(
    reader: SegmentReader, pattern: bytes, cursor: int, direction: int, cancelled: Cancelled
) -> int:
    """The next (direction 1) or previous (-1) offset of pattern from the cursor; -1: none."""
    if direction > 0:
        return reader.find(pattern, cursor + 1, cancelled=cancelled)
    return reader.rfind(pattern, 0, cursor + len(pattern) - 1, cancelled)


def find_wrapping(
    reader: SegmentReader, pattern: bytes, cursor: int, direction: int, cancelled: Cancelled
) -> tuple[int, bool]:
    """find_from, going round the end once (as htop's search does): (offset or -1, whether
    it went round)."""
    found = find_from(reader, pattern, cursor, direction, cancelled)
    if found >= 0:
        return found, False
    if direction > 0:
        found = reader.find(pattern, 0, cancelled=cancelled)
    else:
        found = reader.rfind(pattern, 0, reader.size, cancelled)
    return found, found >= 0


def region_from(reader: SegmentReader, cursor: int, direction: int, cancelled: Cancelled) -> int:
    """The start of the next (1) or previous (-1) run of non-zero bytes; -1: none."""
    if direction > 0:
        return reader.next_region(cursor, cancelled)
    return reader.previous_region(cursor, cancelled)


def mapped_by(shmid: int) -> list[Attachment]:
    """Who maps the segment now (reads every maps file), this process marked is_self.

    The same rows a snapshot's attachments are, so one formatter names both.
    """
    mappers = find_mappers(shmid, include_self=True)
    pids = list(dict.fromkeys(m.pid for m in mappers))
    facts = dict(zip(pids, native.process_facts(pids, titles=True), strict=True))
    own = os.getpid()
    found = []
    for mapper in mappers:
        fact = facts[mapper.pid]
        read = fact.errno == 0
        command = fact.comm.decode(errors="replace") if read else UNREAD
        title = title_text(fact.title or b"") if read else None
        user = user_name(fact.uid) if read else UNREAD
        found.append(Attachment(mapper.pid, command, user, mapper.writable, mapper.start,
                                mapper.end, mapper.pid == own, title))  # fmt: skip
    return found
