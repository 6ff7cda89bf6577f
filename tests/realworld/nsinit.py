"""PID 1 of a test's private IPC and PID namespace: start one server, reap, end all at stdin EOF.

Run by `unshare --ipc --pid --fork --mount-proc` as
``nsinit.py [--user NAME] [--log FILE] -- COMMAND...`` (standard library only). It starts
COMMAND (as NAME if given, its output appended to FILE if given), prints ``started PID`` (the
namespace's pid) and later ``exited PID STATUS`` if the command ends, reaps every process that is
reparented to it, and exits when its stdin closes: the kernel then kills every process left in the
namespace, and the namespace goes with its last process.
"""

from __future__ import annotations

import os
import pwd
import select
import signal
import subprocess
import sys


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    user = log = None
    while argv[:1] in (["--user"], ["--log"]) and len(argv) > 1:
        if argv[0] == "--user":
            user = argv[1]
        else:
            log = argv[1]
        argv = argv[2:]
    if argv[:1] != ["--"] or len(argv) < 2:
        _say("usage: nsinit.py [--user NAME] [--log FILE] -- COMMAND...")
        return 2
    command = argv[1:]
    # Out of the test's process group, and the server in a session of its own: Apache's
    # prefork parent ends with killpg(getpgrp(), SIGTERM), which reaches every process of
    # its group, also those outside the PID namespace (the test run itself).
    os.setsid()
    # PID 1 gets only the signals it handles: make SIGTERM (from the test) end the namespace.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    uid = gid = None
    groups: list[int] | None = None
    if user is not None:
        account = pwd.getpwnam(user)
        uid, gid, groups = account.pw_uid, account.pw_gid, []
        os.environ.update(HOME=account.pw_dir, USER=user, LOGNAME=user)
    output = open(log, "ab") if log is not None else None  # noqa: SIM115 (open for life)
    server = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
        user=uid, group=gid, extra_groups=groups, start_new_session=True,
    )  # fmt: skip
    _say(f"started {server.pid}")
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 0.2)
        if readable and not os.read(sys.stdin.fileno(), 4096):
            return 0
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == server.pid:
                server.returncode = os.waitstatus_to_exitcode(status)
                _say(f"exited {pid} {server.returncode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
