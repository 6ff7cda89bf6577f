"""How a process is named on screen: pid, name (comm) and title, sanitised and cut to a width."""

from __future__ import annotations

from shmtop.sanitize import safe_text

ELLIPSIS = "…"
# A title cut to fewer characters than this says nothing the name does not: then
# the name alone is shown (only where the title does not begin with the name).
MIN_TITLE_SHOWN = 12
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


def _program(title: str) -> str:
    """The program a title begins with: its first word without a directory or a login '-'."""
    return title.split(" ", 1)[0].rsplit("/", 1)[-1].lstrip("-")


def process_name(command: str, title: str | None, width: int | None = None) -> str:
    """What to call a process, sanitised and at most width characters (None: uncut).

    The title when it says more than the name: `postgres: checkpointer` for a
    process named `postgres`, `sleep 60` for `sleep`. A title that begins with
    another program (the process renamed itself, or wrote a title of its own) is
    shown after the name, `demo-reader: /usr/bin/python3 -m shmtop demo`, and left
    out where too little of it would fit. No title (a kernel thread, a zombie, not
    read): the name.
    """
    name = safe_text(command)
    if not title:
        return cut(name, width)
    shown = safe_text(title)
    first, _, rest = shown.partition(" ")
    program = _program(first)
    if program.startswith(name):  # the name is the program's, or its first 15 bytes
        if f"{program} {rest}".rstrip() == name:
            return cut(name, width)  # the title is the name, perhaps with a path
        return cut(shown, width)
    if width is not None and width - len(name) - 2 < MIN_TITLE_SHOWN:
        return cut(name, width)
    return cut(f"{name}: {shown}", width)


def process_label(
    pid: int, command: str | None, title: str | None, width: int | None = CELL_WIDTH
) -> str:
    """'1234 (postgres: checkpointer)'; '1234 (gone)' when command is None; '-' for pid 0."""
    if not pid:
        return "-"
    if command is None:
        return f"{pid} (gone)"
    return f"{pid} ({process_name(command, title, width)})"
