"""The view across IPC namespaces (issue 12 item 5): objects of namespaces made with
`unshare --ipc`, in the System V tables with their NS cell (-A), the A key adding and taking
them away, the `ns:` filter term, and a removal in another namespace made inside it.

The feeds count only the namespaces of this process and of the children made here (the
machine may hold other users' namespaces); the census, joins and snapshots are the real ones.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helpers
import hidden
import pytest
from blocker import blockers
from helpers import MakeShm
from ns_helpers import foreign_namespace
from textual.widgets import Static
from tui_pilot import app_running, next_polls, tables_filled, wait_armed, wait_for

from shmtop.core.binding import native
from shmtop.core.model import Segment
from shmtop.core.namespaces.discover import census, find
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.snapshot import procfs
from shmtop.text.errors import NAMESPACE_RIGHTS
from shmtop.text.namespace_rows import NsRow, row_key
from shmtop.tui.app import ShmtopApp
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.widgets.ipc_table import IpcTable

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("unshare") is None,
        reason="needs root and unshare(1) to make and join IPC namespaces",
    ),
]
HOST = "shmtop-ns-tui"
Boxes = tuple[dict[str, Any], dict[str, Any]]


@pytest.fixture
def boxes() -> Iterator[Boxes]:
    """Two namespaces: one with a hostname of its own (two segments), one without (one)."""
    with foreign_namespace(HOST, objects=2) as named, foreign_namespace(objects=1) as plain:
        yield named, plain


def feed(boxes: Boxes, *, every: bool) -> NamespaceFeed:
    pids = [os.getpid(), *(made["pid"] for made in boxes)]
    return NamespaceFeed(every=every, pids=lambda: pids)


def segments(app: ShmtopApp) -> IpcTable:
    return app.main_screen.query_one("#table-shm", IpcTable)


def status(app: ShmtopApp) -> str:
    return str(app.main_screen.query_one("#status", Static).content)


def key_of(made: dict[str, Any], shmid: int) -> int:
    return row_key(made["inode"], shmid, current=False)


def ns_cell(table: IpcTable, key: int) -> str:
    row = table.objects[key]
    column = next(c for c in table.shown if c.key == "ns")
    assert table.snapshot is not None
    return column.cell(row, table.snapshot)


def table_in(made: dict[str, Any]) -> list[int]:
    """The shmids of a namespace's /proc/sysvipc/shm, read by a thread joined to it."""
    thread = JoinedThread(made["pid"], made["inode"])
    try:
        text = thread.run(procfs.read_sysvipc, "shm").decode()
    finally:
        thread.close()
    return [row["shmid"] for row in procfs.parse_sysvipc(text)]


async def test_A_shows_another_namespace_object_with_its_NS_cell_and_attacher(
    tmp_path: Path, boxes: Boxes, make_shm: MakeShm
) -> None:
    named, plain = boxes
    ours = make_shm()
    async with app_running(tmp_path, namespaces=feed(boxes, every=True)) as (app, pilot):
        table = segments(app)
        wanted = {ours, *(key_of(named, i) for i in named["shm"]), key_of(plain, plain["shm"][0])}
        await wait_for(pilot, lambda: wanted <= set(table.objects), "every namespace's rows")
        row = table.objects[key_of(named, named["shm"][0])]
        assert isinstance(row, NsRow) and isinstance(row.obj, Segment)
        assert row.obj.id == named["shm"][0]
        assert row.obj.attached_pids == (named["pid"],)  # joined within its namespace
        assert ns_cell(table, key_of(named, named["shm"][0])) == HOST
        assert ns_cell(table, key_of(plain, plain["shm"][0])) == str(plain["inode"])
        assert table.row_text(key_of(named, named["shm"][1])).split()[:2] == [
            HOST, str(named["shm"][1])
        ]  # fmt: skip
        mine = table.objects[ours]  # the caller's keep their ids as row ids
        assert isinstance(mine, NsRow) and mine.obj.id == ours and mine.current
        await wait_for(pilot, lambda: "3 IPC namespaces shown" in status(app), "the count")


async def test_the_A_key_adds_and_takes_away_the_other_namespaces(
    tmp_path: Path, boxes: Boxes, make_shm: MakeShm
) -> None:
    named, _ = boxes
    ours = make_shm()
    theirs = key_of(named, named["shm"][0])
    async with app_running(tmp_path, namespaces=feed(boxes, every=False)) as (app, pilot):
        table = segments(app)
        await tables_filled(app, pilot)
        assert table.rows is None and "ns" not in {c.key for c in table.columns_spec}
        assert ours in table.objects and theirs not in table.objects
        await pilot.press("A")
        await wait_for(pilot, lambda: theirs in table.objects, "the other namespace's rows")
        assert "ns" in {c.key for c in table.shown}  # more than one namespace: NS shown
        assert ours in table.objects
        await pilot.press("A")
        await wait_for(pilot, lambda: table.rows is None and theirs not in table.objects,
                       "the caller's objects alone again")  # fmt: skip
        assert ours in table.objects and "ns" not in {c.key for c in table.shown}
        assert "IPC namespace" not in status(app).replace("IPC namespace the caller", "")


async def test_ns_filter_keeps_one_namespace_by_name_or_inode(
    tmp_path: Path, boxes: Boxes, make_shm: MakeShm
) -> None:
    named, plain = boxes
    ours = make_shm()
    async with app_running(tmp_path, namespaces=feed(boxes, every=True)) as (app, pilot):
        table = segments(app)
        named_keys = {key_of(named, i) for i in named["shm"]}
        plain_keys = {key_of(plain, plain["shm"][0])}
        await wait_for(pilot, lambda: named_keys | plain_keys <= set(table.objects), "rows")
        for expression, wanted in (
            (f"ns:{HOST}", named_keys),
            (f"ns:{plain['inode']}", plain_keys),
            (f"ns:ipc:[{named['inode']}]", named_keys),
        ):
            table.set_filter(expression)
            await wait_for(pilot, lambda: set(table.objects) == wanted, expression)  # noqa: B023
        table.set_filter(f"!ns:{HOST} !ns:{plain['inode']}")
        await wait_for(pilot, lambda: ours in table.objects and not (named_keys | plain_keys)
                       & set(table.objects), "the caller's rows only")  # fmt: skip


async def test_removal_in_another_namespace_removes_that_one_not_ours_of_the_same_id(
    tmp_path: Path, boxes: Boxes, make_shm: MakeShm
) -> None:
    named, plain = boxes
    target = named["shm"][1]
    with open("/proc/sys/kernel/shm_next_id", "w", encoding="ascii") as knob:
        knob.write(str(target))  # the caller's namespace gets an object of the same id
    ours = make_shm()
    assert ours == target
    async with app_running(tmp_path, namespaces=feed(boxes, every=True)) as (app, pilot):
        table = segments(app)
        theirs = key_of(named, target)
        await wait_for(pilot, lambda: {ours, theirs} <= set(table.objects), "both rows")
        assert table.move_to(theirs)
        await pilot.press("d")
        dialog = await wait_armed(app, pilot, ConfirmScreen)
        label = f"{HOST} (ipc:[{named['inode']}])"
        assert isinstance(dialog, ConfirmScreen)
        assert (
            dialog.question == f"Remove 1 segment in IPC namespace {label}? This cannot be undone."
        )
        assert dialog.plan[0] == f"in IPC namespace {label}:"
        assert dialog.plan[1].startswith(f"shm {target}  key 0x00000000")
        await pilot.press("y")
        await wait_for(pilot, lambda: theirs not in table.objects, "its row goes")
        assert ours in table.objects
    assert table_in(named) == [named["shm"][0]]
    assert table_in(plain) == plain["shm"]
    assert native.shm_stat(ours) is not None  # still there, in our namespace


# Runs as nobody: the view on a real collector with the real feed; A is refused in the
# status line (no CAP_SYS_ADMIN) and the view goes on showing the caller's namespace.
_UNPRIVILEGED = r"""
import asyncio, sys
from textual.widgets import Static
from shmtop.core.snapshot.collect import Collector
from shmtop.tui.app import ShmtopApp
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.prefs import Preferences

async def main():
    collector, feed = Collector(), NamespaceFeed()
    app = ShmtopApp(collector, preferences=Preferences(interval=0.25),
                    preferences_path=sys.argv[1], show_clock=False, namespace_feed=feed)
    async with app.run_test() as pilot:
        while app.polls < 1:
            await pilot.pause(0.05)
        await pilot.press("A")
        seen = app.polls
        while app.polls < seen + 2:  # it keeps refreshing
            await pilot.pause(0.05)
        status = str(app.main_screen.query_one("#status", Static).content)
        print(status.split("  •  ")[0])
        print(feed.every, app.main_screen.table.rows is None, app.is_running)
    collector.close()
    feed.close()

asyncio.run(main())
"""


async def test_without_privilege_A_says_why_in_one_line_and_the_view_goes_on(
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o777)
    argv = [*hidden.NOBODY, sys.executable, "-c", _UNPRIVILEGED, str(tmp_path / "prefs.json")]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(hidden.ROOT),
           "HOME": str(tmp_path), "TERM": "xterm-256color"}  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=hidden.ROOT,
                          timeout=helpers.PATIENCE * 4, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    said, state = done.stdout.splitlines()[-2:]
    assert said == NAMESPACE_RIGHTS
    assert state == "False True True"


async def test_namespace_NS_then_A_twice_goes_back_to_that_namespace_alone(
    tmp_path: Path, boxes: Boxes
) -> None:
    named, plain = boxes
    pids = [os.getpid(), named["pid"], plain["pid"]]
    start = find(census(pids).namespaces, HOST)
    assert start is not None and start.inode == named["inode"]
    shown = NamespaceFeed(start=start, pids=lambda: pids)
    mine = {key_of(named, i) for i in named["shm"]}
    other = key_of(plain, plain["shm"][0])
    async with app_running(tmp_path, namespaces=shown) as (app, pilot):
        table = segments(app)
        await wait_for(pilot, lambda: set(table.objects) == mine, "that namespace's rows alone")
        assert "ns" not in {c.key for c in table.shown}  # one namespace: NS hidden
        await wait_for(pilot, lambda: f"IPC namespace {HOST} (ipc:[" in status(app), "named")
        await pilot.press("A")
        await wait_for(pilot, lambda: other in table.objects, "every namespace")
        await pilot.press("A")  # the other rows leave (drawn struck out) while it refreshes
        await wait_for(pilot, lambda: set(table.objects) == mine, "that namespace alone again")
        await next_polls(app, pilot, 3)
        assert app.is_running and set(table.objects) == mine


def ids_in(made: dict[str, Any], sysvipc: str) -> list[int]:
    thread = JoinedThread(made["pid"], made["inode"])
    try:
        text = thread.run(procfs.read_sysvipc, sysvipc).decode()
    finally:
        thread.close()
    key = {"sem": "semid", "msg": "msqid"}[sysvipc]
    return [row[key] for row in procfs.parse_sysvipc(text)]


async def test_removing_a_set_in_another_namespace_names_its_waiters_there(
    tmp_path: Path, boxes: Boxes
) -> None:
    named, plain = boxes
    with blockers() as kids:
        # A thread of that namespace blocked on its set (value 0): only a scan made inside
        # the namespace can tell it is this set's waiter (our semid of that number is not).
        waiter = kids.start(within=("nsenter", "-t", str(named["pid"]), "--ipc", "--"))
        waiter.send(call="semop", semid=named["sem"], ops=[[0, -1, 0]])
        async with app_running(tmp_path, namespaces=feed(boxes, every=True)) as (app, pilot):
            await pilot.press("2")
            table = app.main_screen.query_one("#table-sem", IpcTable)
            theirs = row_key(named["inode"], named["sem"], current=False)

            def blocked() -> bool:
                row = table.objects.get(theirs)
                return isinstance(row, NsRow) and getattr(row.obj, "waiters", 0) == 1

            await wait_for(pilot, blocked, "the other namespace's set, with its waiter")
            assert table.move_to(theirs)
            await pilot.press("d")
            dialog = await wait_armed(app, pilot, ConfirmScreen)
            assert isinstance(dialog, ConfirmScreen)
            assert f"in IPC namespace {HOST} (ipc:[{named['inode']}])" in dialog.question
            plan = "\n".join(dialog.plan)
            assert f"sem {named['sem']}" in plan and f"{waiter.pid} (" in plan, plan
            await pilot.press("y")
            await wait_for(pilot, lambda: theirs not in table.objects, "its row goes")
        assert waiter.answer().get("errno") == errno.EIDRM  # woken by the removal
    assert ids_in(named, "sem") == []
    assert ids_in(plain, "sem") == [plain["sem"]]
