"""`shmtop waiters` (text) on POSIX message queues: a child blocked receiving on an empty queue
with a hostile name, shown by its sanitised name with who could release it, then gone.

The session's IPC namespace is private (conftest); the queue is unlinked and the children
killed at the end (pmq_kids fixtures).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import wait_until
from pmq_kids import Kid, Queues, send, start

from shmtop.core.waits.waiters import WaiterScanner

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's fds: root")

HOSTILE = "\x1b]2;pwned\x07\x1b[41m"
SAFE_HOSTILE = "\u241b]2;pwned\u2407\u241b[41m"


def waiters_text() -> str:
    done = subprocess.run([sys.executable, "-m", "shmtop", "waiters"], capture_output=True,
                          timeout=60, check=True)  # fmt: skip
    return done.stdout.decode()


def test_a_blocked_receiver_shows_by_its_safe_queue_name_with_its_sender_then_goes(
    mq_queues: Queues, mq_kids: list[Kid]
) -> None:
    name = mq_queues.make(max_messages=2, max_size=24, suffix=HOSTILE)
    writer = start(mq_kids, name, "w")
    kid = start(mq_kids, name, "r", "receive")
    wait_until(lambda: any(w.pid == kid.pid for w in WaiterScanner().scan().waiters),
               "the child blocks in mq_receive")  # fmt: skip

    text = waiters_text()
    assert "\x1b" not in text and "\x07" not in text
    row = next(line for line in text.splitlines() if line.startswith(f"{kid.pid} "))
    safe = name.replace(HOSTILE, SAFE_HOSTILE)
    assert f"pmq {safe}" in row
    assert "receive (buffer 24 bytes; queue empty: 0 of 2 messages)" in row
    assert f"{writer.pid} (" in row and "holds it open for sending (hint)" in row
    assert "waiting" in row.split()

    send(name, b"x")
    wait_until(lambda: kid.process.poll() is not None, "the receiver takes it and ends")
    assert not [line for line in waiters_text().splitlines() if line.startswith(f"{kid.pid} ")]
