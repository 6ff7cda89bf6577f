"""Textual's Footer, minus its leak: the keys of every past recompose stay referenced.

Each recompose (every change of what the keys apply to) makes new FooterKey widgets
bound with ``data_bind(compact=Footer.compact)``, which stores ``(key, setter)`` in the
Footer's own watcher list. Textual drops the entries of closed widgets from that list
only when ``compact`` changes, which it never does here: every key widget ever made
(with its styles) stayed alive, about 30 a screen change (Textual issue #6666).
``mutate_reactive`` runs that same pruning (it calls the watchers, and sets the same
``compact`` on the live keys: no visible change).
"""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """The footer every shmtop screen shows; it forgets the keys it no longer shows.

    It leaves out the command palette (^P still opens it): 80 columns keep room for
    each screen's own keys and Quit.
    """

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)

    async def recompose(self) -> None:
        await super().recompose()
        if self.is_attached:
            self.mutate_reactive(Footer.compact)
