"""A tiny app that shows only the segment view: what `shmtop view ID` runs."""

from __future__ import annotations

from shmtop.core.segment.segment_reader import SegmentReader
from shmtop.tui.app_keys import ExplainedKeys
from shmtop.tui.screens.segment_view import POLL_INTERVAL, SegmentViewScreen


class ViewerApp(ExplainedKeys):
    """Pushes one SegmentViewScreen and exits when it closes."""

    TITLE = "shmtop view"

    def __init__(
        self, shmid: int, *, no_attach: bool = False, reader: SegmentReader | None = None,
        poll_interval: float | None = None, sweep: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.shmid = shmid
        self.no_attach = no_attach
        self.reader = reader
        self.poll_interval = poll_interval
        self.sweep = sweep

    def on_mount(self) -> None:
        interval = POLL_INTERVAL if self.poll_interval is None else self.poll_interval
        screen = SegmentViewScreen(
            self.shmid, self.no_attach, reader=self.reader, sweep=self.sweep,
            poll_interval=interval,
        )  # fmt: skip
        self.push_screen(screen, lambda _: self.exit())
