"""Regenerate the README's screenshots: the interactive view on `shmtop demo`'s workload.

Run as root from the repository root with the virtualenv's Python:
`sudo .venv/bin/python screenshots/make.py` (in a root shell, without sudo). It first
re-runs itself, once per size, under `unshare --ipc --pid --fork --mount-proc --uts`: a private IPC
namespace (only the demo's objects), PID namespace with its own /proc (only the demo's
processes, so no warning about a process of the machine it could not inspect) and UTS
namespace (hostname "demo"), so nothing of the machine reaches the images. It drives the
app headless (Textual's run_test) at 160x45 and 80x24, saves SVGs here, and the demo
removes everything it made on the way out (the namespaces end with it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Footer

from shmtop.cli.commands import demo_posix_feed
from shmtop.core.snapshot.collect import Collector
from shmtop.demo.namespace import isolate
from shmtop.demo.workload import Demo, Role
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.screens.confirm import ConfirmScreen

HERE = Path(__file__).resolve().parent
WIDE = (160, 45)
NARROW = (80, 24)
ISOLATED = "SHMTOP_SCREENSHOTS_SHOT"  # which shot a run inside the namespaces takes


async def shoot(demo: Demo, prefs_dir: Path, size: tuple[int, int], suffix: str) -> None:
    """Every screen at `size`; the narrow run (suffix "-80") takes the main screen and the
    segment view only, the README's pair for 80 columns."""
    narrow = bool(suffix)
    collector = Collector()
    app = ShmtopApp(
        collector, preferences=Preferences(interval=0.5), show_clock=False,
        preferences_path=prefs_dir / "preferences.json",
        semaphore_labels=demo.semaphore_labels(), posix_source=demo_posix_feed(demo),
    )  # fmt: skip
    try:
        async with app.run_test(size=size) as pilot:

            async def settle(polls: int = 3) -> None:
                start = app.polls
                while app.polls < start + polls:
                    await pilot.pause(0.1)

            async def footer_drawn() -> None:
                # A pushed screen composes its footer's keys after its first polls.
                for _ in range(50):
                    if any(footer.children for footer in app.screen.query(Footer)):
                        return
                    await pilot.pause(0.1)

            def save(name: str) -> None:
                app.save_screenshot(f"{name}{suffix}.svg", path=str(HERE))
                print(f"screenshots/{name}{suffix}.svg")

            await settle(6)  # the meters' sparklines draw from a few refreshes
            app.main_screen.table.move_to(demo.object("ring").id)
            await settle(1)
            save("main")
            if not narrow:
                await shoot_views(demo, app, pilot, settle, footer_drawn, save)
            app.main_screen.table.move_to(demo.object("ring").id)
            await pilot.press("enter")
            await settle(3)
            save("segment-view")
            await pilot.press("escape")
            await shoot_tree(pilot, settle, footer_drawn, save)
            if not narrow:
                await pilot.press("question_mark")
                await pilot.pause(0.3)
                save("help")
    finally:
        collector.close()


async def shoot_tree(
    pilot: Pilot[None], settle: Callable[[int], Awaitable[None]],
    footer_drawn: Callable[[], Awaitable[None]], save: Callable[[str], None],
) -> None:  # fmt: skip
    """The tree view (t): its waiter scan comes with the next polls."""
    await pilot.press("t")
    await settle(3)
    await footer_drawn()
    save("tree-view")
    await pilot.press("t")


async def shoot_views(demo: Demo, app: ShmtopApp, pilot: Any, settle: Any, footer_drawn: Any,
                      save: Any) -> None:  # fmt: skip
    """The semaphore and queue tabs and views, and the removal confirmation."""
    views: tuple[tuple[str, str, Role], ...] = (
        ("2", "semaphores", "blocked"),
        ("3", "queues", "queue"),
    )
    for key, name, role in views:
        await pilot.press(key)
        await settle(1)
        save(name)
        app.main_screen.table.move_to(demo.object(role).id)
        await pilot.press("enter")
        await settle(3)  # the view's waiter scan and peek come with the next polls
        await footer_drawn()
        save(f"{name}-view")
        await pilot.press("escape")
    await pilot.press("4")  # the POSIX shared memory tab: its scan comes with the next polls
    await settle(3)
    save("posix-shm")
    await pilot.press("1")
    app.main_screen.table.move_to(demo.object("dest").id)
    await pilot.press("d")
    while not (isinstance(app.screen, ConfirmScreen) and app.screen.armed):
        await pilot.pause(0.1)  # it takes answers (and says how) after a moment
    save("confirm-removal")
    await pilot.press("n")


SHOTS = {"wide": (WIDE, ""), "narrow": (NARROW, "-80")}


def run_isolated() -> int:
    """Run this script once per size, each in fresh private IPC, PID (with its own /proc)
    and UTS namespaces: the demo's ids start at 0 in each, and no process or object of the
    machine is in view. The command line is relative, as the creator's shows in the image."""
    if os.geteuid() != 0:
        raise SystemExit("make.py needs root: sudo .venv/bin/python screenshots/make.py")
    unshare = shutil.which("unshare")
    if unshare is None:
        raise SystemExit("make.py needs unshare: apt-get install util-linux")
    root = HERE.parent
    command = [unshare, "--ipc", "--pid", "--fork", "--mount-proc", "--uts",
               sys.executable, str(Path(__file__).resolve().relative_to(root))]  # fmt: skip
    for shot in SHOTS:
        done = subprocess.run(command, cwd=root, env={**os.environ, ISOLATED: shot}, check=False)
        if done.returncode:
            return done.returncode
    return 0


def main() -> int:
    shot = os.environ.get(ISOLATED)
    if shot is None:
        return run_isolated()
    socket.sethostname("demo")
    size, suffix = SHOTS[shot]
    where = isolate()  # the demo's own: a private /dev/shm and /dev/mqueue for its POSIX objects
    with tempfile.TemporaryDirectory() as prefs_dir, Demo(posix=where.posix) as demo:
        asyncio.run(shoot(demo, Path(prefs_dir), size, suffix))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
