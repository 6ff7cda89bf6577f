"""Another namespace's /dev/shm is reached through /proc/PID/root of a member, whose links the
kernel would follow from our root: a container whose /dev/shm is a link to a directory of the
host must not have that directory listed, read or unlinked in as its objects.

The child here is what a hostile container can be: in IPC and mount namespaces of its own,
chrooted into a directory whose dev/shm is an absolute symlink to a host directory holding a
"victim" file (and whose etc/hostname is one to a host file)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helpers
import hidden
import pytest

from shmtop.core.binding import native
from shmtop.core.namespaces.discover import Namespace
from shmtop.core.posix import actions, content
from shmtop.core.posix.model import PosixKind, PosixObject, PosixSnapshot
from shmtop.core.posix.namespace_roots import confined_to, shm_device

# Leave for new IPC and mount namespaces (the mount one private, so the chroot's view is
# its own), chroot into the jail, say who we are, hold until stdin closes.
CHILD = r"""
import json, os, sys
from shmtop.core.binding import native
native.unshare(native.CLONE_NEWIPC | native.CLONE_NEWNS)
inode = os.stat("/proc/self/ns/ipc").st_ino
os.chroot(sys.argv[1])
os.chdir("/")
print(json.dumps({"pid": os.getpid(), "inode": inode}), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The child, the host directory its /dev/shm points at, and the victim file there."""
    target = tmp_path / "host-dir"
    target.mkdir()
    victim = target / "victim"
    victim.write_bytes(b"a file of the host, not of any namespace's /dev/shm\n")
    secret = tmp_path / "host-secret"
    secret.write_text("not-a-hostname-but-a-host-secret\n")
    jail = tmp_path / "jail"
    (jail / "dev").mkdir(parents=True)
    (jail / "etc").mkdir()
    (jail / "dev" / "shm").symlink_to(target)  # absolute: resolved from OUR root if followed
    (jail / "etc" / "hostname").symlink_to(secret)
    process = subprocess.Popen([sys.executable, "-c", CHILD, str(jail)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, "the jailed child died before it said who it is"
        said = json.loads(line)
        yield {**said, "victim": victim, "target": target, "secret": secret}
    finally:
        process.kill()
        process.wait(timeout=helpers.PATIENCE)


def snapshot_of(obj: PosixObject) -> PosixSnapshot:
    return PosixSnapshot(0.0, (obj,), (), {}, frozenset(), {}, native.TEXT, 0)


def namespace_of(said: dict[str, Any]) -> Namespace:
    return Namespace(said["inode"], f"ipc:[{said['inode']}]", "inode", (said["pid"],), False)


def test_the_plain_path_would_reach_the_host_directory(hostile: dict[str, Any]) -> None:
    # What the check is for: the path a naive reader uses lists the host's file.
    assert os.listdir(f"/proc/{hostile['pid']}/root/dev/shm") == ["victim"]


def test_open_in_root_keeps_links_inside_the_root(hostile: dict[str, Any]) -> None:
    pid = hostile["pid"]
    for path in ("dev/shm", "etc/hostname", "../../../../../../" + str(hostile["secret"])):
        with pytest.raises(OSError) as raised:
            os.close(native.open_in_root(pid, path))
        assert raised.value.errno == errno.ENOENT, path  # inside the jail: nothing there
    fd = native.open_in_root(pid, "dev", os.O_PATH | os.O_DIRECTORY)  # a real directory of it
    try:
        assert os.fstat(fd).st_ino == (Path(f"/proc/{pid}/root") / "dev").stat().st_ino
    finally:
        os.close(fd)
    ours = native.open_in_root(os.getpid(), "dev/shm", os.O_PATH | os.O_DIRECTORY)
    try:  # our own /dev/shm, reached the same way, is the tmpfs it is
        assert native.fs_magic(ours) == native.TMPFS_MAGIC
        assert os.fstat(ours).st_dev == os.stat("/dev/shm").st_dev
    finally:
        os.close(ours)


def test_a_dev_shm_that_links_out_is_not_read(hostile: dict[str, Any]) -> None:
    device = shm_device(namespace_of(hostile))
    assert isinstance(device, str), f"the host directory was taken for its /dev/shm: {device}"
    assert "cannot be read" in device or "link" in device


def test_the_cli_refuses_to_list_or_remove_there(hostile: dict[str, Any]) -> None:
    pid = str(hostile["pid"])
    listed = hidden.run(["list", "pshm", "--namespace", pid], nobody=False)
    assert "victim" not in listed.stdout
    # inside its root the link leads nowhere: that is what is said, in one line
    assert listed.stderr.strip().endswith("its /dev/shm cannot be read (no such file or directory)")
    assert len(listed.stderr.strip().splitlines()) == 1, listed.stderr
    removed = hidden.run(["rm", "pshm", "--namespace", pid, "--name", "/victim", "--yes"],
                         nobody=False)  # fmt: skip
    assert removed.code != 0
    assert hostile["victim"].exists(), "a host file was unlinked as a namespace's object"


def test_a_removal_opens_the_directory_inside_the_root(hostile: dict[str, Any]) -> None:
    # An object planned while /dev/shm was sound, then the link swapped in: the unlink opens
    # the directory inside the member's root, and finds no such name there.
    victim = hostile["victim"]
    info = victim.stat()
    path = f"/proc/{hostile['pid']}/root/dev/shm/victim".encode()
    obj = PosixObject(info.st_dev, info.st_ino, PosixKind.SHM, path, True, True,
                      info.st_size, info.st_blocks * 512, info.st_uid, info.st_gid,
                      info.st_mode & 0o7777, info.st_atime, info.st_mtime, info.st_ctime,
                      (), (), None)  # fmt: skip
    outcome = actions.remove(obj, snapshot_of(obj))
    assert not outcome.outcome.ok, outcome
    assert victim.exists()


def test_a_listing_keeps_only_the_checked_device(hostile: dict[str, Any]) -> None:
    victim = hostile["victim"].stat()
    path = f"/proc/{hostile['pid']}/root/dev/shm/victim".encode()
    obj = PosixObject(victim.st_dev, victim.st_ino, PosixKind.SHM, path, True, True,
                      0, 0, 0, 0, 0o600, 0.0, 0.0, 0.0, (), (), None)  # fmt: skip
    snapshot = snapshot_of(obj)
    assert confined_to(snapshot, victim.st_dev + 1).objects == ()
    assert confined_to(snapshot, victim.st_dev).objects == (obj,)


def test_a_read_opens_the_path_inside_the_root(hostile: dict[str, Any]) -> None:
    # The content view and dump read a name of another namespace by the same confined open:
    # the plain path reaches the host's file, the read does not.
    victim = hostile["victim"].stat()
    path = f"/proc/{hostile['pid']}/root/dev/shm/victim".encode()
    assert os.stat(path).st_ino == victim.st_ino  # what a plain open would read
    assert content.open_object((victim.st_dev, victim.st_ino), path, (), ()) is None
