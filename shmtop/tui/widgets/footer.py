"""Textual's Footer, minus its leak: the keys of every past recompose stay referenced.

Each recompose (every change of what the keys apply to) makes new FooterKey widgets
bound with ``data_bind(compact=Footer.compact)``, which stores ``(key, setter)`` in the
Footer's own watcher list. Textual drops the entries of closed widgets from that list
only when ``compact`` changes, which it never does here: every key widget ever made
(with its styles) stayed alive, about 30 a screen change (Textual issue #6666).
textual_leaks.forget_closed_watchers runs that same pruning; on a Textual that keeps the
watchers elsewhere, ``mutate_reactive`` does (it calls the watchers, and sets the same
``compact`` on the live keys: no visible change, but a style update of every key, which
was half the footer's recompose at start-up).
"""

from __future__ import annotations

from textual.widgets import Footer

from shmtop.tui import textual_leaks


class KeyFooter(Footer):
    """The footer every shmtop screen shows; it forgets the keys it no longer shows.

    It leaves out the command palette (^P still opens it): 80 columns keep room for
    each screen's own keys and Quit.
    """

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)

    async def recompose(self) -> None:
        await super().recompose()
        if self.is_attached and not textual_leaks.forget_closed_watchers(self, "compact"):
            self.mutate_reactive(Footer.compact)
