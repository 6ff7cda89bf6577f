"""A removal acts on the object its plan showed: an id reused since, or a change, stops it."""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import helpers
import pytest
from helpers import MakeShm, Spawn
from textual.pilot import Pilot
from tui_pilot import next_polls, run_app, wait_armed, wait_for

from shmtop.cli import commands as cli
from shmtop.core.actions import Outcome, Removal, identity_of, remove
from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.core.snapshot.collect import Collector
from shmtop.text import errors
from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.main import MainScreen
from shmtop.tui.widgets.ipc_table import IpcTable

CREATE: dict[str, Callable[[int], int]] = {
    "shm": lambda key: native.shmget(key, 4096, native.IPC_CREAT | 0o600),
    "sem": lambda key: native.semget(key, 1, native.IPC_CREAT | 0o600),
    "msg": lambda key: native.msgget(key, native.IPC_CREAT | 0o600),
}


def next_id_file(kind: str) -> Path:
    return Path(f"/proc/sys/kernel/{kind}_next_id")


@pytest.fixture
def reuse_id() -> Iterator[Callable[[helpers.Kind, int, int], int]]:
    """Remove an object behind shmtop's back and make another of the same kind with its id.

    kernel.{shm,sem,msg}_next_id belong to the IPC namespace: in the tests' private one
    setting them touches nobody else. They are back at -1 (the kernel's "any") after.
    """
    used: list[helpers.Kind] = []
    made: list[tuple[helpers.Kind, int]] = []

    def reuse(kind: helpers.Kind, ident: int, key: int) -> int:
        assert helpers.remove(kind, ident)
        used.append(kind)
        next_id_file(kind).write_text(str(ident))
        new = CREATE[kind](key)
        made.append((kind, helpers.record(kind, new)))
        return new

    yield reuse
    for kind in used:
        # The kernel takes -1 back itself once the id is handed out (and refuses a write of
        # -1 here); if the creation failed, an object made and removed uses the id up.
        if next_id_file(kind).read_text().strip() != "-1":
            helpers.remove(kind, CREATE[kind](native.IPC_PRIVATE))
        assert next_id_file(kind).read_text().strip() == "-1"
    for kind, ident in made:
        helpers.remove(kind, ident)


MakeKeyed = Callable[[helpers.Kind], tuple[int, int]]


@pytest.fixture
def keyed() -> Iterator[MakeKeyed]:
    """Make objects with a random key: (id, key); each is removed when the test ends."""
    made: list[tuple[helpers.Kind, int]] = []

    def make(kind: helpers.Kind) -> tuple[int, int]:
        key = random.randrange(0x10000, 0x7FFFFFFF)
        ident = helpers.record(kind, CREATE[kind](key))
        made.append((kind, ident))
        return ident, key

    yield make
    for kind, ident in made:
        helpers.remove(kind, ident)


def rm_args(kind: str, ident: int) -> argparse.Namespace:
    return cli.build_parser().parse_args(["rm", kind, str(ident)])


@pytest.mark.skipif(not next_id_file("shm").exists(), reason="kernel without *_next_id")
@pytest.mark.parametrize("kind", helpers.KINDS)
def test_an_id_reused_between_the_plan_and_the_yes_is_not_removed(
    kind: helpers.Kind, reuse_id: Callable[[helpers.Kind, int, int], int], keyed: MakeKeyed
) -> None:
    planned, key = keyed(kind)
    snapshot = Collector().snapshot()
    targets = cli.removal_targets(snapshot, rm_args(kind, planned))
    assert f"0x{key:08x}" in "\n".join(cli.removal_plan(snapshot, targets))

    other_key = key ^ 0x5A5A
    new = reuse_id(kind, planned, other_key)
    assert new == planned, "the kernel did not hand out the id asked for"

    outcomes = cli.carry_out(snapshot, targets, idle=False)

    assert [o.outcome for o in outcomes] == [Outcome.CHANGED]
    assert f"key 0x{key:08x} -> 0x{other_key:08x}" in outcomes[0].detail
    assert not outcomes[0].outcome.ok
    assert new in helpers.live_rows(kind), "the new object must survive"
    assert "changed since the plan, not removed" in errors.removal_text(outcomes[0])


def test_an_unchanged_object_is_removed_and_a_missing_one_not_touched(
    make_shm: MakeShm, keyed: MakeKeyed
) -> None:
    shmid = make_shm()
    snapshot = Collector().snapshot()
    plan = cli.removal_targets(snapshot, rm_args("shm", shmid))
    assert helpers.remove("shm", shmid)
    late, _ = keyed("shm")  # not in the plan: whatever it is, it stays

    gone, = cli.carry_out(snapshot, plan, idle=False)  # fmt: skip
    missing, = cli.carry_out(snapshot, [(Kind.SHM, late)], idle=False)  # fmt: skip

    assert gone.outcome is Outcome.NOT_FOUND
    assert missing.outcome is Outcome.NOT_FOUND
    assert late in helpers.live_rows("shm")


def test_an_idle_plan_refuses_an_object_used_since(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm()
    snapshot = Collector().snapshot()
    segment = snapshot.segment(shmid)
    assert segment is not None
    expected = identity_of(segment, idle=True)
    child = spawn(attach=[(shmid, False)])  # used after the plan judged it idle

    refused = remove(Kind.SHM, shmid, expected)
    marked = remove(Kind.SHM, shmid, identity_of(segment))  # not idle-judged: same object

    assert refused.outcome is Outcome.CHANGED and "used since the plan" in refused.detail
    assert marked.outcome is Outcome.MARKED  # attached: only marked for destruction
    child.stop()
    helpers.wait_until(lambda: shmid not in helpers.live_rows("shm"), "the segment goes")


def test_the_tui_removal_leaves_an_object_that_took_the_confirmed_ones_id(
    tmp_path: Path, reuse_id: Callable[[helpers.Kind, int, int], int], keyed: MakeKeyed
) -> None:
    planned, key = keyed("shm")
    reported: list[Removal] = []
    original = MainScreen.report_removals

    def capture(self: MainScreen, removals: list[Removal]) -> None:
        reported.extend(removals)
        original(self, removals)

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        table = app.main_screen.query_one("#table-shm", IpcTable)
        await wait_for(pilot, lambda: planned in table.objects, "the segment is listed")
        assert table.move_to(planned)
        await pilot.press("d")
        await wait_armed(app, pilot, ConfirmScreen)  # it drops keys until it takes answers
        new = reuse_id("shm", planned, key ^ 0x5A5A)
        assert new == planned
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(reported), "the removal is reported")
        await next_polls(app, pilot, 2)
        assert [r.outcome for r in reported] == [Outcome.CHANGED]
        assert new in helpers.live_rows("shm")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MainScreen, "report_removals", capture)
        run_app(tmp_path, scenario)


def test_the_tui_says_an_object_removed_behind_its_back_as_the_cli_does(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    planned = make_shm()

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        table = app.main_screen.query_one("#table-shm", IpcTable)
        await wait_for(pilot, lambda: planned in table.objects, "the segment is listed")
        assert table.move_to(planned)
        await pilot.press("d")
        await wait_armed(app, pilot, ConfirmScreen)
        assert helpers.remove("shm", planned)  # gone between the plan and the yes
        await pilot.press("y")

        def said() -> list[str]:
            return [str(n.message) for n in app._notifications]

        await wait_for(pilot, lambda: bool(said()), "the removal is reported")
        assert said() == [errors.no_such_object("shm", planned)]

    run_app(tmp_path, scenario)
