"""How a process is named on screen: pid, name (comm) and title, sanitised and cut to a width."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from shmtop.core.model import Attachment
from shmtop.text.sanitize import safe_text

ELLIPSIS = "…"
# Widths of a process name where one is shown: in a table cell of several, alone
# in a cell, in a detail line.
SUMMARY_WIDTH = 28
CELL_WIDTH = 32
LINE_WIDTH = 64
VIEWER = "this viewer"  # what marks shmtop's own mapping (its hex view) among the attachers


def cut(text: str, width: int | None) -> str:
    """text, or its first width-1 characters and an ellipsis when longer (None: uncut)."""
    if width is None or len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS


def _without_directory(words: str) -> str:
    """The words with the first one's directory dropped: `/usr/bin/sleep 60` -> `sleep 60`."""
    first, space, rest = words.partition(" ")
    return first.rsplit("/", 1)[-1] + space + rest


def _names(word: str, name: str) -> bool:
    """Whether a word of the title is the program the name (comm, 15 bytes at most) is of."""
    return word.rsplit("/", 1)[-1].lstrip("-").startswith(name)


# A list names each process once per segment it maps (8000 attachments of 1000 processes at
# the benchmark's workload) and the TUI at every repaint: each name is worked out once.
@lru_cache(maxsize=4096)
def process_name(command: str, title: str | None, width: int | None = None) -> str:
    """What to call a process, sanitised and at most width characters (None: uncut).

    The title when it says more than the name, the first word without its
    directory: `postgres: checkpointer` for a process named `postgres`, `sleep
    60` for `/usr/bin/sleep 60`, `shmtop demo` for a script run as `python3
    /venv/bin/shmtop demo`. The name alone when the title is of another program
    (the process named itself with prctl: `demo-reader`, started as `python3 -m
    shmtop demo`; the title is in the JSON and `show`'s command lines), or when
    there is none (a kernel thread, a zombie, not read).
    """
    name = safe_text(command)
    if not title:
        return cut(name, width)
    shown = safe_text(title)
    words = shown.split(" ", 2)
    if shown.startswith(name) or _names(words[0], name):
        shown = _without_directory(shown)
    elif len(words) > 1 and _names(words[1], name):
        shown = _without_directory(shown.partition(" ")[2])  # a script and its interpreter
    else:
        return cut(name, width)
    return cut(shown.rstrip() or name, width)


def pid_note(pid: int, note: str) -> str:
    """'1234 (gone)': a pid and a word about it, the one shape every process label has."""
    return f"{pid} ({note})"


def process_label(
    pid: int,
    command: str | None,
    title: str | None,
    width: int | None = CELL_WIDTH,
    *,
    missing: str = "gone",
) -> str:
    """'1234 (postgres: checkpointer)'; '1234 (gone)' when command is None (missing="":
    '1234'); '-' for pid 0."""
    if not pid:
        return "-"
    if command is None:
        return pid_note(pid, missing) if missing else str(pid)
    return pid_note(pid, process_name(command, title, width))


def attacher_label(attachment: Attachment, *, access: bool = False) -> str:
    """'4100 (postgres)', '4242 (shmtop, this viewer)' for shmtop's own mapping; with
    access, ' rw' after a writable one."""
    return _attacher(attachment, access and attachment.writable)


def _attacher(attachment: Attachment, rw: bool) -> str:
    name = process_name(attachment.command, attachment.title, SUMMARY_WIDTH)
    viewer = f", {VIEWER}" if attachment.is_self else ""
    return pid_note(attachment.pid, name + viewer) + (" rw" if rw else "")


def attachers_text(
    attachments: Iterable[Attachment], width: int | None = None, *, access: bool = False
) -> str:
    """Who is attached, one label a process ('4100 (postgres), 4101 (psql) +3'), cut to
    width with a '+N' tail for the rest; '' for nobody. A process with several mappings is
    named once, writable (with access) when any of them is. Only the labels that fit are
    made: a segment of thousands of attachers costs one pass, not thousands of names."""
    first: dict[int, Attachment] = {}
    writers: set[int] = set()
    for attachment in attachments:
        first.setdefault(attachment.pid, attachment)
        if attachment.writable:
            writers.add(attachment.pid)
    text = ""
    for shown, attachment in enumerate(first.values()):
        label = _attacher(attachment, access and attachment.pid in writers)
        candidate = f"{text}, {label}" if text else label
        rest = len(first) - shown - 1
        if width is not None and len(candidate) + (len(f" +{rest}") if rest else 0) > width:
            return f"{text} +{len(first) - shown}" if text else f"+{len(first)}"
        text = candidate
    return text
