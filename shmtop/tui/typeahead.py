"""Bindings for the keys that open an input box, so every key typed after them lands in it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input


def opens_input(
    key: str,
    action: str,
    description: str,
    *,
    id: str,
    key_display: str | None = None,
    show: bool = True,
) -> Binding:
    """A binding whose action shows an input and focuses it (Screen.set_focus, at once).

    Textual decides where a key goes (the focused widget, else the screen) when it takes
    the key from its queue, but resolves an ordinary binding only later, once the key has
    bubbled back up to the app. Keys typed in one burst (a paste, a slow link, tmux
    send-keys) are routed before the key that opens the box has run its action: they
    reached the screen's own bindings (`d` opened the removal dialog). A priority binding
    runs its action while its key is routed, so the box has the focus before the next key
    is taken. While an input has the focus the screen must refuse these actions (see
    typing_into_box), so that the key itself is typed into the box.
    """
    return Binding(
        key, action, description, key_display=key_display, id=id, priority=True, show=show
    )


def opener_actions(bindings: Iterable[BindingType]) -> frozenset[str]:
    """The names of the actions bound by opens_input (the priority bindings of a screen)."""
    return frozenset(
        b.action.split("(")[0] for b in bindings if isinstance(b, Binding) and b.priority
    )


def typing_into_box(screen: Screen[Any], action: str, openers: frozenset[str]) -> bool:
    """True when an opener's key is pressed while an input has the focus: then the key is
    the box's. Textual would leave it to the box by itself for most printable keys, but
    not for `/` and `\\` (its key_to_character does not know 'slash' and 'backslash')."""
    return action in openers and isinstance(screen.focused, Input)
