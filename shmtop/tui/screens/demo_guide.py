"""The demo's guide: what `shmtop demo` runs, shown once at start; any key closes it, and the
main screen's help (?) shows it again."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# One paragraph (at 80x24 the guide has 22 rows: the objects take 18 of them).
TRY = [
    "Try: Enter on the ring buffer (its bytes, live); 2, Enter on a set (values, who blocks);"
    " 3 the queue; w scans for waiters; d removes the orphan (once STATUS says so)."
]
TRY_POSIX = [
    "POSIX: 4 shm (the unlinked one still mapped, rw and ro mappers), 5 the named semaphore"
    " and its waiter, 6 the queue."
]


def guide_lines(described: list[str], *, posix: bool = False) -> list[str]:
    """The demo's own lines ("segment 3: ring buffer ...") and what to try (one paragraph)."""
    return [*described, " ".join([*TRY, *(TRY_POSIX if posix else ())])]


class DemoGuide(ModalScreen[None]):
    """The guide over the main screen; the key that closes it does nothing else."""

    HELP_TITLE = "the demo's guide"
    DEFAULT_CSS = """
    DemoGuide { align: center middle; }
    DemoGuide > VerticalScroll {
        width: 100%; max-width: 104; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        box = VerticalScroll()
        box.border_title = "shmtop demo: what runs here"  # where: the title bar says
        box.border_subtitle = "any key closes this · ? shows it again, and every key and word"
        with box:
            yield Static(Text("\n".join(self.lines)), id="guide-text")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(None)
