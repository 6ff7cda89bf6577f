"""Both maps readers against 240 real attachers: scans in two threads at once equal one-thread
scans (no state is shared between concurrent scans), and SHMTOP_PROCMAP_QUERY=0 picks text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import helpers
import pytest
from helpers import MakeShm
from maps_reader import MapsReader
from paths import TESTS

from shmtop.core.binding import native
from shmtop.core.snapshot.collect import Collector

ATTACHER = TESTS / "attacher.c"
CHILDREN = 240
SEGMENTS = 16
ROUNDS = 10
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Crowd:
    """The attacher's children and what they mapped: rows as scan_maps gives them."""

    pids: list[int]
    truth: list[tuple[int, ...]]  # sorted (pid, start, end, writable, shmid)
    segments: set[int]


@pytest.fixture(scope="module")
def attacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/attacher.c compiled (the install needs a C compiler anyway)."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.fail("cc not found: these tests compile a small C attacher")
    binary = tmp_path_factory.mktemp("attacher") / "attacher"
    subprocess.run([cc, "-O1", "-o", str(binary), str(ATTACHER)], check=True,
                   capture_output=True, timeout=helpers.PATIENCE)  # fmt: skip
    return binary


@pytest.fixture
def crowd(make_shm: MakeShm, attacher: Path) -> Iterator[Crowd]:
    """CHILDREN processes, each attaching two of SEGMENTS segments (one rw, one ro)."""
    sizes = {make_shm(size=PAGE * (1 + n % 3)): PAGE * (1 + n % 3) for n in range(SEGMENTS)}
    ids = list(sizes)
    process = subprocess.Popen(
        [str(attacher), str(CHILDREN), *map(str, ids)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    pids: list[int] = []
    truth: list[tuple[int, ...]] = []
    try:
        # The attacher always ends with "ready" or "failed" (its children's pipe closes).
        while (line := process.stdout.readline().split()) not in (["ready"], ["failed"], []):
            pid, rw_id, rw, ro_id, ro = map(int, line)
            pids.append(pid)
            truth += [
                (pid, rw, rw + sizes[rw_id], 1, rw_id),
                (pid, ro, ro + sizes[ro_id], 0, ro_id),
            ]
        assert line == ["ready"], f"the attacher's children did not all attach ({len(pids)})"
        assert sum(native.shm_stat(shmid).nattch for shmid in ids) == 2 * CHILDREN
        yield Crowd(pids, sorted(truth), set(ids))
    finally:
        process.stdin.close()  # the attacher kills and reaps its children, then exits
        try:
            process.wait(timeout=helpers.PATIENCE)
        except subprocess.TimeoutExpired:
            for pid in [*pids, process.pid]:
                helpers._kill_quietly(pid)
            process.wait()
        process.stdout.close()


def scan_in_two_threads(pids: Sequence[int]) -> list[native.MapsScan]:
    """The halves of pids scanned at the same moment by two threads (the GIL is released)."""
    start = threading.Barrier(2)
    scans: list[native.MapsScan | None] = [None, None]

    def scan(half: int) -> None:
        start.wait()
        scans[half] = native.scan_maps(pids[half::2])

    threads = [threading.Thread(target=scan, args=(half,)) for half in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert scans[0] is not None and scans[1] is not None, "a scan thread raised"
    return [scans[0], scans[1]]


def test_two_threads_scanning_at_once_find_what_one_finds(
    crowd: Crowd, maps_reader: MapsReader
) -> None:
    for round_ in range(ROUNDS):
        one = native.scan_maps(crowd.pids)
        two = scan_in_two_threads(crowd.pids)

        assert sorted(one.rows) == crowd.truth, f"one thread, round {round_}"
        together = sorted(two[0].rows + two[1].rows)
        invented, lost = set(together) - set(crowd.truth), set(crowd.truth) - set(together)
        assert together == crowd.truth, (
            f"two threads, round {round_}: {len(invented)} invented, {len(lost)} lost"
        )
        assert one.failures == two[0].failures == two[1].failures == {}
    assert maps_reader.used.count(maps_reader.name) == 3 * ROUNDS


def test_first_snapshots_find_every_attachment(crowd: Crowd, maps_reader: MapsReader) -> None:
    for round_ in range(ROUNDS // 2):
        collector = Collector()  # a new one each time: its first scan runs in two threads
        try:
            snapshot = collector.snapshot()
        finally:
            collector.close()
        found = sorted(
            (a.pid, a.start, a.end, int(a.writable), segment.id)
            for segment in snapshot.segments if segment.id in crowd.segments
            for a in segment.attachments
        )  # fmt: skip
        assert found == crowd.truth, f"round {round_}"
    assert len(maps_reader.used) >= 2 * (ROUNDS // 2)  # two halves a snapshot


ENV_PROBE = """
import json, os, sys
from shmtop.core.binding import native
with native.attached(int(sys.argv[1])):
    scan = native.scan_maps([os.getpid()])
print(json.dumps({"enabled": native.procmap_query_enabled(), "reader": scan.reader,
                  "shmids": [row.shmid for row in scan.rows]}))
"""


@pytest.mark.parametrize("value", ["0", "1", None])
def test_the_environment_picks_the_reader_of_a_process(
    make_shm: MakeShm, value: str | None
) -> None:
    shmid = make_shm()
    env = {k: v for k, v in os.environ.items() if k != native.PROCMAP_QUERY_ENV}
    if value is not None:
        env[native.PROCMAP_QUERY_ENV] = value
    kernel_has_it = native.scan_maps([os.getpid()], reader=native.PROCMAP_QUERY).reader
    expected = native.TEXT if value == "0" else kernel_has_it

    done = subprocess.run([sys.executable, "-c", ENV_PROBE, str(shmid)], env=env,
                          capture_output=True, text=True, timeout=helpers.PATIENCE,
                          check=False)  # fmt: skip

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["reader"] == expected
    assert seen["enabled"] is (expected == native.PROCMAP_QUERY)
    assert seen["shmids"] == [shmid]  # the text reader really read the mapping
