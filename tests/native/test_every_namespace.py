"""exporter -A's reader (exporter/namespace_source.py) over time, on real namespaces: one
that starts is read from the next reading on, one that ends is dropped, and a process
that joins a namespace is among its members in the next reading."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from helpers import wait_until
from ns_helpers import foreign_namespace

from shmtop.exporter.namespace_source import EveryNamespace, EveryReading

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("nsenter") is None,
    reason="needs root, unshare(1) and nsenter(1)",
)

# Runs in the namespace (nsenter): attaches its segment, says so, holds it until stdin closes.
_ATTACH = (
    "import sys; from shmtop.core.binding import native;"
    " native.shmat(int(sys.argv[1]), 0); print('attached', flush=True); sys.stdin.read()"
)


def inodes(reading: EveryReading) -> set[int]:
    return {part.namespace.inode for part in reading.others}


def test_namespaces_come_and_go_and_their_members_are_followed() -> None:
    made: set[int] = set()
    every = EveryNamespace(0.0, lambda ns: ns.current or ns.inode in made)
    try:
        assert inodes(every.read()) == set()
        with foreign_namespace("shmtop-every-ns") as box:
            made.add(box["inode"])
            first = every.read()
            (part,) = first.others
            assert part.namespace.name == "shmtop-every-ns"
            assert part.posix is not None and part.waits is not None
            attached = {s.id: s.attached_pids for s in part.snapshot.segments}
            assert attached[box["shm"][0]] == (box["pid"],)
            joiner = subprocess.Popen(
                ["nsenter", f"--ipc=/proc/{box['pid']}/ns/ipc", sys.executable, "-c", _ATTACH,
                 str(box["shm"][0])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                assert joiner.stdout is not None and joiner.stdout.readline() == "attached\n"
                (later,) = every.read().others  # the same collectors, members followed
                segment = later.snapshot.segment(box["shm"][0])
                assert segment is not None
                assert sorted(segment.attached_pids) == sorted([box["pid"], joiner.pid])
            finally:
                assert joiner.stdin is not None
                joiner.stdin.close()
                joiner.wait()
        wait_until(lambda: not os.path.exists(f"/proc/{box['pid']}"), "the namespace ends")
        assert inodes(every.read()) == set()
    finally:
        every.close()
