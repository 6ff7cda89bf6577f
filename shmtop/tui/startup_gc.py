"""The cycle collector while the view starts: off until the first snapshot is drawn, then
one collection and a freeze of everything alive (it lives as long as the app).

Starting Textual and taking the first snapshot make hundreds of thousands of objects; the
automatic collections they set off walk the growing heap again and again (a tenth of the
first frame on the loaded machine, a full collection among them), and find next to
nothing: the snapshot's records are untracked Structs, the widgets live on.
"""

from __future__ import annotations

import gc


class StartupCollector:
    """pause() when the app loads; freeze_heap() once its first frame is drawn; resume()
    if it ends (or fails to get a snapshot) before that."""

    def __init__(self) -> None:
        self._paused = False

    def pause(self) -> None:
        if gc.isenabled():  # never turn on a collector someone else turned off
            gc.disable()
            self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            gc.enable()

    def freeze_heap(self) -> None:
        """Keep the cycle collector from walking what is alive now in every full collection
        (a pause that can land on a key press). Collect first: a garbage cycle frozen is
        never freed (the start-up leaves ~9000)."""
        gc.collect()
        gc.freeze()
        self.resume()
