"""A signal from the set view of another IPC namespace goes to that namespace's waiter, after
the confirmation, and never to our waiter on our set of the same id (issue 12 item 5:
"removal and signals act inside the right namespace").

Real objects: a namespace made with unshare --ipc (tests/ns_helpers.py) whose set a child
entered with nsenter waits on, and our own set given the same id, waited on by our child."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blocker import blockers
from helpers import MakeSem
from ns_helpers import foreign_namespace
from tui_pilot import app_running, next_polls, wait_armed, wait_for

from shmtop.text.namespace_rows import row_key
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.semaphore_view import SemaphoreSetScreen
from shmtop.tui.screens.signal_dialog import SignalDialog
from shmtop.tui.widgets.ipc_table import IpcTable

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("nsenter") is None,
        reason="needs root, unshare(1) and nsenter(1) to make and enter IPC namespaces",
    ),
]


@pytest.fixture
def box() -> Iterator[dict[str, Any]]:
    with foreign_namespace("shmtop-ns-signal") as made:
        yield made


async def test_a_signal_from_another_namespaces_set_view_goes_to_its_waiter_only(
    tmp_path: Path, box: dict[str, Any], make_sem: MakeSem
) -> None:
    with open("/proc/sys/kernel/sem_next_id", "w", encoding="ascii") as knob:
        knob.write(str(box["sem"]))  # our next set gets their set's id
    ours = make_sem(2)
    assert ours == box["sem"]
    with blockers() as kids:
        theirs = kids.start("shmtop-theirs", within=("nsenter", "-t", str(box["pid"]), "--ipc"))
        theirs.send(call="semop", semid=box["sem"], ops=[[0, -1, 0]])
        mine = kids.start("shmtop-mine")
        mine.send(call="semop", semid=ours, ops=[[0, -1, 0]])
        pids = [os.getpid(), box["pid"]]
        feed = NamespaceFeed(every=True, pids=lambda: pids)
        async with app_running(tmp_path, namespaces=feed) as (app, pilot):
            await pilot.press("2")
            table = app.main_screen.query_one("#table-sem", IpcTable)
            key = row_key(box["inode"], box["sem"], current=False)
            await wait_for(pilot, lambda: key in table.objects, "their set's row")
            assert table.move_to(key)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, SemaphoreSetScreen), "the view")
            view = app.screen
            assert isinstance(view, SemaphoreSetScreen) and view.namespace == box["inode"]
            await wait_for(pilot, lambda: view.waiters.select(theirs.pid), "their waiter's row")
            assert not view.waiters.select(mine.pid), "our waiter is no waiter of their set"
            assert view.waiters.select(theirs.pid)

            await pilot.press("k")
            await wait_armed(app, pilot, SignalDialog)
            await pilot.press("1", "5", "enter")  # SIGTERM
            confirm = await wait_armed(app, pilot, ConfirmScreen)
            assert isinstance(confirm, ConfirmScreen)
            assert confirm.question == f"Send SIGTERM to {theirs.pid} (shmtop-theirs)?"
            await pilot.press("y")
            await wait_for(pilot, lambda: theirs.process.poll() is not None, "their waiter ends")
            assert theirs.process.returncode == -signal.SIGTERM
            await next_polls(app, pilot)
            assert mine.process.poll() is None, "our waiter on our same-id set got nothing"
