"""A namespace named after its container, from a real cgroup: a child of an IPC namespace of
its own moved into a cgroup whose path is Docker's (system.slice/docker-<64 hex>.scope on
cgroup v2), seen by `list -A --json` as docker:<12 hex>.

The cgroups made are removed after the child ends, also when the test fails.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import helpers
import hidden
import pytest
from json_schemas import validate
from ns_helpers import foreign_namespace

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root (a cgroup of its own, a namespace joined) and unshare(1)",
)


def cgroup2_root() -> Path | None:
    """Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid
    host), or None."""
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as file:
        for line in file:
            fields = line.split()
            dash = fields.index("-")
            if fields[dash + 1] == "cgroup2" and fields[3] == "/":
                return Path(fields[4])
    return None


def _remove(path: Path) -> bool:
    """rmdir path if it is there; False while it still has processes (EBUSY)."""
    try:
        path.rmdir()
    except FileNotFoundError:
        return True
    except OSError as error:
        if error.errno == errno.EBUSY:
            return False
        raise
    return True


@contextlib.contextmanager
def docker_like_cgroup() -> Iterator[tuple[Path, str]]:
    """A cgroup at system.slice/docker-<id>.scope of cgroup v2 (system.slice made too if
    absent), and its id; both removed after (once empty: the processes moved in must have
    ended by then), also on failure. Skips if cgroup v2 is absent or not writable."""
    root = cgroup2_root()
    if root is None:
        pytest.skip("no cgroup v2 mounted (a Docker-like cgroup path needs one)")
    container = secrets.token_hex(32)  # 64 hex digits, as Docker's ids
    slice_dir = root / "system.slice"
    scope = slice_dir / f"docker-{container}.scope"
    made: list[Path] = []
    try:
        for path in (slice_dir, scope):
            try:
                path.mkdir()
                made.append(path)
            except FileExistsError:
                if path == scope:
                    raise
            except OSError as error:
                pytest.skip(f"cgroup v2 at {root} is not writable: mkdir {path}: {error}")
        yield scope, container
    finally:
        for path in reversed(made):  # the scope, then system.slice if it was ours
            helpers.wait_until(functools.partial(_remove, path), f"{path} emptied and removed")


def move_into(scope: Path, pid: int) -> None:
    try:
        (scope / "cgroup.procs").write_text(f"{pid}\n", encoding="ascii")
    except OSError as error:
        pytest.skip(f"cgroup v2 is not writable: cannot move pid {pid} into {scope}: {error}")


def test_a_namespace_in_a_docker_cgroup_is_named_after_its_container() -> None:
    with docker_like_cgroup() as (scope, container):
        with foreign_namespace("shmtop-ns-docker") as made:
            move_into(scope, made["pid"])
            with open(f"/proc/{made['pid']}/cgroup", encoding="ascii") as file:
                assert f"/system.slice/docker-{container}.scope" in file.read()
            listed = hidden.run(("list", "-A", "--json"), nobody=False).json()
            by_prefix = hidden.run(
                ("list", "shm", "--namespace", container[:8], "--json"), nobody=False
            ).json()
        assert not (scope / "cgroup.procs").read_text().split()  # the child ended: empty
    validate("list", listed)
    (space,) = [ns for ns in listed["namespaces"] if ns["inode"] == made["inode"]]
    # The container wins over the hostname of its UTS namespace.
    assert (space["name"], space["source"]) == (f"docker:{container[:12]}", "docker")
    assert space["refused"] is None and space["processes"] == 1
    theirs = [s for s in listed["segments"] if s["namespace"]["inode"] == made["inode"]]
    assert [s["id"] for s in theirs] == made["shm"]
    assert {s["namespace"]["name"] for s in theirs} == {f"docker:{container[:12]}"}
    # A container id prefix names it for --namespace.
    validate("list", by_prefix)
    assert [ns["inode"] for ns in by_prefix["namespaces"]] == [made["inode"]]
    assert [s["id"] for s in by_prefix["segments"]] == made["shm"]
    assert not scope.exists()
