"""The filter language on POSIX rows (text/posix_filtering.py) and the POSIX tabs' rows
across IPC namespaces, on fixed scans (no kernel: the real objects are in
tests/tui/test_tui_posix_namespaces.py and tests/cli/test_cli_posix_filter.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fake_posix import fixed_mq_snapshot, fixed_posix_snapshot
from fake_source import fixed_snapshot

from shmtop.core.namespaces.discover import Namespace
from shmtop.core.posix.model import PosixKind
from shmtop.text.columns import NS_COLUMN
from shmtop.text.filtering import FilterError
from shmtop.text.posix_columns import queue_rows, shm_rows
from shmtop.text.posix_filtering import parse_posix_filter, row_text
from shmtop.tui.posix_source import PosixPart, PosixView
from shmtop.tui.posix_tabs import TABS, plan_lines, question

THEIRS = (4026532215, "web-box", False)
SNAPSHOT = fixed_snapshot()  # what the TUI passes (the POSIX tests ignore it)


def kept(kind: str, expression: str, rows: tuple[Any, ...]) -> list[str]:
    matches = parse_posix_filter(expression, kind, row_text)
    return [
        (row.queue.name if kind == "pmq" else row.obj.name)
        for row in rows
        if matches(row, SNAPSHOT)
    ]


def shm(kind: PosixKind = PosixKind.SHM, where: Any = None) -> tuple[Any, ...]:
    return shm_rows(fixed_posix_snapshot(), kind, where)


def test_shared_terms_mean_the_same_on_posix_shm() -> None:
    assert kept("pshm", "size:>512k", shm()) == ["/PostgreSQL.1804289383", "/old-cache"]
    assert kept("pshm", "nattch:2", shm()) == ["/PostgreSQL.1804289383", "/app-ring"]
    assert kept("pshm", "pid:5003", shm()) == ["/app-ring"]  # a holder counts
    assert kept("pshm", "cmd:postg", shm()) == ["/PostgreSQL.1804289383"]
    assert kept("pshm", "unlinked", shm()) == ["/old-cache"]
    assert kept("pshm", "!attached", shm()) == ["/evil\x1b[2Jname"]
    assert kept("pshm", "user:root perms:600 ring", shm()) == ["/app-ring"]
    assert kept("pshm", "user:0 age:>1m ring", shm()) == ["/app-ring"]  # idle 95 s
    assert kept("psem", "waiting", shm(PosixKind.SEM)) == []  # nwaiters 0
    assert kept("psem", "!unreadable", shm(PosixKind.SEM)) == ["/jobs"]


def test_queue_terms_read_the_queue() -> None:
    rows = queue_rows(fixed_mq_snapshot())
    assert kept("pmq", "size:96", rows) == ["/jobs"]  # bytes queued
    assert kept("pmq", "nattch:2 waiting attached", rows) == ["/jobs"]
    assert kept("pmq", "pid:5002 cmd:consumer", rows) == ["/jobs"]
    assert kept("pmq", "unlinked", rows) == []


@pytest.mark.parametrize(
    ("kind", "term", "said"),
    [
        ("pshm", "key:0x1", "key: does not apply to pshm: a POSIX object has a name"),
        ("pmq", "id:>3", "id: does not apply to pmq"),
        ("pshm", "locked", "locked does not apply to pshm: a System V flag"),
        ("pmq", "unused", "unused does not apply to pmq: a flag of pshm and psem"),
        ("pshm", "unreadable", "unreadable does not apply to pshm: a flag of psem"),
        ("psem", "colour:red", "unknown term colour:"),
        ("pshm", "size:big", "size:big: not a number"),
    ],
)
def test_a_term_that_means_nothing_for_a_kind_is_refused(kind: str, term: str, said: str) -> None:
    with pytest.raises(FilterError, match=said.replace("[", r"\[")):
        parse_posix_filter(term, kind, row_text)


def test_ns_names_the_rows_namespace_by_name_inode_or_ipc_label() -> None:
    rows = shm(where=THEIRS) + shm(where=(4026531839, "ipc:[4026531839]", True))
    for term in ("ns:web-box", "ns:4026532215", "ns:ipc:[4026532215]"):
        assert len(kept("pshm", f"{term} ring", rows)) == 1
    assert {r.current for r in rows if parse_posix_filter("!ns:web-box", "pshm", row_text)(
        r, SNAPSHOT)} == {True}  # fmt: skip


def test_rows_across_namespaces_are_namespace_and_object() -> None:
    """The same (device, inode) in two namespaces' scans is two rows; ours keep their ids."""
    ours = Namespace(4026531839, "ipc:[4026531839]", "inode", (1,), current=True)
    other = Namespace(4026532215, "web-box", "hostname", (2,), current=False)
    scan = fixed_posix_snapshot()
    view = PosixView(scan, fixed_mq_snapshot(), None, parts=(
        PosixPart(ours, scan, None, fixed_mq_snapshot()),
        PosixPart(other, scan, scan, fixed_mq_snapshot()),
    ))  # fmt: skip
    rows = TABS["pshm"].rows_of(view)
    assert len({r.id for r in rows}) == len(rows) == 2 * len(shm())
    plain = {r.id for r in shm()}
    assert {r.id for r in rows if r.current} == plain
    theirs = [r for r in rows if not r.current]
    snapshot = fixed_snapshot()
    assert {NS_COLUMN.cell(r, snapshot) for r in theirs} == {"web-box"}
    assert {NS_COLUMN.cell(r, snapshot) for r in rows if r.current} == {"4026531839"}
    assert all(r.acting is scan for r in theirs)
    queues = TABS["pmq"].rows_of(view)
    assert len({r.id for r in queues}) == 2
    assert question("pmq", [q for q in queues if not q.current]) == (
        "Unlink POSIX message queue /jobs in IPC namespace web-box (ipc:[4026532215])? "
        "The name goes; who maps or holds it keeps it until they let go."
    )
    plan = plan_lines("pshm", [theirs[0], next(r for r in rows if r.current)])
    assert plan[0] == "in IPC namespace web-box (ipc:[4026532215]):"
    assert "in IPC namespace ipc:[4026531839], the caller's:" in plan
