"""`list --filter EXPR`: the TUI's filter language on list's System V tables, on real
segments and a real attacher; a term the language does not take is a usage error (exit 2)
whose one line names the known fields."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from helpers import MakeSem, MakeShm, Spawn


def shmtop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shmtop", *args], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def listed(*args: str) -> dict[str, Any]:
    run = shmtop("list", "--json", *args)
    assert run.returncode == 0, run.stderr
    found: dict[str, Any] = json.loads(run.stdout)
    return found


def ids(document: dict[str, Any], kind: str) -> set[int]:
    return {o["id"] for o in document[kind]}


def test_filter_keeps_the_objects_every_term_matches(
    make_shm: MakeShm, make_sem: MakeSem, spawn: Spawn
) -> None:
    small, big = make_shm(4096), make_shm(2 << 20, mode=0o640)
    semid = make_sem(1)
    spawn(name="shmtop-lsfilt", attach=[(small, True)])

    attached = ids(listed("shm", "--filter", "nattch:>0"), "segments")
    assert small in attached and big not in attached
    large = ids(listed("shm", "--filter", "size:>1M"), "segments")
    assert big in large and small not in large
    both = ids(listed("shm", "--filter", "size:>1M perms:640"), "segments")
    assert big in both and small not in both
    assert big not in ids(listed("shm", "--filter", "size:>1M !perms:640"), "segments")
    # Every one of `list all`'s System V tables: only objects of that id are left.
    every = listed("--filter", f"id:{semid}")
    assert semid in ids(every, "semaphore_sets")
    for kind in ("segments", "semaphore_sets", "queues"):
        assert ids(every, kind) <= {semid}


def test_filter_on_the_table_and_all_filters_posix_too_or_says_why_not(make_shm: MakeShm) -> None:
    shmid = make_shm(2 << 20)
    run = shmtop("list", "--filter", "size:>1M")
    assert run.returncode == 0, run.stderr
    rows = [line.split()[0] for line in run.stdout.splitlines() if line[:1].isdigit()]
    assert str(shmid) in rows
    assert "POSIX shared memory" in run.stdout  # size: means something there too
    assert "--filter keeps System V objects only" not in run.stderr
    locked = shmtop("list", "--filter", f"id:{shmid}")  # id: is System V's alone
    assert locked.returncode == 0 and "POSIX" not in locked.stdout, locked.stderr
    assert "--filter keeps System V objects only: id: does not apply to pshm" in locked.stderr


def test_an_unknown_term_is_a_usage_error_naming_the_fields() -> None:
    run = shmtop("list", "shm", "--filter", "colour:red")
    assert run.returncode == 2
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert "unknown term colour:" in line and "nattch:" in line and "size:" in line


def test_a_bad_value_and_a_system_v_term_on_a_posix_kind_are_refused() -> None:
    bad = shmtop("list", "--filter", "size:big")
    assert bad.returncode == 2 and "size:big: not a number" in bad.stderr
    posix = shmtop("list", "pshm", "--filter", "key:0x1")
    assert posix.returncode == 2 and "key: does not apply to pshm" in posix.stderr
