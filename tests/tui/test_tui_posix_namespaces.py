"""The POSIX tabs across IPC namespaces (issue 12 items 5 and 7): a namespace made with
`unshare --ipc --mount` and a /dev/shm of its own holds a shm object (mapped by its
child), a named semaphore and a message queue; with -A the tabs show them with their NS
cell, `ns:` and the other filter terms keep them or not, and removal acts inside that
namespace, never on our same-named object.

The feeds count only this process's namespace and the child's (the machine may hold other
namespaces); the census, joins and scans are the real ones.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ns_helpers import foreign_shm
from textual.pilot import Pilot
from tui_pilot import app_running, text_of, wait_armed, wait_for

from shmtop.core.binding import native
from shmtop.core.namespaces.discover import census
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.posix import mqueue
from shmtop.text.filtering import FilterError
from shmtop.text.posix_columns import QueueRow, ShmRow
from shmtop.tui.app import ShmtopApp
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.posix_source import PosixSource
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.posix_view import PosixObjectScreen
from shmtop.tui.widgets.hex_view import HexView
from shmtop.tui.widgets.meters import UsageMeter
from shmtop.tui.widgets.posix_table import PosixTable

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("unshare") is None,
        reason="needs root and unshare(1) to make and join IPC and mount namespaces",
    ),
]
TESTS = Path(__file__).resolve().parent.parent
NAME = f"shmtop-tui-nsposix-{os.getpid()}"
SEM = f"shmtop-tui-nssem-{os.getpid()}"
QUEUE = f"/shmtop-tui-nsq-{os.getpid()}"


def _in(made: dict[str, Any], call: Any, *args: Any) -> Any:
    thread = JoinedThread(made["pid"], made["inode"])
    try:
        return thread.run(call, *args)
    finally:
        thread.close()


def _make_queue() -> None:
    mqd = native.mq_open(QUEUE, os.O_CREAT | os.O_RDWR, 0o600, max_messages=4, max_size=64)
    native.mq_send(mqd, b"theirs")
    os.close(mqd)


def _queue_names() -> list[str]:
    """The queues of the calling thread's IPC namespace (its own mqueue mount, not the
    host's /dev/mqueue), by POSIX name."""
    return sorted(q.name for q in mqueue.take_snapshot(pids=[]).queues)


@pytest.fixture
def box() -> Iterator[dict[str, Any]]:
    """The namespace (its /dev/shm holding /NAME, mapped, and sem.SEM, value 3; its queue
    QUEUE with one message); ours holds a /NAME too. All gone with the child."""
    ours = f"/dev/shm/{NAME}"
    with foreign_shm(NAME) as made:
        root = f"/proc/{made['pid']}/root/dev/shm"
        with open(f"{root}/sem.{SEM}", "wb") as file:
            file.write(struct.pack("<II", 3, 0).ljust(32, b"\0"))
        _in(made, _make_queue)
        assert QUEUE in _in(made, _queue_names)  # listed inside it (the checks below: gone)
        with open(ours, "wb") as file:
            file.write(b"ours")
        try:
            yield {**made, "root": root}
        finally:
            if os.path.exists(ours):
                os.unlink(ours)


def _feed(box: dict[str, Any]) -> NamespaceFeed:
    pids = [os.getpid(), box["pid"]]
    return NamespaceFeed(every=True, pids=lambda: pids)


def _table(app: ShmtopApp, tab: str) -> PosixTable:
    return app.main_screen.query_one(f"#table-{tab}", PosixTable)


def _rows(table: PosixTable, name: str) -> list[Any]:
    found = []
    row: Any
    for row in table.objects.values():
        obj = row.queue if isinstance(row, QueueRow) else row.obj
        if obj.name == name:
            found.append(row)
    return found


def _theirs(table: PosixTable, name: str, inode: int) -> Any:
    return next((r for r in _rows(table, name) if r.inode == inode), None)


async def _shown(pilot: Pilot[None], table: PosixTable, name: str, inode: int) -> Any:
    await wait_for(pilot, lambda: _theirs(table, name, inode) is not None, f"{name} theirs")
    return _theirs(table, name, inode)


async def test_A_shows_another_namespace_posix_objects_with_their_NS_cell(
    tmp_path: Path, box: dict[str, Any]
) -> None:
    inode = box["inode"]
    source = PosixSource(pids=lambda: [os.getpid(), box["pid"]])
    async with app_running(tmp_path, posix=source, namespaces=_feed(box)) as (app, pilot):
        await pilot.press("4")
        shm = _table(app, "pshm")
        row = await _shown(pilot, shm, f"/{NAME}", inode)
        assert isinstance(row, ShmRow) and not row.current
        assert row.obj.mapper_pids == (box["pid"],)  # its child, found in its maps
        assert shm.row_text(row.id).split()[0] == str(inode)  # the NS cell: its inode
        ours = next(r for r in _rows(shm, f"/{NAME}") if r.current)  # the same name, ours
        assert ours.obj.key != row.obj.key and ours.id != row.id
        assert shm.move_to(row.id)
        await wait_for(pilot, lambda: f"ipc:[{inode}]" in text_of(app, "#detail"), "its NS")
        await pilot.press("5")
        sem = await _shown(pilot, _table(app, "psem"), f"/{SEM}", inode)
        assert sem.obj.semaphore is not None and sem.obj.semaphore.value == 3
        await pilot.press("6")
        queue = await _shown(pilot, _table(app, "pmq"), QUEUE, inode)
        assert queue.queue.entry.state.messages == 1
        assert QUEUE not in _queue_names()  # theirs: not in our namespace
        await pilot.press("A")  # back to the caller's namespace: its queues alone, no NS
        queues = _table(app, "pmq")
        await wait_for(pilot, lambda: _theirs(queues, QUEUE, inode) is None, "theirs gone")
        await pilot.press("4")
        await wait_for(pilot, lambda: all(r.current for r in shm.objects.values())  # type: ignore[union-attr]
                       and "ns" not in {c.key for c in shm.shown}, "ours alone, no NS")  # fmt: skip
        ours_inode = os.stat("/proc/self/ns/ipc").st_ino
        device = os.stat("/dev/shm").st_dev
        shm.set_filter(f"ns:{ours_inode} {NAME}")  # ns: still names the caller's namespace
        await wait_for(pilot, lambda: any(r.obj.dev == device for r in _rows(shm, f"/{NAME}")),
                       "ours by ns:")  # fmt: skip
        shm.set_filter(f"!ns:{ours_inode} {NAME}")
        await wait_for(pilot, lambda: not shm.objects, "nothing outside ours")


async def test_ns_and_other_filter_terms_on_the_posix_tabs(
    tmp_path: Path, box: dict[str, Any]
) -> None:
    inode = box["inode"]
    source = PosixSource(pids=lambda: [os.getpid(), box["pid"]])
    async with app_running(tmp_path, posix=source, namespaces=_feed(box)) as (app, pilot):
        await pilot.press("4")
        table = _table(app, "pshm")
        theirs = await _shown(pilot, table, f"/{NAME}", inode)
        ours = next(r for r in _rows(table, f"/{NAME}") if r.current)
        for expression, kept, gone in (
            (f"ns:{inode}", theirs, ours),
            (f"!ns:ipc:[{inode}] {NAME}", ours, theirs),
            (f"nattch:>0 {NAME}", theirs, ours),  # theirs is mapped by its child
            (f"pid:{box['pid']}", theirs, ours),
            (f"size:4 {NAME}", ours, theirs),  # 4 bytes; theirs 8192
        ):
            table.set_filter(expression)
            await wait_for(pilot, lambda: kept.id in table.objects  # noqa: B023
                           and gone.id not in table.objects, expression)  # noqa: B023 # fmt: skip
        with pytest.raises(FilterError, match="key: does not apply to pshm"):
            table.set_filter("key:0x1")  # a System V term: refused in one line, filter kept
        assert table.filter.expression == f"size:4 {NAME}"


async def test_removal_in_another_namespace_unlinks_its_object_not_ours(
    tmp_path: Path, box: dict[str, Any]
) -> None:
    inode = box["inode"]
    source = PosixSource(pids=lambda: [os.getpid(), box["pid"]])
    async with app_running(tmp_path, posix=source, namespaces=_feed(box)) as (app, pilot):
        await pilot.press("5")
        table = _table(app, "psem")
        row = await _shown(pilot, table, f"/{SEM}", inode)
        assert table.move_to(row.id)
        await pilot.press("d")
        dialog = await wait_armed(app, pilot, ConfirmScreen)
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.question.startswith(f"Unlink named semaphore /{SEM} in IPC namespace "
                                          f"ipc:[{inode}]?")  # fmt: skip
        assert dialog.plan[0] == f"in IPC namespace ipc:[{inode}]:"
        await pilot.press("y")
        await wait_for(pilot, lambda: _theirs(table, f"/{SEM}", inode) is None, "its row goes")
        assert not os.path.exists(f"{box['root']}/sem.{SEM}")

        await pilot.press("6")
        queues = _table(app, "pmq")
        row = await _shown(pilot, queues, QUEUE, inode)
        assert queues.move_to(row.id)
        await pilot.press("d")
        await wait_armed(app, pilot, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: _theirs(queues, QUEUE, inode) is None, "the queue goes")
    assert QUEUE not in _in(box, _queue_names)  # mq_unlink'd inside it
    assert os.path.exists(f"/dev/shm/{NAME}")  # ours untouched


async def test_namespace_NS_shows_its_posix_objects_alone_and_enter_reads_theirs(
    tmp_path: Path, box: dict[str, Any]
) -> None:
    inode = box["inode"]
    with open(f"{box['root']}/{NAME}", "r+b") as file:
        file.write(b"THEIR BYTES")
    pids = [os.getpid(), box["pid"]]
    start = next(ns for ns in census(pids).namespaces if ns.inode == inode)
    shown = NamespaceFeed(start=start, pids=lambda: pids)
    source = PosixSource(pids=lambda: pids)
    async with app_running(tmp_path, posix=source, namespaces=shown) as (app, pilot):
        await pilot.press("4")
        table = _table(app, "pshm")
        row = await _shown(pilot, table, f"/{NAME}", inode)
        assert all(not getattr(r, "current", True) for r in table.objects.values())  # not ours
        assert "ns" not in {c.key for c in table.shown}  # one namespace: NS hidden
        assert table.move_to(row.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PosixObjectScreen), "its view")
        hex_view = app.screen.query_one(HexView)
        await wait_for(pilot, lambda: hex_view.size.height > 0, "the hex view laid out")
        first = hex_view.render_line(0).text
        assert "THEIR BYTES" in first, first  # read through its member's root, not ours
        # The POSIX meters are that namespace's: its queues, its /dev/shm's room.
        queues = app.main_screen.query_one("#meter-pmq", UsageMeter)
        devshm = app.main_screen.query_one("#meter-devshm", UsageMeter)
        room = os.statvfs(box["root"])
        used = (room.f_blocks - room.f_bfree) * room.f_frsize
        await wait_for(pilot, lambda: queues.used == 1 and devshm.used == used, "its meters")
        assert QUEUE not in _queue_names()  # the 1 is theirs


async def test_the_unlinked_count_covers_every_namespace_shown(
    tmp_path: Path, box: dict[str, Any]
) -> None:
    """Ours holds one unlinked object (mapped by a child), theirs another (its child's
    mapping, its name unlinked through its root): the status line counts both, and says
    they are in two namespaces."""
    gone = f"/dev/shm/{NAME}-gone"
    with open(gone, "wb") as file:
        file.truncate(4096)
    kid = subprocess.Popen([sys.executable, str(TESTS / "pshm_child.py"), gone, "map-rw"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert kid.stdout is not None and kid.stdout.readline()  # mapped
        os.unlink(gone)
        os.unlink(f"{box['root']}/{NAME}")  # their child keeps mapping it
        pids = [os.getpid(), box["pid"], kid.pid]
        source = PosixSource(pids=lambda: pids)
        every = NamespaceFeed(every=True, pids=lambda: pids)
        async with app_running(tmp_path, posix=source, namespaces=every) as (app, pilot):
            await pilot.press("4")
            table = _table(app, "pshm")
            theirs = await _shown(pilot, table, f"/{NAME}", box["inode"])
            assert not theirs.obj.linked
            await wait_for(pilot, lambda: "2 unlinked POSIX objects holding" in text_of(
                app, "#status") and "in 2 IPC namespaces" in text_of(app, "#status"),
                "both counted")  # fmt: skip
    finally:
        kid.kill()
        kid.wait()
