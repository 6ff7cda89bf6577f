"""`shmtop list pshm|psem` in a subprocess, on real objects and a real mapper."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")

TESTS = Path(__file__).resolve().parent.parent
PREFIX = f"shmtop-cli-{os.getpid()}-"
HOSTILE = PREFIX + "\x1b]2;pwned\x07\x1b[41m"


def shmtop(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "shmtop", *args], capture_output=True,
                          timeout=60, check=False)  # fmt: skip


@pytest.fixture
def objects() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for path in made:
        if os.path.exists(path):
            os.unlink(path)


def make(made: list[str], name: str, size: int = 8192) -> str:
    path = f"/dev/shm/{name}"
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o640)
    made.append(path)
    os.ftruncate(fd, size)
    os.close(fd)
    return path


def test_list_pshm_shows_mappers_and_unlinked_objects_and_renders_hostile_names_safely(
    objects: list[str],
) -> None:
    hostile = make(objects, HOSTILE)
    gone = make(objects, PREFIX + "unlinked", size=3 * 4096)
    kid = subprocess.Popen(
        [sys.executable, str(TESTS / "pshm_child.py"), hostile, "map-rw"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    gone_kid = subprocess.Popen(
        [sys.executable, str(TESTS / "pshm_child.py"), gone, "map-ro"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert kid.stdout is not None and gone_kid.stdout is not None
        pid = json.loads(kid.stdout.readline())["pid"]
        gone_pid = json.loads(gone_kid.stdout.readline())["pid"]
        os.unlink(gone)
        run = shmtop("list", "pshm")
    finally:
        for child in (kid, gone_kid):
            child.kill()
            child.wait()
    assert run.returncode == 0, run.stderr
    out = run.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out
    lines = out.splitlines()
    # Counts, not equalities: processes of the machine outside this session's private /dev/shm
    # map objects of their own mount namespace, and the scan lists those too.
    assert re.fullmatch(r"POSIX shared memory \(\d+, [1-9]\d* unlinked holding .*\)", lines[0])
    assert lines[1].split()[:2] == ["NAME", "OWNER"]
    row = next(line for line in lines if "pwned" in line)
    assert f"/{PREFIX}\u241b]2;pwned\u2407\u241b[41m" in row
    assert f"{pid} python rw" in row and "640" in row
    unlinked = next(line for line in lines if PREFIX + "unlinked" in line)
    assert "unlinked" in unlinked.split() and f"{gone_pid} python ro" in unlinked
    assert lines.index(unlinked) > lines.index(row)  # unlinked ones after the named


def test_list_psem_is_its_own_table_and_takes_only_its_sort_columns(objects: list[str]) -> None:
    make(objects, f"sem.{PREFIX}s", size=32)
    run = shmtop("list", "psem")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.decode().splitlines()
    assert re.fullmatch(r"POSIX named semaphores \([1-9]\d*\)", lines[0]), "others may be mapped"
    mine = [line.split() for line in lines[2:] if line.startswith(f"/{PREFIX}s")]
    assert len(mine) == 1 and mine[0][3:5] == ["0", "0"]
    assert PREFIX not in shmtop("list", "pshm").stdout.decode()
    refused = shmtop("list", "psem", "--sort", "size")  # pshm's column, not a semaphore's
    assert refused.returncode == 2 and refused.stderr.decode().splitlines() == [
        "shmtop: cannot sort by 'size'; columns: changed, maps, name, nwaiters, owner, perms,"
        " status, users, value"
    ]


def test_rm_pshm_by_name_plans_asks_and_says_who_still_maps_it(objects: list[str]) -> None:
    mapped = make(objects, PREFIX + "mapped")
    kid = subprocess.Popen(
        [sys.executable, str(TESTS / "pshm_child.py"), mapped, "map-rw"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert kid.stdout is not None
        pid = json.loads(kid.stdout.readline())["pid"]
        name = "/" + PREFIX + "mapped"
        dry = shmtop("rm", "pshm", "--name", name, "--dry-run")
        assert dry.returncode == 0 and os.path.exists(mapped)
        plan = dry.stdout.decode().splitlines()
        assert plan[0].split() == ["NAME", "OWNER", "SIZE", "STATUS", "EVIDENCE"]
        assert plan[1].split()[:5] == [name, "root", "8.0K", "in", "use"]
        assert f"pid {pid} (python" in plan[1]
        unasked = shmtop("rm", "pshm", "--name", name)  # no terminal, no --yes
        assert unasked.returncode == 2 and os.path.exists(mapped)
        done = shmtop("rm", "pshm", "--name", name, "--yes")
        assert done.returncode == 0, done.stderr
        assert not os.path.exists(mapped)
        assert f"pshm {name}: unlinked (still mapped" in done.stdout.decode()
        # now unlinked but mapped: refused, saying what would free it
        again = shmtop("rm", "pshm", "--name", name, "--yes")
        assert again.returncode == 1
        assert "already unlinked" in again.stderr.decode() and f"pid {pid}" in again.stderr.decode()
    finally:
        kid.kill()
        kid.wait()


def test_rm_pshm_takes_names_not_ids_and_reports_missing_names(objects: list[str]) -> None:
    bad = shmtop("rm", "pshm", "12")
    assert bad.returncode == 2 and b"--name NAME or --orphans" in bad.stderr
    missing = shmtop("rm", "pshm", "--name", "/" + PREFIX + "none", "--yes")
    assert missing.returncode == 1 and b"no such object" in missing.stderr


def test_dump_by_name_reads_a_named_and_an_unlinked_object(objects: list[str]) -> None:
    path = make(objects, PREFIX + "dump", size=4096)
    with open(path, "r+b") as file:
        file.write(b"\x1b[31mred" + bytes(8) + b"tail")
    kid = subprocess.Popen(
        [sys.executable, str(TESTS / "pshm_child.py"), path, "map-ro"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert kid.stdout is not None
        kid.stdout.readline()
        name = "/" + PREFIX + "dump"
        run = shmtop("dump", "--name", name, "--length", "32")
        assert run.returncode == 0, run.stderr
        lines = run.stdout.decode().splitlines()
        assert lines[0].startswith("00000000  1b 5b 33 31 6d 72 65 64") and "|.[31mred" in lines[0]
        assert b"\x1b" not in run.stdout
        raw = shmtop("dump", "--name", name, "--raw", "--offset", "16", "--length", "4")
        assert (raw.returncode, raw.stdout) == (0, b"tail")
        os.unlink(path)  # unlinked: read through the mapper's /proc/PID/map_files
        gone = shmtop("dump", "--name", name, "--raw", "--length", "8")
        assert (gone.returncode, gone.stdout) == (0, b"\x1b[31mred")
    finally:
        kid.kill()
        kid.wait()
    assert shmtop("dump").returncode == 2
    assert shmtop("dump", "--name", name).returncode == 1  # no mapper left: gone


def test_list_pshm_under_a_hidepid_proc_says_processes_are_hidden(objects: list[str]) -> None:
    import hidden

    if hidden.missing_tools() or not hidden.proc_is_hidden_there():
        pytest.skip(hidden.missing_tools() or "hidepid does not hide processes here")
    make(objects, PREFIX + "seen")
    run = hidden.run(["list", "pshm"], nobody=True, hidepid=True)
    assert run.code == 0, run
    assert any(f"/{PREFIX}seen" in line for line in run.lines())
    assert "processes are hidden" in run.stderr and "nothing is called an orphan" in run.stderr


def test_show_pshm_by_name_gives_every_mapping_with_its_address_range(
    objects: list[str],
) -> None:
    path = make(objects, PREFIX + "show")
    kid = subprocess.Popen(
        [sys.executable, str(TESTS / "pshm_child.py"), path, "map-rw", "map-ro", "hold"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert kid.stdout is not None
        said = json.loads(kid.stdout.readline())
        run = shmtop("show", "pshm", "--name", "/" + PREFIX + "show")
    finally:
        kid.kill()
        kid.wait()
    assert run.returncode == 0, run.stderr
    out = run.stdout.decode()
    pid = said["pid"]
    for (start, end), mode in zip(said["maps"], ("rw", "ro"), strict=True):
        assert f"{pid} python" in out and f"{mode}  {start:x}-{end:x} (8.0K) at offset 0" in out
    assert "held by    1 fd" in out
    assert re.search(rf"\n    {pid} python +fd \d+ \(r\)\n", out), out
    assert "verdict    in use: " in out and "mode 640" in out
    assert shmtop("show", "pshm", "--name", "/" + PREFIX + "none").returncode == 1
    assert shmtop("show", "pshm", "7").returncode == 2
