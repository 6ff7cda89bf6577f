"""Run a Textual app so that a crash exits non-zero with one line saying where its traceback is."""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.app import App

from shmtop.text.sanitize import safe_text

EXIT_CRASH = 70  # EX_SOFTWARE: an internal error, not the user's


def crash_dir() -> Path:
    """$XDG_STATE_HOME/shmtop (default ~/.local/state/shmtop), made private (0700)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "shmtop"


def write_report(text: str) -> Path:
    """Write the report to a new file with a unique name: created exclusively, mode 0600,
    never through a symlink (mkstemp); in the state directory, or the temp directory if
    that cannot be made."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        folder = crash_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".txt", dir=folder)
    except OSError:
        fd, name = tempfile.mkstemp(prefix=f"shmtop-crash-{stamp}-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as out:
        out.write(text)
    return Path(name)


def last_line(text: str) -> str:
    """The exception's own line (the last non-blank one of a traceback), short and safe."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = safe_text(lines[-1]) if lines else "unknown error"
    return line if len(line) <= 120 else line[:119] + "…"


def run_app(app: App[Any], what: str = "the interactive view") -> int:
    """app.run(); 0 when it ended normally. A crash (Textual catches it, prints a long
    traceback and returns normally; or app.run itself raises) is written to a file, told
    in one line on stderr, and returns EXIT_CRASH."""
    report = io.StringIO()
    # Textual prints the traceback of an unhandled error on its error console once the
    # terminal is restored: catch it in memory, keep it in a file instead.
    app.error_console = Console(
        file=report, markup=False, highlight=False, color_system=None, width=120
    )
    try:
        app.run()
    except Exception:
        report.write(traceback.format_exc())
    text = report.getvalue()
    code = app.return_code or 0
    if not text and code == 0:
        return 0
    if not text:
        text = f"{what} ended with status {code} and no traceback\n"
    try:
        where = str(write_report(text))
    except OSError as error:
        where = f"nowhere: cannot write a report ({error})"
    print(
        f"shmtop: {what} crashed: {last_line(text)}; the full traceback is in {where}",
        file=sys.stderr,
    )
    return EXIT_CRASH
