"""What every shmtop app does with keys: one footer style, help on any screen, Ctrl+C quits,
and a key that cannot act says why."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.widgets import Input

from shmtop.tui.keys import first_key
from shmtop.tui.refusals import explain_refusal
from shmtop.tui.screens.armed import drop_early_keys
from shmtop.tui.screens.help import HelpScreen


class ExplainedKeys(App[Any]):
    """The base of ShmtopApp and ViewerApp."""

    def get_key_display(self, binding: Binding) -> str:
        """Every footer in one style: the first key, by its readable name (F9, PgUp, ?)."""
        return first_key(binding)

    def on_key(self, event: events.Key) -> None:
        """Runs before Textual resolves a key's bindings: a dialog still arming drops it,
        and a key whose action cannot act now says why (Textual would do nothing)."""
        if not drop_early_keys(self.screen, event):
            explain_refusal(self.screen, event.key)

    def action_help(self) -> None:
        """? or F1 on any screen: that screen's keys and words."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen.of(self.screen))

    def action_help_quit(self) -> None:
        """Ctrl+C quits, as in htop, but not while typing in a box (it copies there)."""
        if isinstance(self.focused, Input):
            return
        self.exit()
