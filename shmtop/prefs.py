"""Preferences remembered between runs, in $XDG_CONFIG_HOME/shmtop/preferences.json."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

INTERVALS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shmtop" / "preferences.json"


@dataclass
class Preferences:
    """What the interactive view remembers: theme, refresh interval, sort per tab."""

    theme: str = "textual-dark"
    interval: float = 1.0
    sort: dict[str, list[Any]] = field(default_factory=dict)  # tab -> [column, reverse]

    @classmethod
    def load(cls, path: Path | None = None) -> Preferences:
        """The saved preferences, or the defaults when there are none or they are unreadable."""
        try:
            data = json.loads((path or config_path()).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        prefs = cls(**{k: v for k, v in data.items() if k in known})
        if not isinstance(prefs.interval, int | float) or prefs.interval not in INTERVALS:
            prefs.interval = 1.0
        if not isinstance(prefs.theme, str):
            prefs.theme = cls.theme
        if not isinstance(prefs.sort, dict):
            prefs.sort = {}
        return prefs

    def save(self, path: Path | None = None) -> None:
        """Write atomically (a crash never leaves half a file); errors are ignored."""
        target = path or config_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(".tmp")
            temporary.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
            temporary.replace(target)
        except OSError:
            pass
