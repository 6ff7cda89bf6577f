"""The plain-text and JSON views of POSIX message queues on snapshots built by hand, and the
status line parser (presentation and parsing only: no kernel objects)."""

from __future__ import annotations

from typing import Any

import msgspec

from shmtop.core.posix.model import Holder, PosixProcess
from shmtop.core.posix.mqueue import (
    MqQueue,
    MqSnapshot,
    MqWaiter,
    QueueEntry,
    QueueState,
    parse_status,
)
from shmtop.text import mqueue_table
from shmtop.text.mqueue_documents import pmq_list_document

NOW = 1_700_000_000.0
STATE = QueueState(21, 0, 0, 0, 3, 10, 64)
ENTRY = QueueEntry(b"q", 40, 7, 1, 0, 0, 0o640, NOW - 5, NOW - 5, NOW - 5, STATE)


def queue(raw_name: bytes = b"q", **fields: Any) -> MqQueue:
    state = msgspec.structs.replace(STATE, **fields.pop("state", {}))
    entry = msgspec.structs.replace(ENTRY, raw_name=raw_name, state=state, **fields)
    return MqQueue(entry)


def snapshot(*queues: MqQueue, **fields: Any) -> MqSnapshot:
    processes = {pid: PosixProcess(pid, f"app{pid}", 0, NOW - 100) for pid in range(1, 10)}
    return MqSnapshot(NOW, queues, "/dev/mqueue", processes, {}, 9, **fields)


def cells(snap: MqSnapshot) -> list[dict[str, str]]:
    return [{header: cell(q, snap) for header, cell in mqueue_table.COLUMNS} for q in snap.queues]


def test_the_status_line_parses_as_the_kernel_writes_it() -> None:
    line = b"QSIZE:21         NOTIFY:0     SIGNO:10    NOTIFY_PID:4242  \n"
    assert parse_status(line) == (21, 0, 10, 4242)
    assert parse_status(b"QSIZE:x NOTIFY:0") is None


def test_counts_sizes_waiters_and_holders_fill_their_columns() -> None:
    waiters = (MqWaiter(3, 3, 5, True), MqWaiter(4, 40, 6, False), MqWaiter(4, 41, 6, False))
    busy = msgspec.structs.replace(
        queue(state={"notify_pid": 2}),
        holders=(Holder(1, 3, True, True), Holder(1, 4, True, False), Holder(2, 3, True, False)),
        waiters=waiters,
    )
    [row] = cells(snapshot(busy))
    assert (row["MSGS"], row["MSGSIZE"], row["QSIZE"], row["LAST OP"]) == (
        "3/10",
        "64B",
        "21B",
        "5s",
    )
    assert (row["SENDERS"], row["RECEIVERS"], row["NOTIFY"]) == ("3 app3", "4 app4", "2 app2")
    assert row["HELD BY"] == "1 app1, 2 app2"
    assert row["STATUS"] == "-" and row["PERMS"] == "640"


def test_unknown_counts_show_question_marks_and_the_problem() -> None:
    blind = queue(state={"messages": None, "max_messages": None, "problem": "no permission"})
    snap = snapshot(blind)
    assert cells(snap)[0]["MSGS"] == "?/?"
    assert "  unknown    no permission" in mqueue_table.detail_lines(snap, blind)
    assert mqueue_table.plan_lines([blind])[1].split()[2] == "?,"


def test_hostile_names_and_commands_reach_the_screen_sanitised() -> None:
    hostile = msgspec.structs.replace(
        queue(b"\x1b]2;pwned\x07\xff"), holders=(Holder(1, 3, True, True),)
    )
    snap = msgspec.structs.replace(
        snapshot(hostile), processes={1: PosixProcess(1, "\x1b[41mred", 0, NOW)}
    )
    shown = "\n".join(
        [*mqueue_table.table_lines(snap), *mqueue_table.detail_lines(snap, hostile),
         *mqueue_table.plan_lines([hostile])]
    )  # fmt: skip
    assert "\x1b" not in shown and "\x07" not in shown
    assert "/\u241b]2;pwned\u2407\ufffd" in shown and "1 \u241b[41mred" in shown


def test_an_unlinked_queue_says_so_and_cannot_be_removed() -> None:
    gone = msgspec.structs.replace(queue(nlink=0), holders=(Holder(5, 9, True, False),))
    snap = snapshot(queue(b"a"), gone)
    assert mqueue_table.summary_line(snap) == (
        "POSIX message queues (2, 1 unlinked; read through /dev/mqueue)"
    )
    assert cells(snap)[1]["STATUS"] == "unlinked"
    assert "cannot remove: already unlinked" in mqueue_table.plan_lines([gone])[1]
    assert "held by 5 (fd 9)" in mqueue_table.plan_lines([gone])[1]


def test_nothing_listed_is_said_and_not_shown_as_an_empty_table() -> None:
    snap = snapshot(listed=False, problem="no mqueue fs is mounted and reading one needs X")
    assert mqueue_table.summary_line(snap) == "POSIX message queues: none could be listed"
    assert mqueue_table.blind_spot_note(snap) == "no mqueue fs is mounted and reading one needs X"


def test_the_json_record_has_no_registration_without_a_pid_and_escapes_bytes() -> None:
    snap = snapshot(queue(b"n\xff", state={"notify": 0, "signo": 0}),
                    queue(b"r", state={"notify_pid": 2, "signo": 10}))  # fmt: skip
    document = msgspec.to_builtins(pmq_list_document(snap))
    plain, registered = document["queues"]
    assert plain["name"] == "/n\ufffd"
    assert (plain["notify_pid"], plain["sigev_notify"], plain["signal"]) == (None, None, None)
    assert (registered["notify_pid"], registered["notify_command"]) == (2, "app2")
    assert registered["signal"] == 10 and document["listed"] is True
