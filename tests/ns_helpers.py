"""Children that live in IPC namespaces of their own (unshare --ipc), holding real objects."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# Runs inside the new namespaces: names the UTS namespace, makes one object of each kind,
# attaches the segment read-write, says what it made, and holds it all until stdin closes.
_CHILD = r"""
import json, os, socket, sys
from shmtop.core.binding import native
if sys.argv[1]:
    socket.sethostname(sys.argv[1])
count = int(sys.argv[2])
shm = [native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600) for _ in range(count)]
address = native.shmat(shm[0], 0)
sem = native.semget(native.IPC_PRIVATE, 2, native.IPC_CREAT | 0o600)
msg = native.msgget(native.IPC_PRIVATE, native.IPC_CREAT | 0o600)
inode = os.stat("/proc/self/ns/ipc").st_ino
print(json.dumps({"pid": os.getpid(), "inode": inode, "shm": shm, "sem": sem, "msg": msg}),
      flush=True)
sys.stdin.read()
"""


@contextmanager
def foreign_namespace(
    hostname: str | None = None,
    *,
    objects: int = 1,
    prefix: Sequence[str] = (),
    user_namespace: bool = False,
    inside: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """A child in a new IPC namespace (and UTS namespace, given a hostname) holding a segment
    it maps, a semaphore set and a queue; yields what it made. The namespace and its objects
    end with the child, when the block ends. prefix: what runs it (setpriv as another user);
    user_namespace: in a user namespace of its own too (how an unprivileged user makes one);
    inside: what runs it once in the namespace (setpriv: a process of another user in a
    namespace root made)."""
    flags = ["--ipc"] + (["--uts"] if hostname is not None else [])
    flags += ["--user"] if user_namespace else []
    argv = [*prefix, "unshare", *flags, "--", *inside, sys.executable, "-c", _CHILD, hostname or "",
            str(objects)]  # fmt: skip
    with _held_child(argv, "the namespace child") as said:
        yield said


# Runs in new IPC and mount namespaces with a tmpfs of their own on /dev/shm: makes a POSIX
# shm object there, maps it shared, says so, and holds it until stdin closes.
_SHM_CHILD = r"""
import json, mmap, os, sys
name = sys.argv[1]
fd = os.open("/dev/shm/" + name, os.O_CREAT | os.O_RDWR, 0o600)
os.ftruncate(fd, 8192)
mapped = mmap.mmap(fd, 8192)
inode = os.stat("/proc/self/ns/ipc").st_ino
print(json.dumps({"pid": os.getpid(), "inode": inode, "name": "/" + name}), flush=True)
sys.stdin.read()
"""
_OWN_SHM = 'mount -t tmpfs shmtop-test /dev/shm && exec "$0" -c "$1" "$2"'


@contextmanager
def foreign_shm(name: str) -> Iterator[dict[str, Any]]:
    """A child in new IPC and mount namespaces whose /dev/shm is a tmpfs of its own (gone
    with it: the mount namespace dies with the child), mapping /dev/shm/NAME; yields its
    pid, IPC namespace inode and the object's POSIX name."""
    argv = ["unshare", "--ipc", "--mount", "--propagation", "private", "--", "sh", "-c",
            _OWN_SHM, sys.executable, _SHM_CHILD, name]  # fmt: skip
    with _held_child(argv, "the mount namespace child") as said:
        yield said


@contextmanager
def _held_child(argv: list[str], what: str) -> Iterator[dict[str, Any]]:
    """Start argv, yield the JSON line it prints once ready, and end it by closing its
    stdin (killed if it is still there 10 s later)."""
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # bounded: the child says it or exits (EOF)
        if not line:
            raise RuntimeError(f"{what} failed (exit {child.wait()})")
        yield json.loads(line)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
