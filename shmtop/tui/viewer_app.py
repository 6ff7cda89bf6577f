"""A tiny app that shows only one object's view: what `shmtop view` runs (a segment's, or
a POSIX object's: cli/view_hook.py)."""

from __future__ import annotations

from textual.screen import Screen

from shmtop.core.segment.segment_reader import SegmentReader
from shmtop.tui.app_keys import ExplainedKeys
from shmtop.tui.screens.segment_view import POLL_INTERVAL, SegmentViewScreen


class ViewerApp(ExplainedKeys):
    """Pushes one view (a SegmentViewScreen of shmid, or the screen given) and exits when it
    closes."""

    TITLE = "shmtop view"

    def __init__(
        self, shmid: int, *, no_attach: bool = False, reader: SegmentReader | None = None,
        poll_interval: float | None = None, sweep: bool = True,
        screen: Screen[None] | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.shmid = shmid
        self.no_attach = no_attach
        self.reader = reader
        self.poll_interval = poll_interval
        self.sweep = sweep
        self._screen = screen

    @classmethod
    def of(cls, screen: Screen[None]) -> ViewerApp:
        """The app of a view made by the caller."""
        return cls(getattr(screen, "shmid", -1), screen=screen)

    def on_mount(self) -> None:
        screen = self._screen
        if screen is None:
            interval = POLL_INTERVAL if self.poll_interval is None else self.poll_interval
            screen = SegmentViewScreen(
                self.shmid, self.no_attach, reader=self.reader, sweep=self.sweep,
                poll_interval=interval,
            )  # fmt: skip
        self.push_screen(screen, lambda _: self.exit())
