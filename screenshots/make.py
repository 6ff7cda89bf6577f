"""Regenerate the README's screenshots: the interactive view on `shmtop demo`'s workload.

Run as root from the repository root: `python screenshots/make.py`. It starts the
demo, drives the app headless (Textual's run_test), saves SVGs here, and the demo
removes everything it made on the way out. Other objects on the machine would
show too: run it on a machine with no other System V objects.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Footer

from shmtop.core.snapshot.collect import Collector
from shmtop.demo.workload import Demo, Role
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.screens.confirm import ConfirmScreen

HERE = Path(__file__).resolve().parent
SIZE = (140, 40)


async def shoot(demo: Demo, prefs_dir: Path) -> None:
    collector = Collector()
    app = ShmtopApp(
        collector, preferences=Preferences(interval=0.5), show_clock=False,
        preferences_path=prefs_dir / "preferences.json",
    )  # fmt: skip
    try:
        async with app.run_test(size=SIZE) as pilot:

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
                app.save_screenshot(f"{name}.svg", path=str(HERE))
                print(f"screenshots/{name}.svg")

            await settle()
            app.main_screen.table.move_to(demo.object("ring").id)
            await settle(1)
            save("main")
            views: tuple[tuple[str, str, Role], ...] = (
                ("2", "semaphores", "ring-guard"),
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
            await pilot.press("1")
            app.main_screen.table.move_to(demo.object("dest").id)
            await pilot.press("d")
            while not (isinstance(app.screen, ConfirmScreen) and app.screen.armed):
                await pilot.pause(0.1)  # it takes answers (and says how) after a moment
            save("confirm-removal")
            await pilot.press("n")
            app.main_screen.table.move_to(demo.object("ring").id)
            await pilot.press("enter")
            await pilot.pause(1.5)
            save("segment-view")
            await pilot.press("escape")
            await shoot_tree(pilot, settle, footer_drawn, save)
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


def main() -> int:
    with tempfile.TemporaryDirectory() as prefs_dir, Demo() as demo:
        asyncio.run(shoot(demo, Path(prefs_dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
