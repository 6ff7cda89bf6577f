"""The POSIX tabs on real objects: shm objects mapped by child processes (rw, ro, by fd,
unlinked but mapped), a named semaphore, a message queue; the hex view by pread; removal
through the armed confirmation.

The session's /dev/shm is a private tmpfs and its IPC namespace its own (conftest), but
the scan also sees objects other mount namespaces map: every check looks at the test's own
rows only (by name).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from futex_kids import Child, start
from textual.pilot import Pilot
from textual.widgets import SelectionList
from tui_pilot import app_running, text_of, wait_armed, wait_for

from shmtop.core.binding import native
from shmtop.tui.app import ShmtopApp
from shmtop.tui.posix_source import PosixSource
from shmtop.tui.prefs import Preferences
from shmtop.tui.screens.column_chooser import ColumnChooser
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.main import MainScreen
from shmtop.tui.screens.posix_view import PosixObjectScreen
from shmtop.tui.widgets.hex_view import HexView
from shmtop.tui.widgets.ipc_table import IpcTable
from shmtop.tui.widgets.posix_table import PosixTable

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root"),
]

TESTS = Path(__file__).resolve().parent.parent
PREFIX = f"/shmtop-tui-posix-{os.getpid()}-"
_count = itertools.count()


class Made:
    """POSIX objects and children made by a test; all gone at the end (checked)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.queues: list[str] = []
        self.sems: list[bytes] = []
        self.kids: list[subprocess.Popen[bytes]] = []

    def shm(self, data: bytes, size: int = 8192) -> str:
        name = f"{PREFIX}{next(_count)}"
        fd = os.open(f"/dev/shm{name}", os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        self.paths.append(f"/dev/shm{name}")
        os.ftruncate(fd, size)
        os.pwrite(fd, data, 0)
        os.close(fd)
        return name

    def child(self, name: str, *actions: str) -> int:
        """tests/pshm_child.py mapping or holding the object; its pid once it has."""
        kid = subprocess.Popen([sys.executable, str(TESTS / "pshm_child.py"),
                                f"/dev/shm{name}", *actions],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
        self.kids.append(kid)
        assert kid.stdout is not None
        line = kid.stdout.readline()  # bounded: the child dies with an error
        assert line, f"child {actions} failed"
        pid: int = json.loads(line)["pid"]
        return pid

    def semaphore(self, value: int) -> str:
        name = f"{PREFIX}{next(_count)}"
        sem = native.NamedSemaphore(name, os.O_CREAT | os.O_EXCL, 0o600, 0)
        self.sems.append(name.encode())
        try:
            for _ in range(value):
                sem.post()
        finally:
            sem.close()
        return name

    def queue(self, *messages: bytes) -> str:
        name = f"{PREFIX}{next(_count)}"
        mqd = native.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600,
                             max_messages=4, max_size=64)  # fmt: skip
        self.queues.append(name)
        try:
            for message in messages:
                native.mq_send(mqd, message)
        finally:
            native.mq_close(mqd)
        return name

    def cleanup(self) -> None:
        for kid in self.kids:
            kid.kill()
            kid.wait()
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for name in self.queues:
            with contextlib.suppress(FileNotFoundError):
                native.mq_unlink(name)
        for raw in self.sems:
            with contextlib.suppress(FileNotFoundError):
                native.sem_unlink(raw)
        left = [n for n in os.listdir("/dev/shm") if PREFIX[1:] in n]
        assert not left, f"left behind: {left}"


@pytest.fixture
def made() -> Iterator[Made]:
    objects = Made()
    yield objects
    objects.cleanup()


def posix_table(app: ShmtopApp, tab: str) -> PosixTable:
    return app.screen.query_one(f"#table-{tab}", PosixTable)


def laid_out(hex_view: HexView) -> bool:
    return hex_view.size.height > 0


def row_of(table: PosixTable, name: str) -> Any:
    """Our row by name (the scan may show other namespaces' objects too), or None."""
    for row in table.objects.values():
        obj = getattr(row, "obj", None) or getattr(row, "queue", None)
        if obj is not None and obj.name == name:
            return row
    return None


async def show_row(app: ShmtopApp, pilot: Pilot[None], tab: str, key: str, name: str
                   ) -> PosixTable:  # fmt: skip
    """Switch to a POSIX tab and put the cursor on our row once a scan has it."""
    await pilot.press(key)
    table = posix_table(app, tab)
    await wait_for(pilot, lambda: row_of(table, name) is not None, f"{name} in {tab}")
    assert table.move_to(row_of(table, name).id)
    await pilot.pause()
    return table


async def test_shm_rows_show_their_mappers_and_holders_and_the_unlinked_leak(
    tmp_path: Path, made: Made
) -> None:
    name = made.shm(b"hello posix")
    writer = made.child(name, "map-rw")
    reader = made.child(name, "map-ro")
    holder = made.child(name, "hold")
    gone = made.shm(b"still here", size=4096)
    keeper = made.child(gone, "map-rw")
    os.unlink(f"/dev/shm{gone}")
    source = PosixSource()
    try:
        async with app_running(tmp_path, posix=source, size=(160, 45)) as (app, pilot):
            table = await show_row(app, pilot, "pshm", "4", name)
            row = row_of(table, name)
            assert row is not None
            modes = {(m.pid, m.writable) for m in row.obj.mappings}
            assert modes == {(writer, True), (reader, False)}
            assert [h.pid for h in row.obj.holders] == [holder]
            text = table.row_text(row.id)
            assert f"{writer} python3 rw" in text or f"{writer} python rw" in text, text
            assert f"{reader} " in text and " ro" in text, text
            assert f"holds: {holder}" in text, text
            detail = text_of(app, "#detail")
            assert f"{writer}" in detail and "fd " in detail
            assert "LEAK?" not in detail

            await wait_for(pilot, lambda: row_of(table, gone) is not None, "the unlinked one")
            leaked = row_of(table, gone)
            assert leaked is not None and not leaked.obj.linked
            assert "unlinked" in table.row_text(leaked.id)
            table.move_to(leaked.id)
            await wait_for(pilot, lambda: "LEAK?" in text_of(app, "#detail"), "the leak flag")
            assert f"pid {keeper}" in text_of(app, "#detail")

            # It cannot be removed: the screen says what would free it, asks nothing.
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            status = text_of(app, "#status")
            assert "cannot remove" in status and "already unlinked" in status, status
    finally:
        source.close()


async def test_the_hex_view_shows_the_bytes_written_also_of_an_unlinked_object(
    tmp_path: Path, made: Made
) -> None:
    name = made.shm(b"POSIX bytes \x1b[31m!")
    gone = made.shm(b"unlinked bytes", size=4096)
    made.child(gone, "map-ro")
    os.unlink(f"/dev/shm{gone}")
    source = PosixSource()
    try:
        async with app_running(tmp_path, posix=source, size=(160, 45)) as (app, pilot):
            for shown, words in ((name, "POSIX bytes .[31m!"), (gone, "unlinked bytes")):
                await show_row(app, pilot, "pshm", "4", shown)
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, PosixObjectScreen), "view")
                hex_view = app.screen.query_one(HexView)
                await wait_for(pilot, partial(laid_out, hex_view), "the hex view laid out")
                first = hex_view.render_line(0).text
                assert words in first, first  # ESC shown as '.', never sent
                assert "\x1b" not in first
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "back")
    finally:
        source.close()


async def test_removal_asks_then_unlinks_the_name(tmp_path: Path, made: Made) -> None:
    name = made.shm(b"doomed")
    mapper = made.child(name, "map-rw")
    source = PosixSource()
    try:
        async with app_running(tmp_path, posix=source, size=(160, 45)) as (app, pilot):
            table = await show_row(app, pilot, "pshm", "4", name)
            await pilot.press("d")
            confirm = await wait_armed(app, pilot, ConfirmScreen)
            assert isinstance(confirm, ConfirmScreen)
            plan = "\n".join(confirm.plan)
            assert name in plan and f"pid {mapper}" in plan, plan
            assert os.path.exists(f"/dev/shm{name}")  # nothing goes before the answer
            await pilot.press("y")
            await wait_for(pilot, lambda: not os.path.exists(f"/dev/shm{name}"), "unlinked")
            # Still mapped: the object lives on, unlinked, and shows so.
            await wait_for(pilot, lambda: (r := row_of(table, name)) is not None
                           and not r.obj.linked, "the row unlinked")  # fmt: skip
    finally:
        source.close()


async def test_named_semaphore_and_queue_rows(tmp_path: Path, made: Made) -> None:
    sem = made.semaphore(3)
    queue = made.queue(b"one", b"two")
    source = PosixSource()
    try:
        async with app_running(tmp_path, posix=source, size=(160, 45)) as (app, pilot):
            table = await show_row(app, pilot, "psem", "5", sem)
            row = row_of(table, sem)
            assert row is not None
            cells = table.row_text(row.id).split()
            assert cells[:5] == [sem, "root", "600", "3", "0"], cells
            assert "value      3, nwaiters 0" in text_of(app, "#detail")

            queues = await show_row(app, pilot, "pmq", "6", queue)
            found = row_of(queues, queue)
            assert found is not None
            assert queues.row_text(found.id).split()[:5] == [queue, "root", "600", "2/4", "6B"]
            await pilot.press("d")
            await wait_armed(app, pilot, ConfirmScreen)
            await pilot.press("y")
            await wait_for(pilot, lambda: row_of(queues, queue) is None, "the queue gone")
            with pytest.raises(FileNotFoundError):
                native.mq_open(queue, os.O_RDONLY)
    finally:
        source.close()


async def test_a_named_semaphore_shows_its_live_and_stale_waiters(
    tmp_path: Path, child_program: Path, kids: list[Child], sem_name: str
) -> None:
    """Two children blocked in sem_wait, one killed: nwaiters stays 2, one is live."""
    first = start(kids, child_program, "semwait", sem_name)
    assert first.line()[0] == "ready"
    second = start(kids, child_program, "semwait", sem_name)
    assert second.line()[0] == "ready"
    source = PosixSource()
    try:
        async with app_running(tmp_path, posix=source, size=(160, 45)) as (app, pilot):
            table = await show_row(app, pilot, "psem", "5", sem_name)
            await wait_for(pilot, lambda: "2 live, nwaiters 2" in text_of(app, "#detail"),
                           "both waiters live")  # fmt: skip
            detail = text_of(app, "#detail")
            assert f"{first.pid} " in detail and f"{second.pid} " in detail
            first.process.kill()
            first.process.wait()
            await wait_for(pilot, lambda: "1 live, nwaiters 2: 1 stale" in text_of(app, "#detail"),
                           "the killed waiter counted stale")  # fmt: skip
            assert f"{first.pid} " not in text_of(app, "#detail").split("nwaiters 2")[1]
            assert table.row_text(row_of(table, sem_name).id).split()[3:5] == ["0", "2"]
    finally:
        source.close()


async def test_filter_and_tagged_removal_on_a_posix_tab(tmp_path: Path, made: Made) -> None:
    first, second, kept = made.shm(b"a"), made.shm(b"b"), made.shm(b"c")
    source = PosixSource()
    try:
        async with app_running(tmp_path, posix=source, size=(160, 45)) as (app, pilot):
            table = await show_row(app, pilot, "pshm", "4", kept)
            await pilot.press("backslash", *first)
            await wait_for(pilot, lambda: row_of(table, kept) is None, "the filter applied")
            assert row_of(table, first) is not None
            await pilot.press("escape")  # clears the filter
            await wait_for(pilot, lambda: row_of(table, kept) is not None, "the filter cleared")
            for name in (first, second):
                assert table.move_to(row_of(table, name).id)
                await pilot.press("space")
            assert len(table.tagged) == 2
            await pilot.press("d")
            confirm = await wait_armed(app, pilot, ConfirmScreen)
            assert isinstance(confirm, ConfirmScreen)
            plan = "\n".join(confirm.plan)
            assert first in plan and second in plan and kept not in plan, plan
            await pilot.press("y")
            paths = [f"/dev/shm{first}", f"/dev/shm{second}"]
            await wait_for(pilot, lambda: not any(map(os.path.exists, paths)), "both unlinked")
            assert os.path.exists(f"/dev/shm{kept}")
            await wait_for(pilot, lambda: row_of(table, first) is None, "the rows gone")
            assert not table.tagged
    finally:
        source.close()


async def test_a_source_told_its_pids_scans_only_those(made: Made) -> None:
    """The demo's feed: its processes only; a named object is listed whoever maps it."""
    name = made.shm(b"mapped by a child")
    mapper = made.child(name, "map-rw")
    everyone, ours = PosixSource(), PosixSource(pids=lambda: [os.getpid()])
    try:
        for source, mappers in ((everyone, [mapper]), (ours, [])):
            view = source.snapshot()
            assert view.shm is not None and view.queues is not None, view.problem
            found = [o for o in view.shm.objects if o.path == f"/dev/shm{name}".encode()]
            assert [[m.pid for m in o.mappings] for o in found] == [mappers]
        scanned = ours.snapshot().shm
        assert scanned is not None and scanned.scanned == 1
    finally:
        everyone.close()
        ours.close()


async def test_a_posix_tabs_sort_and_hidden_columns_are_remembered(
    tmp_path: Path, made: Made
) -> None:
    """< > and F2 on the pshm tab, saved under its own name; the next start applies them."""
    name = made.shm(b"sorted")
    prefs_path = tmp_path / "prefs.json"
    source = PosixSource()
    try:
        async with app_running(tmp_path, posix=source) as (app, pilot):
            table = await show_row(app, pilot, "pshm", "4", name)
            assert table.sort_key == "name"
            await pilot.press("greater_than_sign")  # the next column: owner
            await wait_for(pilot, lambda: table.sort_key == "owner", "sorted by owner")
            await pilot.press("f2")
            await wait_for(pilot, lambda: isinstance(app.screen, ColumnChooser), "F2's chooser")
            chooser = app.screen
            assert isinstance(chooser, ColumnChooser)
            assert chooser.title == "POSIX shared memory"
            choices = chooser.query_one(SelectionList)
            choices.highlighted = [c.key for c in chooser.columns].index("perms")
            await pilot.press("space", "enter")
            await wait_for(pilot, lambda: table.hidden == {"perms"}, "perms hidden")
            assert "perms" not in [c.key for c in table.shown]
            await wait_for(pilot, prefs_path.exists, "the preferences saved")
            saved = json.loads(prefs_path.read_text())
            assert saved["sort"]["pshm"] == ["owner", False]
            assert saved["hidden"]["pshm"] == ["perms"]
            assert "shm" not in saved["hidden"]  # the System V segments' columns untouched

        again = Preferences.load(prefs_path)
        async with app_running(tmp_path, posix=source, preferences=again) as (app, pilot):
            table = await show_row(app, pilot, "pshm", "4", name)
            assert (table.sort_key, table.sort_reverse) == ("owner", False)
            assert table.hidden == {"perms"}
            segments = app.main_screen.query_one("#table-shm", IpcTable)
            assert segments.sort_key == "id" and not segments.hidden
    finally:
        source.close()
