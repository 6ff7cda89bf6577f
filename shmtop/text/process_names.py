"""How a process is named on screen: pid, name (comm) and title, sanitised and cut to a width."""

from __future__ import annotations

from shmtop.text.sanitize import safe_text

ELLIPSIS = "…"
# Widths of a process name where one is shown: in a table cell of several, alone
# in a cell, in a detail line.
SUMMARY_WIDTH = 28
CELL_WIDTH = 32
LINE_WIDTH = 64


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


def process_label(
    pid: int, command: str | None, title: str | None, width: int | None = CELL_WIDTH
) -> str:
    """'1234 (postgres: checkpointer)'; '1234 (gone)' when command is None; '-' for pid 0."""
    if not pid:
        return "-"
    if command is None:
        return f"{pid} (gone)"
    return f"{pid} ({process_name(command, title, width)})"
