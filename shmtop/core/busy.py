"""The busy rule: an object that changed in most of the last refreshes is busy.

A view highlights a change for a moment; an object that changes at every refresh
would stay highlighted for ever and hide the one-off changes. Such an object is
"busy" instead (marked, not highlighted). Headless: only ids and refresh counts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

BUSY_WINDOW = 10  # refreshes looked back over
BUSY_SHARE = 0.5  # busy: changed in more than this share of them


class Activity:
    """Which objects changed in which of the last `window` refreshes.

    Costs what changed: an object that did not change in a refresh is not touched,
    and one that has not changed for a whole window is forgotten.
    """

    def __init__(self, window: int = BUSY_WINDOW, share: float = BUSY_SHARE) -> None:
        self.window = window
        self.needed = int(window * share) + 1  # changes in the window that make it busy
        self.refreshes = 0
        self._changed: dict[int, deque[int]] = {}  # id -> the refreshes it changed in

    def observe(self, changed: Iterable[int]) -> None:
        """One refresh: these ids changed in it (the others did not)."""
        self.refreshes += 1
        now = self.refreshes
        for ident in changed:
            seen = self._changed.get(ident)
            if seen is None:
                seen = self._changed[ident] = deque(maxlen=self.window)
            seen.append(now)
        oldest = now - self.window
        stale = [i for i, seen in self._changed.items() if seen[-1] <= oldest]
        for ident in stale:
            del self._changed[ident]

    def changes(self, ident: int) -> int:
        """How many of the last `window` refreshes it changed in."""
        seen = self._changed.get(ident)
        if seen is None:
            return 0
        oldest = self.refreshes - self.window
        return sum(1 for refresh in seen if refresh > oldest)

    def busy(self, ident: int) -> bool:
        return self.changes(ident) >= self.needed

    def forget(self, idents: Iterable[int]) -> None:
        """Objects that are gone."""
        for ident in idents:
            self._changed.pop(ident, None)

    def __len__(self) -> int:
        return len(self._changed)
