"""A modal that answers no key typed before it was on screen, nor for a moment after."""

from __future__ import annotations

import time
from typing import ClassVar, TypeVar

from textual import events
from textual.screen import ModalScreen

ARM_DELAY = 0.7  # seconds: longer than any burst (a paste, a slow link) can take to arrive

Answer = TypeVar("Answer")


class ArmedModalScreen(ModalScreen[Answer]):
    """Keys that arrived before the dialog was drawn, or in its first ARM_DELAY seconds,
    are dropped before any binding sees them (a `d` then `y` typed in one burst must not
    answer the dialog the `d` opened): the app calls drop_early_keys. Only the keys in
    SAFE_KEYS (those that cancel) always work. Subclasses enable their answering widgets
    (disabled until then, so no click answers early either) in `on_armed`."""

    SAFE_KEYS: ClassVar[frozenset[str]] = frozenset()
    arm_delay: ClassVar[float] = ARM_DELAY

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self._armed_at: float | None = None  # time.monotonic() from which keys count

    def on_mount(self) -> None:
        self.call_after_refresh(self._shown)

    def _shown(self) -> None:
        """Drawn: keys count from arm_delay seconds from now."""
        self._armed_at = time.monotonic() + self.arm_delay
        self.set_timer(self.arm_delay, self._arm)

    def _arm(self) -> None:
        self.armed = True
        self.on_armed()

    def on_armed(self) -> None:
        """Called once the dialog takes answers."""

    def takes(self, event: events.Key) -> bool:
        """Whether a key may reach the dialog's bindings: a safe (cancelling) key always,
        others only once armed and only if typed after the arming moment."""
        # A key's time is when the terminal's bytes were read (Textual stamps each message
        # with time.monotonic on Linux), not when it is handled: a key typed before the
        # dialog showed is dropped even when the app gets to it late.
        if event.key in self.SAFE_KEYS:
            return True
        return self.armed and self._armed_at is not None and event.time >= self._armed_at


def drop_early_keys(screen: object, event: events.Key) -> bool:
    """For the app's on_key (run before Textual's own, which resolves the bindings): keys
    not taken by an arming dialog on top go nowhere. It must sit at the app because a key
    routed to the screen below before the dialog was pushed is resolved against the
    dialog's bindings when it bubbles back up."""
    if isinstance(screen, ArmedModalScreen) and not screen.takes(event):
        event.stop()
        event.prevent_default()
        return True
    return False
