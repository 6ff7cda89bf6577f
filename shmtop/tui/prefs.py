"""Preferences remembered between runs, in $XDG_CONFIG_HOME/shmtop/preferences.json."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INTERVALS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
TABS = ("shm", "sem", "msg", "pshm", "psem", "pmq")  # System V, then POSIX (posix_prefs.py)
DEFAULT_THEME = "textual-dark"


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shmtop" / "preferences.json"


def temporary_path(target: Path) -> Path:
    """Where save() writes before renaming: next to the file (a rename stays on one file
    system), named after this process (two shmtops saving at once do not collide)."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


@dataclass
class Preferences:
    """What the interactive view remembers: theme, refresh interval, sort and hidden columns
    per tab.

    `problem` is not saved: why the file was ignored (in whole or in part) when loaded,
    for the view to say once; None when it was fine or absent.
    """

    theme: str = DEFAULT_THEME
    interval: float = 1.0
    sort: dict[str, list[Any]] = field(default_factory=dict)  # tab -> [column, reverse]
    hidden: dict[str, list[str]] = field(default_factory=dict)  # tab -> column keys (F2)
    problem: str | None = field(default=None, compare=False)

    @classmethod
    def load(cls, path: Path | None = None) -> Preferences:
        """The saved preferences; the defaults when there are none, and for what is unreadable
        or invalid (then `problem` says what was ignored)."""
        where = path or config_path()
        try:
            text = where.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as error:
            return cls(problem=f"preferences {where} unreadable ({error}); using the defaults")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
            reason = "nested too deep" if isinstance(error, RecursionError) else "not JSON"
            return cls(problem=f"preferences {where} ignored ({reason}); using the defaults")
        if not isinstance(data, dict):
            return cls(problem=f"preferences {where} ignored (not an object); using the defaults")
        prefs = cls()
        bad: list[str] = []
        theme, interval, sort = data.get("theme"), data.get("interval"), data.get("sort")
        if isinstance(theme, str) and theme:
            prefs.theme = theme
        elif "theme" in data:
            bad.append("theme")
        if type(interval) in (int, float) and interval in INTERVALS:
            prefs.interval = float(interval)
        elif "interval" in data:
            bad.append("interval")
        if isinstance(sort, dict):
            prefs.sort = {tab: list(entry) for tab, entry in sort.items() if _sort_ok(tab, entry)}
            if len(prefs.sort) != len(sort):
                bad.append("sort")
        elif "sort" in data:
            bad.append("sort")
        hidden = data.get("hidden")
        if isinstance(hidden, dict):
            kept = {tab: keys for tab, keys in hidden.items() if _hidden_ok(tab, keys)}
            prefs.hidden = {tab: list(keys) for tab, keys in kept.items()}
            if len(prefs.hidden) != len(hidden):
                bad.append("hidden")
        elif "hidden" in data:
            bad.append("hidden")
        if bad:
            prefs.problem = f"preferences {where}: ignored invalid {', '.join(bad)}"
        return prefs

    def as_dict(self) -> dict[str, Any]:
        return {"theme": self.theme, "interval": self.interval, "sort": self.sort,
                "hidden": self.hidden}  # fmt: skip

    def save(self, path: Path | None = None) -> None:
        """Write atomically (a crash never leaves half a file) and never through a link: the
        temporary file is created anew (O_EXCL | O_NOFOLLOW) and renamed over the file (a
        rename replaces a link, it does not follow it). Errors are ignored: preferences
        are a convenience."""
        target = path or config_path()
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = temporary_path(target)
            descriptor = _create_exclusively(temporary)
        except OSError:
            return
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(self.as_dict(), file, indent=2)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _sort_ok(tab: object, entry: object) -> bool:
    return (
        tab in TABS
        and isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], bool)
    )


def _hidden_ok(tab: object, keys: object) -> bool:
    return tab in TABS and isinstance(keys, list) and all(isinstance(k, str) for k in keys)


def _create_exclusively(path: Path) -> int:
    """A new file at path, opened for writing; whatever is there already (a leftover of a
    crash, or a link someone planted) is unlinked first, never written through."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError:
        os.unlink(path)  # removes the name (a link itself, not what it points to)
        return os.open(path, flags, 0o600)  # planted again meanwhile: fails, nothing written
