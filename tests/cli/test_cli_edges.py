"""The command line at its edges: strict ids and keys, reads that allocate nothing, and
the mistakes and pipes a user meets (issue 8, items 5, 8 and 11).

`shmtop` runs as a real subprocess against real objects (IPC_PRIVATE through the
conftest fixtures, or a random key); what the kernel says afterwards is read
from /proc/sysvipc by the test itself.
"""

from __future__ import annotations

import errno
import json
import os
import pty
import pwd
import random
import re
import select
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helpers
import pytest
from helpers import MakeMsg, MakeSem, MakeShm, Spawn
from paths import ROOT

from shmtop.core.binding import native
from shmtop.core.segment.segment_reader import SegmentReader
from shmtop.core.snapshot.collect import Collector
from shmtop.text import errors
from shmtop.text.export import SHM_NO_LIMIT
from shmtop.text.filtering import FilterError, parse_filter

ME = pwd.getpwuid(os.geteuid()).pw_name
PAGE = os.sysconf("SC_PAGESIZE")
SPARSE = 64 << 20
ID_RANGE = "an IPC id is 0 to 2147483647"
NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")


# ---- running the CLI ----


@dataclass(frozen=True)
class Run:
    code: int
    out: bytes
    err: bytes

    @property
    def stdout(self) -> str:
        return self.out.decode()

    @property
    def stderr(self) -> str:
        return self.err.decode()


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUTF8": "1", **extra}


def shmtop(*args: str, prefix: Sequence[str] = (), environ: Mapping[str, str] | None = None,
           stdout: int = subprocess.PIPE) -> Run:  # fmt: skip
    """`python -m shmtop args...`, stdin not a terminal; bounded wait, reaped."""
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "shmtop", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=stdout, stderr=subprocess.PIPE, env=dict(environ or env()),
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=helpers.PATIENCE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return Run(process.returncode, out or b"", err)


def as_nobody(*args: str) -> Run:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv: runs shmtop as user nobody")
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
               "PYTHONUTF8": "1", "LC_ALL": "C"}  # fmt: skip
    return shmtop(*args, prefix=NOBODY, environ=environ)


def error_line(run: Run, code: int) -> str:
    """The one stderr line of a failed run; nothing on stdout, no traceback."""
    assert run.code == code, run
    assert run.out == b"", run
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("shmtop: "), lines[0]
    return lines[0].removeprefix("shmtop: ")


def usage_error(run: Run) -> str:
    """argparse's error line under its usage: exit 2, nothing on stdout, no traceback."""
    assert run.code == 2, run
    assert run.out == b"", run
    assert "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith("usage: shmtop"), run.stderr
    found = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(found) == 1, run.stderr
    return found[0]


def plan_ids(run: Run) -> set[tuple[str, int]]:
    """(kind, id) of the rows of rm's plan table."""
    return {
        (words[0], int(words[1]))
        for words in (line.split() for line in run.stdout.splitlines())
        if len(words) > 1 and words[0] in ("shm", "sem", "msg") and words[1].isdigit()
    }


def live(kind: helpers.Kind) -> dict[int, dict[str, int]]:
    return helpers.live_rows(kind)


def rss(shmid: int) -> int:
    """The segment's resident bytes, as /proc/sysvipc/shm says."""
    return live("shm")[shmid]["rss"]


def arabic(number: int) -> str:
    """The same digits in ARABIC-INDIC DIGIT ZERO..NINE (int() reads them as digits)."""
    return str(number).translate({ord(d): chr(0x660 + int(d)) for d in "0123456789"})


@pytest.fixture
def make_keyed() -> Iterator[Callable[[int | None], tuple[int, dict[helpers.Kind, int]]]]:
    """A segment, set and queue sharing one key (random unless given); removed at the end."""
    made: list[tuple[helpers.Kind, int]] = []

    def make(key: int | None = None) -> tuple[int, dict[helpers.Kind, int]]:
        chooser = random.SystemRandom()
        for _ in range(100):
            chosen = key if key is not None else chooser.randrange(1, 1 << 32)
            flags = native.IPC_CREAT | native.IPC_EXCL | 0o600
            got: dict[helpers.Kind, int] = {}
            try:
                got["shm"] = native.shmget(chosen, 4096, flags)
                got["sem"] = native.semget(native.c_key(chosen), 1, flags)
                got["msg"] = native.msgget(native.c_key(chosen), flags)
            except OSError as error:
                for kind, ident in got.items():
                    helpers.remove(kind, ident)
                if error.errno != errno.EEXIST or key is not None:
                    raise
                continue
            for kind, ident in got.items():
                made.append((kind, helpers.record(kind, ident)))
            return chosen, got
        raise AssertionError("no free random key in 100 tries")

    yield make
    for kind, ident in reversed(made):
        helpers.remove(kind, ident)


# ---- item 5: ids and keys in their kernel range, in one syntax ----


@pytest.mark.parametrize(
    "key", ["4294967296", "-4294967296", str(2**63), "0x100000000", "-2147483649", "0x1" + "0" * 8]
)
def test_a_key_outside_32_bits_is_a_usage_error_and_removes_nothing(
    key: str, make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg
) -> None:
    private: dict[helpers.Kind, int] = {"shm": make_shm(), "sem": make_sem(1), "msg": make_msg()}

    line = usage_error(shmtop("rm", "--key", key, "--yes"))

    assert "argument --key" in line
    assert f"{key} is out of range: a key is 0 to 0xffffffff" in line
    for kind, ident in private.items():
        assert ident in live(kind), kind  # every IPC_PRIVATE object is still there


def test_a_key_is_never_aliased_by_its_low_32_bits(make_keyed: Any) -> None:
    key, made = make_keyed(None)

    line = usage_error(shmtop("rm", "--key", hex(key | 1 << 32), "--yes"))

    assert "out of range" in line
    assert all(made[kind] in live(kind) for kind in made)


def high_key() -> int:
    """A key with the top bit set (/proc/sysvipc prints it negative) that no object has."""
    used = {row["key"] for kind in helpers.KINDS for row in live(kind).values()}
    for _ in range(100):
        key = random.SystemRandom().randrange(1 << 31, 1 << 32)
        if key not in used:
            return key
    raise AssertionError("no free high key in 100 tries")


def test_the_signed_form_of_a_key_names_the_same_objects(make_keyed: Any) -> None:
    key, made = make_keyed(high_key())
    signed = str(key - (1 << 32))
    shown = next(line.split() for line in Path("/proc/sysvipc/shm").read_text().splitlines()
                 if line.split()[1:2] == [str(made["shm"])])  # fmt: skip
    assert shown[0] == signed  # the kernel's own spelling

    plan = shmtop("rm", "--key", signed, "--dry-run")
    removed = shmtop("rm", "shm", "--key", signed, "--yes")

    assert plan.code == 0, plan
    assert plan_ids(plan) == {(kind, ident) for kind, ident in made.items()}
    assert f"0x{key:08x}" in plan.stdout
    assert removed.code == 0, removed
    assert made["shm"] not in live("shm")
    assert made["sem"] in live("sem")


@pytest.mark.parametrize("zero", ["0", "-0", "0x0", "0o0", "0X00000000"])
def test_key_0_is_refused_in_every_spelling(zero: str, make_shm: MakeShm) -> None:
    private = make_shm()

    line = error_line(shmtop("rm", "--key", zero, "--yes"), 2)

    assert "key 0 is IPC_PRIVATE" in line
    assert private in live("shm")


@pytest.mark.parametrize(
    "spell",
    [arabic, lambda n: f"{n:_}" if n > 999 else f"{n // 10}_{n % 10}", lambda n: f"0b{n:b}",
     lambda n: f" {n}", lambda n: f"{n} ", lambda n: f"{n}\n", lambda n: f"+{n}",
     lambda n: f"0{n}", lambda n: f"{n}.0", lambda n: f"0x{n:x}".upper().replace("0X", "0x ")],
    ids=["arabic-indic", "underscore", "0b", "space-before", "space-after", "newline", "plus",
         "leading-zero", "decimal-point", "space-in-hex"],
)  # fmt: skip
def test_an_id_spelled_any_other_way_is_a_usage_error_and_removes_nothing(
    spell: Callable[[int], str], make_shm: MakeShm
) -> None:
    make_shm()
    shmid = make_shm()  # id > 0 in a fresh namespace too: two digits at least after a few
    text = spell(shmid)

    line = usage_error(shmtop("rm", "shm", text, "--yes"))

    assert "argument ID" in line
    assert shmid in live("shm")


def test_decimal_hex_and_octal_name_the_same_segment(make_shm: MakeShm) -> None:
    shmid = make_shm(4096 * 3)

    for text in (str(shmid), hex(shmid), hex(shmid).upper().replace("0X", "0X"), oct(shmid)):
        run = shmtop("show", "shm", text, "--json")
        assert run.code == 0, (text, run)
        assert json.loads(run.out)["id"] == shmid


COMMANDS_WITH_AN_ID = [["show", "shm"], ["show", "sem"], ["show", "msg"], ["dump"], ["view"],
                       ["rm", "shm"], ["rm", "sem"], ["show", "msg", "--messages"]]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS_WITH_AN_ID, ids=" ".join)
@pytest.mark.parametrize("ident", ["2147483648", "99999999999", "-1", str(2**64)])
def test_an_id_outside_int32_is_a_usage_error_in_every_command(
    command: list[str], ident: str
) -> None:
    extra = ["--yes"] if command[0] == "rm" else []
    where = -1 if "--messages" in command else len(command)
    args = [*command[:where], ident, *command[where:], *extra]

    line = usage_error(shmtop(*args))

    assert f"{ident} is out of range: {ID_RANGE}" in line
    assert "argument" in line


def test_one_bad_id_among_good_ones_removes_none_of_them(make_shm: MakeShm) -> None:
    first, last = make_shm(), make_shm()

    line = usage_error(shmtop("rm", "shm", str(first), "2147483648", str(last), "--yes"))

    assert "2147483648 is out of range" in line
    assert first in live("shm")
    assert last in live("shm")


@pytest.mark.parametrize(
    ("option", "value", "what"),
    [("--offset", "-1", "an offset"), ("--offset", str(2**63), "an offset"),
     ("--length", "-16", "a length"), ("--length", str(2**64), "a length"),
     ("--offset", "١٦", None)],
)  # fmt: skip
def test_dump_offsets_and_lengths_are_checked_before_anything_is_read(
    option: str, value: str, what: str | None, make_shm: MakeShm
) -> None:
    shmid = make_shm()
    before = live("shm")[shmid]

    line = usage_error(shmtop("dump", str(shmid), option, value))

    assert f"argument {option}" in line
    assert (f"{value} is out of range: {what} is 0 to" in line) if what else "not a number" in line
    assert live("shm")[shmid]["lpid"] == before["lpid"]  # never attached


@pytest.mark.parametrize("option", ["--max-messages", "--bytes"])
@pytest.mark.parametrize("value", ["-1", "2147483648", "1e3"])
def test_show_messages_counts_are_bounded(option: str, value: str, make_msg: MakeMsg) -> None:
    queue = make_msg()

    line = usage_error(shmtop("show", "msg", str(queue), "--messages", option, value))

    assert f"argument {option}" in line


# ---- item 8: reading allocates nothing ----


def fill_pages(shmid: int, pages: Mapping[int, bytes]) -> None:
    """Write each piece at its offset, attached read-write for the call (the test's own)."""
    with native.attached(shmid, readonly=False) as address:
        buffer = native.memory(address, native.shm_stat(shmid).size)
        for offset, data in pages.items():
            buffer[offset : offset + len(data)] = data


def expected_bytes(size: int, pages: Mapping[int, bytes]) -> bytes:
    content = bytearray(size)
    for offset, data in pages.items():
        content[offset : offset + len(data)] = data
    return bytes(content)


def hexdump_c(data: bytes, tmp_path: Path) -> str:
    """util-linux `hexdump -C` of the same bytes: the oracle of the text dump."""
    source = tmp_path / "bytes"
    source.write_bytes(data)
    done = subprocess.run(["hexdump", "-C", str(source)], env={**os.environ, "LC_ALL": "C"},
                          capture_output=True, check=True, timeout=helpers.PATIENCE)  # fmt: skip
    return done.stdout.decode("ascii")


def through_head(*args: str, head: Sequence[str]) -> tuple[int, bytes, bytes]:
    """`shmtop args | head ...`: shmtop's exit code and stderr, and what head printed."""
    shm = subprocess.Popen([sys.executable, "-m", "shmtop", *args], cwd=ROOT, env=env(),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)  # fmt: skip
    assert shm.stdout is not None and shm.stderr is not None
    head_run = subprocess.run(["head", *head], stdin=shm.stdout, capture_output=True,
                              check=True, timeout=helpers.PATIENCE)  # fmt: skip
    shm.stdout.close()
    err = shm.stderr.read()
    shm.stderr.close()
    return shm.wait(timeout=helpers.PATIENCE), err, head_run.stdout


SPARSE_CASES = {
    "never-written": {},
    "a-few-pages": {0: b"first page", 5 * (1 << 20) + 17: b"middle\x1b[41m", SPARSE - 6: b"LAST!!"},
}


@pytest.mark.root
@pytest.mark.parametrize("pages", SPARSE_CASES.values(), ids=SPARSE_CASES.keys())
def test_dump_of_a_sparse_segment_leaves_its_rss_unchanged(
    pages: dict[int, bytes], make_shm: MakeShm, tmp_path: Path
) -> None:
    shmid = make_shm(SPARSE)
    fill_pages(shmid, pages)
    before = rss(shmid)
    assert before == PAGE * len({offset // PAGE for offset in pages})
    content = expected_bytes(SPARSE, pages)

    to_null = shmtop("dump", str(shmid), stdout=subprocess.DEVNULL)
    assert to_null.code == 0, to_null
    assert rss(shmid) == before
    raw_null = shmtop("dump", str(shmid), "--raw", stdout=subprocess.DEVNULL)
    assert raw_null.code == 0, raw_null
    assert rss(shmid) == before
    code, err, first = through_head("dump", str(shmid), head=["-n", "2"])
    assert (code, err) == (0, b"")
    assert rss(shmid) == before
    raw = shmtop("dump", str(shmid), "--raw")
    text = shmtop("dump", str(shmid))

    assert rss(shmid) == before
    assert raw.code == text.code == 0
    assert raw.out == content  # holes read as zeros, written pages as written
    assert text.stdout == hexdump_c(content, tmp_path)
    assert first.decode().splitlines() == text.stdout.splitlines()[:2]


@pytest.mark.root
def test_the_viewers_reader_leaves_a_sparse_segments_rss_unchanged(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    pages = SPARSE_CASES["a-few-pages"]
    shmid = make_shm(SPARSE)
    fill_pages(shmid, pages)
    before = rss(shmid)
    content = expected_bytes(SPARSE, pages)
    spawn(attach=[(shmid, False)])

    with SegmentReader.attach(shmid) as attached:
        assert not attached.touches_pages
        assert b"".join(attached.chunks(0, SPARSE)) == content
        assert attached.read(SPARSE - 4096, 8192) == content[-4096:]
        assert attached.first_nonzero(PAGE) == 5 * (1 << 20) + 17
        assert attached.next_region(0) == 5 * (1 << 20) + 17
        assert attached.find(b"LAST", 0) == SPARSE - 6
    with SegmentReader.through_process(shmid) as through:
        assert b"".join(through.chunks(0, SPARSE, 1 << 16)) == content
        assert through.previous_region(SPARSE - 6) == 5 * (1 << 20) + 17

    assert rss(shmid) == before


@pytest.mark.root
def test_without_root_dump_says_it_allocates_what_it_reads(make_shm: MakeShm) -> None:
    shmid = make_shm(4 * PAGE, 0o644)
    fill_pages(shmid, {0: b"x"})

    run = as_nobody("dump", str(shmid), "--length", "16")

    assert run.code == 0, run
    assert run.stdout.startswith("00000000  78 00")
    (note,) = run.stderr.splitlines()
    assert note.startswith(f"note: shm {shmid} is read through an attachment")
    assert "each page nobody wrote that is read gets allocated" in note
    assert note.endswith("(it has 12.0K of them)")


# ---- item 11: the mistakes a user meets ----


def test_rm_of_a_missing_id_says_so_in_one_line_and_prints_no_plan() -> None:
    missing = vanished("shm")

    for extra in ("--yes", "--dry-run"):
        line = error_line(shmtop("rm", "shm", str(missing), extra), 1)
        assert line == errors.no_such_object("shm", missing)
        assert f"shm {missing}: no such object" in line


def test_rm_dry_run_with_a_missing_id_plans_the_rest_and_fails(make_shm: MakeShm) -> None:
    shmid = make_shm()
    missing = vanished("shm")

    run = shmtop("rm", "shm", str(shmid), str(missing), "--dry-run")

    assert run.code == 1, run
    assert plan_ids(run) == {("shm", shmid)}
    assert run.stderr.splitlines() == [f"shmtop: {errors.no_such_object('shm', missing)}"]
    assert shmid in live("shm")


def vanished(kind: helpers.Kind) -> int:
    """An id that named an object a moment ago and names none now."""
    flags = native.IPC_CREAT | 0o600
    makers = {"shm": lambda: native.shmget(native.IPC_PRIVATE, 4096, flags),
              "sem": lambda: native.semget(native.IPC_PRIVATE, 1, flags),
              "msg": lambda: native.msgget(native.IPC_PRIVATE, flags)}  # fmt: skip
    ident = helpers.record(kind, makers[kind]())
    assert helpers.remove(kind, ident)
    return ident


@pytest.mark.parametrize("kind", ["shm", "sem", "msg"])
def test_an_unknown_id_gets_one_message_from_every_command(kind: helpers.Kind) -> None:
    missing = vanished(kind)
    commands = [["show", kind, str(missing)], ["rm", kind, str(missing), "--yes"]]
    if kind == "shm":
        commands += [["dump", str(missing)], ["view", str(missing)]]
    if kind == "msg":
        commands.append(["show", "msg", str(missing), "--messages"])

    said = {error_line(shmtop(*command), 1) for command in commands}

    assert said == {errors.no_such_object(kind, missing)}
    assert said == {
        f"{kind} {missing}: no such object (removed, or never existed); "
        f"'shmtop list {kind}' shows the ids"
    }


@pytest.mark.root
def test_a_denied_read_gets_one_message_from_every_command(
    make_shm: MakeShm, make_msg: MakeMsg
) -> None:
    shmid, queue = make_shm(4096, 0o600), make_msg(0o600)
    native.msgsnd(queue, 1, b"secret")

    said = {error_line(as_nobody(*command), 1) for command in (["dump", str(shmid)],
                                                               ["view", str(shmid)])}  # fmt: skip
    peek = as_nobody("show", "msg", str(queue), "--messages")

    assert said == {errors.permission_denied("shm", shmid)}
    assert "permission denied: reading it needs read permission" in said.pop()
    assert peek.code == 0, peek
    assert f"Messages: not read ({errors.permission_denied('msg', queue)})" in peek.stdout
    assert "secret" not in peek.stdout


def test_list_user_must_name_a_user_or_a_uid(make_shm: MakeShm) -> None:
    make_shm()

    for name in ("nosuchuser", arabic(0), "root\x1b[41m"):
        line = error_line(shmtop("list", "--user", name), 2)
        assert "no such user" in line
        assert "\x1b" not in line


def test_list_user_matches_as_the_views_user_filter_does(make_shm: MakeShm) -> None:
    shmid = make_shm()
    uid = str(os.geteuid())
    collector = Collector()
    try:
        snapshot = collector.snapshot()
    finally:
        collector.close()

    for spelling in (ME, ME.upper(), ME.capitalize(), uid):
        listed = shmtop("list", "shm", "--json", "--user", spelling)
        assert listed.code == 0, listed
        ids = {s["id"] for s in json.loads(listed.out)["segments"]}
        filtered = parse_filter(f"user:{spelling}")
        assert ids == {s.id for s in snapshot.segments if filtered(s, snapshot)}, spelling
        assert shmid in ids


@pytest.fixture
def shmall() -> Iterator[Callable[[int], None]]:
    """Set kernel.shmall in the session's private IPC namespace; restored at the end."""
    if os.geteuid() != 0:
        pytest.skip("needs root to set kernel.shmall")
    path = Path("/proc/sys/kernel/shmall")
    saved = path.read_text()

    def set_pages(pages: int) -> None:
        path.write_text(f"{pages}\n")

    yield set_pages
    path.write_text(saved)


@pytest.mark.root
def test_limits_show_no_shm_page_limit_as_null_and_unlimited(
    shmall: Callable[[int], None], make_shm: MakeShm
) -> None:
    make_shm()
    for pages, expected in ((2**64 - 1 - 2**24, None), (2**64 - 1, None), (2**20, 2**20)):
        shmall(pages)

        entry = json.loads(shmtop("limits", "--json").out)["shm_pages"]
        text = shmtop("limits").stdout.splitlines()
        (row,) = [line.split() for line in text if line.startswith("shm_pages")]

        assert entry["limit"] == expected
        assert pages >= SHM_NO_LIMIT or entry["limit"] == pages
        if expected is None:
            assert entry["percent"] is None
            assert row[2] == "unlimited"
        else:
            assert entry["percent"] == round(100 * entry["used"] / pages, 2)
            assert row[2] == str(pages)


LEAVER = textwrap.dedent(
    """
    import ctypes, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
    assert libc.shmat(int(sys.argv[1]), None, 0o10000) not in (None, ctypes.c_void_p(-1).value)
    assert libc.unshare(0x08000000) == 0, os.strerror(ctypes.get_errno())
    print("ready", flush=True)
    sys.stdin.read()
    """
)


@pytest.mark.root
def test_root_is_told_what_happened_to_an_attachment_it_cannot_join(make_shm: MakeShm) -> None:
    shmid = make_shm()
    leaver = subprocess.Popen([sys.executable, "-c", LEAVER, str(shmid)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert leaver.stdout is not None
        assert leaver.stdout.readline() == b"ready\n", leaver.stderr
        assert live("shm")[shmid]["nattch"] == 1

        run = shmtop("list", "shm")
    finally:
        leaver.kill()
        leaver.communicate()

    assert run.code == 0, run
    (note,) = run.stderr.splitlines()
    assert "run as root" not in note
    assert "1 attachment counted by nattch not found" in note
    there = re.search(r"moved to another IPC namespace after attaching \((\d+) mappings? ", note)
    assert there is not None, note
    assert int(there[1]) >= 1  # the leaver's, and any of other namespaces on this machine


def test_attachments_are_listed_by_pid_then_address(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm()
    children = [spawn(attach=[(shmid, True), (shmid, False)]) for _ in range(6)]

    run = shmtop("show", "shm", str(shmid), "--json")

    assert run.code == 0, run
    shown = [(a["pid"], int(a["start"], 16)) for a in json.loads(run.out)["attachments"]]
    assert {pid for pid, _ in shown} == {child.pid for child in children}
    assert len(shown) == 12
    assert shown == sorted(shown)


def prompt_and_answer(args: Sequence[str], answer: bytes) -> tuple[int, str]:
    """Run shmtop on a pseudo-terminal, wait for its [y/N] prompt, type answer."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "shmtop", *args], cwd=ROOT, env=env(),
                               stdin=slave, stdout=slave, stderr=slave)  # fmt: skip
    os.close(slave)
    seen = b""
    try:
        while b"[y/N]" not in seen:
            ready, _, _ = select.select([master], [], [], helpers.PATIENCE)
            assert ready, seen
            seen += os.read(master, 4096)
        os.write(master, answer)
        code = process.wait(timeout=helpers.PATIENCE)
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    return code, seen.decode()


def test_ctrl_d_at_the_rm_prompt_is_a_no(make_shm: MakeShm) -> None:
    shmid = make_shm()

    code, screen = prompt_and_answer(["rm", "shm", str(shmid)], b"\x04")

    assert code == 1, screen
    assert "nothing removed" in screen
    assert "Traceback" not in screen
    assert shmid in live("shm")


@pytest.mark.parametrize(
    "args",
    [["list"], ["list", "--json"], ["show", "shm", "{shm}"], ["show", "shm", "{shm}", "--json"],
     ["dump", "{shm}"], ["dump", "{shm}", "--raw"], ["limits"], ["limits", "--json"],
     ["rm", "shm", "{shm}", "--dry-run"], ["waiters"]],
    ids=" ".join,
)  # fmt: skip
def test_a_closed_pipe_ends_every_command_quietly(args: list[str], make_shm: MakeShm) -> None:
    shmid = make_shm(1 << 20)
    fill_pages(shmid, {0: bytes(range(256)) * 16})
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: EPIPE, every time
    try:
        run = shmtop(*(a.format(shm=shmid) for a in args), stdout=write_end)
    finally:
        os.close(write_end)

    assert (run.code, run.stderr) == (0, "")
    assert shmid in live("shm")


def test_dump_raw_through_head_is_not_an_error(make_shm: MakeShm) -> None:
    shmid = make_shm(4 << 20)
    fill_pages(shmid, {0: b"head", (4 << 20) - 4: b"tail"})

    code, err, got = through_head("dump", str(shmid), "--raw", head=["-c", "10"])

    assert (code, err) == (0, b"")
    assert got == b"head" + bytes(6)


def test_the_views_key_filter_reads_keys_as_the_command_line_does(make_keyed: Any) -> None:
    key, made = make_keyed(high_key())
    collector = Collector(attachments=False)
    try:
        snapshot = collector.snapshot()
    finally:
        collector.close()

    def matched(term: str) -> set[int]:
        test = parse_filter(term)
        return {s.id for s in snapshot.segments if test(s, snapshot)}

    assert made["shm"] in matched(f"key:{key:#x}")
    assert made["shm"] in matched(f"key:{key - (1 << 32)}")  # the signed form
    # Refused, as the command line refuses them: never aliased by their low 32 bits (nor
    # 4294967296 as 0, the key of every private segment), no non-ASCII digits.
    for term in (f"key:{key | 1 << 32:#x}", "key:4294967296", f"key:{arabic(key)}"):
        with pytest.raises(FilterError, match="key:"):
            parse_filter(term)
