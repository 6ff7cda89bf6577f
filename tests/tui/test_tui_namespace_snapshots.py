"""SVG snapshots of the Segments tab across IPC namespaces on a fixed feed (the layout of
the NS column and the status line's count; the namespaces themselves are tested on the
kernel in test_tui_namespaces.py), at the two terminal sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_source import FOREIGN_INODE, FixedNamespaces, FixedSource, FixedWaiters, fixed_peek
from textual.pilot import Pilot
from textual.widgets import Static
from tui_pilot import wait_for

from shmtop.text.namespace_rows import row_key
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.widgets.ipc_table import IpcTable

pytestmark = pytest.mark.usefixtures("utc")
SIZES = [(80, 24), (160, 45)]  # at 80x24 NS, ID, KEY, OWNER, SIZE, NATTCH and STATUS show


def namespaces_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ShmtopApp:
    monkeypatch.delenv("NO_COLOR", raising=False)
    return ShmtopApp(
        FixedSource(), preferences=Preferences(interval=10.0),
        preferences_path=tmp_path / "prefs.json", show_clock=False,
        waiter_source=FixedWaiters(), peeker=fixed_peek, namespace_feed=FixedNamespaces(),
    )  # fmt: skip


async def rows_across(app: ShmtopApp, pilot: Pilot[None]) -> None:
    """Until the Segments tab shows the container's rows and the status line the count."""
    await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
    table = app.main_screen.query_one("#table-shm", IpcTable)
    theirs = row_key(FOREIGN_INODE, 32768, current=False)
    await wait_for(pilot, lambda: theirs in table.objects and 32771 in table.objects, "rows")

    def counted() -> bool:
        return "2 IPC namespaces shown, 1 not joined" in str(
            app.main_screen.query_one("#status", Static).content
        )

    await wait_for(pilot, counted, "the status line counts the namespaces")


@pytest.mark.parametrize("size", SIZES)
def test_segments_across_namespaces(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    app = namespaces_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=size, run_before=lambda pilot: rows_across(app, pilot))
