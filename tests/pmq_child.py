"""A child process for the POSIX message queue tests, through shmtop's cffi binding.

    python pmq_child.py NAME MODE [ACTION]...

MODE opens the queue: r, w or rw. ACTIONs: send:TEXT (without blocking), notify:SIGNO
(mq_notify for that signal, ignored by the child), then at most one
blocking one, done after the ready line: receive (blocks on an empty queue) or
send-block:TEXT (blocks on a full one). Prints one JSON line {"pid", "fd"} when ready,
then blocks or waits for its stdin to close; dies with its parent.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

from shmtop.core.binding import native

PR_SET_PDEATHSIG = 1
MODES = {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR}


def main(name: str, mode: str, actions: list[str]) -> None:
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 9)
    mqd = native.mq_open(name, MODES[mode])
    blocking = None
    for action in actions:
        what, _, text = action.partition(":")
        if what == "send":
            native.mq_send(mqd, text.encode())
        elif what == "notify":
            signal.signal(int(text), signal.SIG_IGN)
            native.mq_notify(mqd, int(text))
        else:
            blocking = (what, text)
    print(json.dumps({"pid": os.getpid(), "fd": mqd}), flush=True)
    if blocking is None:
        sys.stdin.read()
    elif blocking[0] == "receive":
        native.mq_receive(mqd, native.mq_getattr(mqd).max_size)
    elif blocking[0] == "send-block":
        native.mq_send(mqd, blocking[1].encode())
    else:
        raise SystemExit(f"unknown action {blocking[0]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
