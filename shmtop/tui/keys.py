"""Key names as people read them (PgUp, F5, Space, ^C), for the footers and the help screens.

The footers show a binding's first key, the help screens all of them; both take the
binding's description as its meaning, so each key is described once, in BINDINGS.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.keys import format_key

READABLE = {
    "pageup": "PgUp", "pagedown": "PgDn", "escape": "Esc", "enter": "Enter",
    "space": "Space", "delete": "Del", "backspace": "Backspace", "home": "Home",
    "end": "End", "up": "↑", "down": "↓", "left": "←", "right": "→", "tab": "Tab",
    "insert": "Ins",
}  # fmt: skip


def key_name(key: str) -> str:
    """'pageup' -> 'PgUp', 'f5' -> 'F5', 'question_mark' -> '?', 'ctrl+c' -> '^C'."""
    *modifiers, base = key.split("+")
    if base in READABLE:
        name = READABLE[base]
    elif len(base) > 1 and base[0] == "f" and base[1:].isdigit():
        name = base.upper()
    else:
        name = format_key(base)
    if modifiers == ["ctrl"]:
        return f"^{name.upper()}" if len(name) == 1 else f"Ctrl+{name}"
    return "+".join([*(m.capitalize() for m in modifiers), name])


def keys_of(binding: Binding) -> list[str]:
    return [key.strip() for key in binding.key.split(",") if key.strip()]


def first_key(binding: Binding) -> str:
    """What a footer shows: the binding's first key, by its readable name."""
    return key_name(keys_of(binding)[0])


def all_keys(binding: Binding) -> str:
    """What a help screen shows: every key of the binding ('d  Del  F9')."""
    return "  ".join(key_name(key) for key in keys_of(binding))


def described(bindings: Any) -> list[Binding]:
    """The bindings that carry a description (Textual's own focus keys carry none)."""
    return [b for b in bindings if isinstance(b, Binding) and b.description and not b.system]
