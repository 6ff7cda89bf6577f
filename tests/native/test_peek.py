"""Queue peeks on real queues: MSG_COPY reads messages and leaves the queue as it was."""

# Objects come from the conftest fixtures (removed at the end), children from
# tests/blocker.py (killed by PID and reaped); checks look at our queue only.

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import helpers
import pytest
from blocker import NOBODY, ROOT, Blockers, blockers
from helpers import MakeMsg

from shmtop.core.binding import native
from shmtop.core.binding._native import ffi, lib
from shmtop.core.model import MessageQueue
from shmtop.core.snapshot.collect import Collector
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.text import wait_pages

# Bytes a terminal would act on: OSC 2 (set the title) and a colour change.
HOSTILE = b"title\x1b]2;pwned\x07\x1b[41mred\x9b"
MESSAGES = [(9, HOSTILE), (3, b"\x00\x01\x02 three"), (9, b"x" * 40)]


@pytest.fixture
def kids() -> Iterator[Blockers]:
    with blockers() as started:
        yield started


def header(msqid: int) -> dict[str, int]:
    """What the kernel says of the queue: (qnum, cbytes, lspid, lrpid, stime, rtime)."""
    row = next(r for r in native.msg_table() if r.id == msqid)
    names = ("cbytes", "qnum", "qbytes", "lspid", "lrpid", "stime", "rtime", "ctime")
    return {name: getattr(row, name) for name in names}


def shmtop(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "shmtop", *args],
        check=False, capture_output=True, text=True, timeout=helpers.PATIENCE, cwd=ROOT,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "PYTHONUTF8": "1"},
    )  # fmt: skip


@pytest.fixture
def queue(make_msg: MakeMsg, kids: Blockers) -> int:
    """A queue with MESSAGES on it, after a child received one more (so lrpid is the child)."""
    msqid = make_msg()
    native.msgsnd(msqid, 1, b"taken")
    receiver = kids.start("shmtop-took")
    assert receiver.call(call="msgrcv", msqid=msqid, type=1, size=64)["type"] == 1
    for mtype, data in MESSAGES:
        native.msgsnd(msqid, mtype, data)
    assert header(msqid)["lrpid"] == receiver.pid
    return msqid


def test_peeking_leaves_qnum_lrpid_and_rtime_unchanged_and_shows_types_and_bytes(
    queue: int,
) -> None:
    before = header(queue)

    peek = native.msg_peek(queue)

    assert [(m.index, m.mtype, m.size, m.data) for m in peek.messages] == [
        (i, mtype, len(data), data) for i, (mtype, data) in enumerate(MESSAGES)
    ]
    assert (peek.unsupported, peek.more, peek.problem, peek.changed) == (None, False, None, False)
    assert header(queue) == before  # qnum, cbytes, lrpid, rtime...: nothing moved
    assert before["qnum"] == len(MESSAGES)


def test_the_byte_and_count_budgets_stop_the_peek_and_say_there_is_more(queue: int) -> None:
    by_count = native.msg_peek(queue, max_messages=2)
    by_bytes = native.msg_peek(queue, max_bytes=len(HOSTILE) + 4)

    assert [m.mtype for m in by_count.messages] == [9, 3] and by_count.more
    assert [m.data for m in by_bytes.messages] == [HOSTILE, MESSAGES[1][1][:4]]
    assert by_bytes.messages[1].truncated and by_bytes.messages[1].size == len(MESSAGES[1][1])
    assert by_bytes.more


def test_a_message_longer_than_the_first_buffer_grows_it(
    queue: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native, "_PEEK_START", 8)  # every message but none is longer: E2BIG

    peek = native.msg_peek(queue)

    assert [m.data for m in peek.messages] == [data for _, data in MESSAGES]


def test_without_msg_copy_the_peek_says_the_kernel_lacks_it(
    queue: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoMsgCopy:
        """The binding, with msgrcv failing ENOSYS as on a kernel without MSG_COPY."""

        def __getattr__(self, name: str) -> Any:
            return getattr(lib, name)

        def msgrcv(self, *args: Any) -> int:
            ffi.errno = errno.ENOSYS
            return -1

    monkeypatch.setattr(native, "lib", NoMsgCopy())
    peek = native.msg_peek(queue)
    monkeypatch.undo()
    snapshot_queue = Collector(attachments=False).snapshot().queue(queue)
    assert isinstance(snapshot_queue, MessageQueue)

    assert peek.messages == ()
    assert peek.unsupported is not None and "lacks MSG_COPY" in peek.unsupported
    lines = wait_pages.message_lines(peek, snapshot_queue, 64)
    assert lines == [f"Messages: not read: {native.MSG_COPY_MISSING}"]


def test_show_messages_lists_the_blocked_receiver_and_renders_bytes_safely(
    queue: int, kids: Blockers
) -> None:
    waiting = kids.start("shmtop-want7")
    waiting.send(call="msgrcv", msqid=queue, type=7, size=256)
    helpers.wait_until(
        lambda: any(w.pid == waiting.pid for w in WaiterScanner().scan().waiters),
        "the receiver blocks",
    )
    before = header(queue)

    text = shmtop("show", "msg", str(queue), "--messages")
    data = shmtop("show", "msg", str(queue), "--messages", "--json", "--bytes", "8")

    assert text.returncode == 0, text.stderr
    assert "\x1b" not in text.stdout and "\x9b" not in text.stdout and "\x07" not in text.stdout
    lines = text.stdout.splitlines()
    assert f"  receiver  {before['lrpid']} (shmtop-took)" in "\n".join(lines)
    row = next(line for line in lines if line.startswith(f"{waiting.pid} "))
    assert "shmtop-want7" in row and "receive type 7" in row
    assert f"#0  type 9  {len(HOSTILE)} bytes" in lines
    hexdump = "  00000000  74 69 74 6c 65 1b 5d 32  3b 70 77 6e 65 64 07 1b  |title.]2;pwned..|"
    assert hexdump in lines
    assert "#1  type 3  9 bytes" in lines
    assert "#2  type 9  40 bytes" in lines
    assert data.returncode == 0, data.stderr
    parsed = json.loads(data.stdout)
    assert [m["type"] for m in parsed["messages"]["messages"]] == [9, 3, 9]
    assert parsed["messages"]["messages"][0]["data_hex"] == HOSTILE[:8].hex()
    assert parsed["messages"]["messages"][0]["truncated"] is True
    receivers = [w for w in parsed["waiters"] if w["pid"] == waiting.pid]
    assert [(w["direction"], w["msg_type"]) for w in receivers] == [("receive", 7)]
    assert header(queue) == before  # two CLI peeks later, still untouched


def test_messages_of_anything_but_a_queue_is_a_usage_error() -> None:
    run = shmtop("show", "sem", "0", "--messages")

    assert run.returncode == 2
    assert run.stderr.startswith("shmtop: --messages applies to message queues")
    assert run.stdout == ""


def test_a_queue_nobody_may_read_says_permission_denied_and_the_rest_is_shown(
    queue: int,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: runs shmtop as user nobody")

    run = shmtop("show", "msg", str(queue), "--messages", prefix=NOBODY)

    assert run.returncode == 0, run.stderr
    assert f"message queue {queue}" in run.stdout
    assert f"Messages: not read (msg {queue}: permission denied" in run.stdout
    assert "could not be inspected" in run.stdout
