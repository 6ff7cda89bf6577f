"""The blocked threads of one semaphore set or queue: what each waits for and who could help."""

from __future__ import annotations

from collections.abc import Sequence

from shmtop.core.waits.records import Waiter
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text.process_names import process_name
from shmtop.text.sanitize import safe_text
from shmtop.text.wait_pages import released_by, since_text
from shmtop.tui.widgets.keyed_table import Cell, KeyedTable

COMMAND_WIDTH = 22  # a comm (15) or a title cut to fit

COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("pid", "PID", 7),
    ("tid", "TID", 7),
    ("command", "COMMAND", COMMAND_WIDTH),
    ("operation", "WAITS TO", 24),
    ("since", "SINCE", 16),
    ("state", "STATE", 9),
    ("released", "COULD BE RELEASED BY", None),
)


def waiter_key(waiter: Waiter) -> str:
    return f"{waiter.pid}/{waiter.tid}"


def waiter_cells(report: WaitReport, waiter: Waiter) -> tuple[Cell, ...]:
    """One row: every untrusted name goes through the sanitiser (released_by labels do too)."""
    return (
        str(waiter.pid),
        str(waiter.tid),
        process_name(waiter.command, waiter.title, COMMAND_WIDTH),
        safe_text(waiter.operation()),
        since_text(report, waiter),
        str(report.verdict_of(waiter).outcome),
        released_by(report, waiter),
    )


class WaitersTable(KeyedTable):
    """One row a blocked thread; the cursor picks the one a signal goes to."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)
        self.waiters: dict[str, Waiter] = {}

    def show(self, report: WaitReport, waiters: Sequence[Waiter]) -> None:
        ordered = sorted(waiters, key=lambda w: (w.pid, w.tid))
        self.waiters = {waiter_key(w): w for w in ordered}
        self.sync({waiter_key(w): waiter_cells(report, w) for w in ordered})

    def clear_waiters(self) -> None:
        self.waiters = {}
        self.sync({})

    @property
    def selected(self) -> Waiter | None:
        """The waiter under the cursor."""
        key = self.selected_key
        return self.waiters.get(key) if key is not None else None

    def select(self, pid: int) -> bool:
        """Put the cursor on the first thread of a process; False if it does not wait here."""
        key = next((key for key, w in self.waiters.items() if w.pid == pid), None)
        return key is not None and self.select_key(key)
