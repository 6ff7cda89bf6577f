"""`list --sort` takes every column the TUI's tables offer and orders objects as they do."""

from __future__ import annotations

import json
from pathlib import Path

import helpers
import pytest
from helpers import MakeMsg, MakeSem, MakeShm, Spawn
from textual.pilot import Pilot
from tui_pilot import run_app, wait_for

from shmtop.cli import commands
from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.text.columns import COLUMNS
from shmtop.tui.app import ShmtopApp
from shmtop.tui.widgets.ipc_table import IpcTable

JSON_LISTS = {Kind.SHM: "segments", Kind.SEM: "semaphore_sets", Kind.MSG: "queues"}


def _objects_that_differ(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, spawn: Spawn
) -> dict[Kind, list[int]]:
    """Three objects of each kind whose columns differ (sizes, perms, users, values, times)."""
    shm = [make_shm(4096, 0o600), make_shm(3 * 4096, 0o644), make_shm(2 * 4096, 0o640)]
    spawn(attach=[(shm[1], True)])  # attached: nattch, ATTACHED, ATTACH time
    address = helpers.libc_shmat(shm[2], writable=False)
    helpers.libc_shmdt(address)  # attached and detached again: ATTACH and DETACH times
    spawn(attach=[(shm[0], False)])
    helpers.remove("shm", shm[0])  # removed while attached: the status word "dest"
    sem = [make_sem(1), make_sem(3, 0o644), make_sem(2, 0o640)]
    helpers.libc_semop(sem[1], 0, 2)
    helpers.libc_semop(sem[2], 1, 5)
    msg = [make_msg(), make_msg(0o644), make_msg(0o640)]
    native.msgsnd(msg[1], 1, b"x" * 10)
    for _ in range(2):
        native.msgsnd(msg[2], 1, b"y" * 100)
    return {Kind.SHM: shm, Kind.SEM: sem, Kind.MSG: msg}


def _list_order(
    capfd: pytest.CaptureFixture[str], kind: Kind, key: str, reverse: bool
) -> list[int]:
    """The ids `shmtop list KIND --sort KEY [--reverse] --json` prints, in order."""
    argv = ["list", str(kind), "--sort", key, "--json", *(["--reverse"] if reverse else [])]
    assert commands.main(argv) == 0, capfd.readouterr().err
    return [o["id"] for o in json.loads(capfd.readouterr().out)[JSON_LISTS[kind]]]


def test_list_sorts_by_every_tui_column_in_the_tui_tables_order(
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    make_shm: MakeShm,
    make_sem: MakeSem,
    make_msg: MakeMsg,
    spawn: Spawn,
) -> None:
    made = _objects_that_differ(make_shm, make_sem, make_msg, spawn)
    expected = {
        (kind, column.key, reverse): _list_order(capfd, kind, column.key, reverse)
        for kind in Kind
        for column in COLUMNS[kind]
        for reverse in (False, True)
    }
    for (kind, _key, _reverse), ids in expected.items():
        assert set(ids) == set(made[kind])  # only this test's objects: nothing else is listed
    # The orders are not all one: the columns really sort (times included, both ways).
    assert len({tuple(ids) for ids in expected.values()}) > 2
    assert expected[(Kind.SHM, "size", False)] == [made[Kind.SHM][i] for i in (0, 2, 1)]
    newest_first = expected[(Kind.SEM, "otime", False)]
    assert expected[(Kind.SEM, "otime", True)] == newest_first[::-1]  # ties by id flip too
    seen: dict[tuple[Kind, str, bool], list[int]] = {}

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        tables = {table.kind: table for table in app.main_screen.tables()}

        def showing_all() -> bool:
            return all(set(tables[k].objects) == set(made[k]) for k in Kind)

        await wait_for(pilot, showing_all, "every object in its table")
        for kind, key, reverse in expected:
            table: IpcTable = tables[kind]
            table.set_sort(key, reverse=reverse)
            seen[(kind, key, reverse)] = table.ordered_ids

    run_app(tmp_path, scenario)
    assert seen == expected
