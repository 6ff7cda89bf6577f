"""One message per kind of mistake, the same wherever it is made (issue 10).

A new user's mistakes tried on every command that takes an id, as real subprocesses on
real objects: an id that names nothing, an object the user may not read or remove (root's
0600 objects, the CLI run as user nobody), a bad --sort, a bad --user. Each must give the
one sentence of text/errors.py, on one line of stderr, and a non-zero exit.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import helpers
import hidden
import pytest
from helpers import MakeMsg, MakeSem, MakeShm

from shmtop.text import errors

MISSING = 2147483647  # the largest id: no test makes that many objects


def shmtop(*args: str, nobody: bool = False) -> hidden.Result:
    """`python -m shmtop args` (stdin not a terminal), as root or as user nobody."""
    return hidden.run(args, nobody=nobody)


def said(runs: Sequence[hidden.Result]) -> set[str]:
    """The one line each run printed on stderr (a run with another count fails the test)."""
    for run in runs:
        assert run.code != 0, run
        assert len(run.stderr.splitlines()) == 1, run
    return {run.stderr.rstrip("\n") for run in runs}


@pytest.fixture(scope="module")
def as_nobody() -> None:
    """Root's objects, and the CLI run as nobody: skipped where that cannot be done."""
    missing = hidden.missing_tools()
    if missing:
        pytest.skip(missing)
    probe = shmtop("--version", nobody=True)
    if probe.code != 0:
        pytest.fail(f"user nobody cannot run {sys.executable} -m shmtop: {probe.stderr.strip()}")


@pytest.mark.parametrize("kind", ["shm", "sem", "msg"])
def test_an_unknown_id_gets_one_message_from_every_command(kind: str) -> None:
    ident = str(MISSING)
    commands = [
        ["show", kind, ident],
        ["show", kind, ident, "--json"],
        ["rm", kind, ident, "--yes"],
    ]
    if kind == "shm":
        commands += [["dump", ident], ["view", ident], ["view", ident, "--no-attach"]]
    if kind == "msg":
        commands += [["show", "msg", ident, "--messages"]]
    runs = [shmtop(*args) for args in commands]
    assert said(runs) == {f"shmtop: {errors.no_such_object(kind, MISSING)}"}


def test_an_unreadable_segment_gets_one_message_from_every_reader(
    make_shm: MakeShm, as_nobody: None
) -> None:
    shmid = make_shm(4096, 0o600)
    runs = [
        shmtop("dump", str(shmid), nobody=True),
        shmtop("dump", str(shmid), "--raw", nobody=True),
        shmtop("view", str(shmid), nobody=True),
        shmtop("view", str(shmid), "--no-attach", nobody=True),
    ]
    assert said(runs) == {f"shmtop: {errors.permission_denied('shm', shmid)}"}


def test_an_unreadable_queue_says_the_same_words_in_show_messages(
    make_msg: MakeMsg, as_nobody: None
) -> None:
    msqid = make_msg(0o600)
    run = shmtop("show", "msg", str(msqid), "--messages", nobody=True)
    assert run.code == 0, run  # the header is public: only the messages are refused
    assert f"Messages: not read ({errors.permission_denied('msg', msqid)})" in run.stdout


def test_a_removal_refused_gets_one_message_for_every_kind(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, as_nobody: None
) -> None:
    objects: dict[helpers.Kind, int] = {
        "shm": make_shm(4096, 0o600), "sem": make_sem(1, 0o600), "msg": make_msg(0o600),
    }  # fmt: skip
    for kind, ident in objects.items():
        run = shmtop("rm", kind, str(ident), "--yes", nobody=True)
        assert said([run]) == {f"shmtop: {errors.permission_denied(kind, ident, removing=True)}"}
        assert ident in helpers.live_rows(kind), "a refused removal removes nothing"


@pytest.mark.parametrize("kind", [None, "shm", "sem", "msg", "all"])
def test_a_bad_sort_is_one_usage_line(kind: str | None) -> None:
    run = shmtop("list", *([kind] if kind else []), "--sort", "bogus")
    assert run.code == 2
    (line,) = said([run])
    assert line.startswith("shmtop: cannot sort by 'bogus'; columns: ")
    assert ", size" in line or kind in ("sem", "msg")


def test_a_bad_user_is_one_usage_line_whatever_the_kind() -> None:
    runs = [shmtop("list", *k, "--user", "no-such-user-x") for k in ([], ["shm"], ["sem"])]
    assert {r.code for r in runs} == {2}
    assert said(runs) == {f"shmtop: {errors.no_such_user('no-such-user-x')}"}
