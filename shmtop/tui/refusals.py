"""Keys that cannot act now say why, in the status line of the screen they were pressed on.

A screen (or the app) greys out an action by returning None from check_action when
its `why_not(action)` gives a reason; Textual then ignores the key, so the app's key
handler looks the key up here and shows that reason instead of doing nothing.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen


def action_name(action: str) -> str:
    """'app.help' -> 'help', "cursor(-1)" -> 'cursor'."""
    return action.split("(", 1)[0].rsplit(".", 1)[-1]


def reason_for(screen: Screen[Any], key: str) -> str | None:
    """Why the key's bindings on this screen are greyed out (None: one of them acts, or the
    key is unbound). Textual tries each binding of the key, the focused widget's first."""
    app, refused = screen.app, None
    for node, bindings in screen._modal_binding_chain:
        for binding in bindings.key_to_bindings.get(key, ()):
            state = app._check_action_state(binding.action, node)
            if state:
                return None
            if state is None and refused is None:
                refused = (node, binding)
    if refused is None:
        return None
    node, binding = refused
    why_not = getattr(node, "why_not", None)
    reason = why_not(action_name(binding.action)) if callable(why_not) else None
    return reason or f"{binding.description}: not available here"


def tell(screen: Screen[Any], text: str) -> None:
    """Put a note in the screen's status line (a toast on a screen without one)."""
    say = getattr(screen, "say", None)
    if callable(say):
        say(text)
    else:
        screen.notify(text, timeout=4, markup=False)


def explain_refusal(screen: Screen[Any], key: str) -> None:
    reason = reason_for(screen, key)
    if reason is not None:
        tell(screen, reason)


# What a replay (shmtop replay) refuses, by action: it shows the past, and the past cannot be
# changed; what the objects are now is the live view's.
REPLAY_REFUSES = {
    "remove": "nothing can be removed",
    "signal": "no signal can be sent",
    "poll_now": "nothing to refresh ([ and ] step, t jumps)",
}


def replay_refusal(action: str) -> str | None:
    """Why a replay refuses the action (None: it does not)."""
    what = REPLAY_REFUSES.get(action)
    return None if what is None else f"a recording: {what} (it shows the past)"
