"""Run `shmtop demo ARGS...` through cli.run_demo, its view driven headless by Pilot, and print
what the demo's app was given and saw as one JSON line (for tests/cli/test_demo.py).

A separate process because the demo moves its whole process into a new IPC namespace.
PROBE_REMOVE (comma-separated shmids) asks the view to remove those ids and every
segment it shows, as a confirmed removal does, then reports what is left. PROBE_HANG runs a
view that never exits, after printing the demo's children.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from shmtop.cli import commands as cli
from shmtop.core.model import Kind
from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.main import MainScreen

PATIENCE = 15.0


async def until(pilot: Pilot[None], condition: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not condition():
        if pilot.app.return_code is not None:  # told to exit (SIGTERM, its parent's death)
            raise SystemExit(f"the view exited while waiting until {what}")
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await pilot.pause(0.05)


def comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def posix_seen(app: ShmtopApp) -> dict[str, Any] | None:
    """What the app's POSIX feed shows (None: the app has none): every shm object and
    semaphore with its mappers (comm, writable), every queue with its holders' comms, and what the
    demo runs in (its /dev/shm's device, its mount namespace)."""
    if app.posix_source is None:
        return None
    view = app.posix_source.snapshot()
    assert view.shm is not None and view.queues is not None, view.problem
    return {
        "objects": sorted(
            [o.kind.value, o.path.decode(), o.linked,
             sorted([comm(m.pid), m.writable] for m in o.mappings),
             None if o.semaphore is None else o.semaphore.nwaiters]
            for o in view.shm.objects
        ),
        "queues": sorted(
            [q.entry.raw_name.decode(), sorted(comm(h.pid) for h in q.holders)]
            for q in view.queues.queues
        ),
        "mnt": os.stat("/proc/self/ns/mnt").st_ino,
        "shm_dev": os.stat("/dev/shm").st_dev,
    }  # fmt: skip


async def drive(app: ShmtopApp, found: dict[str, Any], remove: list[int] | None) -> None:
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.polls >= 1, "the first refresh")
        snapshot = app.snapshot
        assert snapshot is not None
        main = app.main_screen
        found.update(
            readonly=app.readonly, main_readonly=main.readonly, tab=str(main.kind),
            theme=app.theme, no_color=app.no_color, title=app.title,
            namespace=os.stat("/proc/self/ns/ipc").st_ino,
            keys=sorted(o.owner.key for kind in Kind for o in snapshot.objects(kind)),
            segments=sorted(s.id for s in snapshot.segments),
            live=sorted(s.id for s in snapshot.segments if not s.dest),
        )  # fmt: skip
        found["posix"] = posix_seen(app)
        await pilot.press("1", "d")  # the removal key: a dialog unless read-only
        await pilot.pause(0.3)
        found["dialog"] = isinstance(app.screen, ConfirmScreen)
        if found["dialog"]:
            await pilot.press("escape")
        if remove is not None:
            ids = sorted({*remove, *found["segments"]})
            main.post_message(MainScreen.RemoveRequested(Kind.SHM, ids))
            polls = app.polls
            await until(pilot, lambda: app.polls >= polls + 3, "three refreshes after")
            after = app.snapshot
            assert after is not None
            found["left"] = sorted(s.id for s in after.segments if not s.dest)


def main() -> int:
    wanted = os.environ.get("PROBE_REMOVE")
    remove = [int(i) for i in wanted.split(",") if i] if wanted is not None else None
    args = cli.build_parser().parse_args(sys.argv[1:])
    found: dict[str, Any] = {}

    def play(app: ShmtopApp) -> None:
        asyncio.run(drive(app, found, remove))

    def hang(app: ShmtopApp) -> None:
        """A view that never exits (as Textual's shutdown can hang on a dead terminal): say
        which children the demo runs, then wait for the signal's watchdog to end us."""
        children = Path(f"/proc/self/task/{os.getpid()}/children").read_text().split()
        print(json.dumps({"children": [int(pid) for pid in children]}), flush=True)
        while True:
            time.sleep(1)

    if os.environ.get("PROBE_HANG"):
        return cli.run_demo(args, play=hang)

    found["code"] = cli.run_demo(args, play=play)
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
