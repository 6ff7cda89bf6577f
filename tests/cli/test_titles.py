"""Process titles (what a process wrote over its argv, as PostgreSQL does) in every view.

The child is a small C program compiled here, named `fakepg`: it writes a title
over its own argv in place (NUL-padded, as PostgreSQL's ps_status.c does on
Linux), then attaches a segment or blocks in semop. The tests compare what
shmtop shows with /proc/PID/cmdline read by the test itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helpers
import pytest
from helpers import MakeSem, MakeShm
from paths import ROOT
from textual.pilot import Pilot
from textual.widgets import Input
from tui_pilot import is_control, run_app, untrusted_text_shown, wait_for

from shmtop.core.model import Kind
from shmtop.core.snapshot import procs
from shmtop.core.snapshot.collect import Collector
from shmtop.core.snapshot.procs import ProcessDirectory
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.text.process_names import SUMMARY_WIDTH
from shmtop.tui.app import ShmtopApp
from shmtop.tui.widgets.detail import DetailPane
from shmtop.tui.widgets.ipc_table import IpcTable

PADDING = "x" * 400  # an argv area long enough for any title the tests write
HOSTILE = b"fakepg: [red]x[/red] \x1b[2J\x1b]0;pwned\x07 \xc2\x9b31m \xe2\x80\xae tail"
# What reaches the screen: ESC and BEL as Control Pictures, the C1 CSI and the
# right-to-left override as U+FFFD, the markup as the text it is.
HOSTILE_SHOWN = "fakepg: [red]x[/red] ␛[2J␛]0;pwned␇ \ufffd31m \ufffd tail"
HOSTILE_CUT = HOSTILE_SHOWN[:24]  # what fits in the narrow places: `fakepg: [red]x[/red] ␛[2J`

FAKEPG = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

static char *area;
static size_t area_size;

/* Over the argv area in place, the rest NUL: what PostgreSQL's set_ps_display does. */
static void set_title(const char *title)
{
    memset(area, 0, area_size);
    strncpy(area, title, area_size - 1);
}

/* fakepg MODE ID TITLE PADDING: MODE shm attaches segment ID and then obeys
 * "title TEXT" lines on stdin until EOF; MODE sem blocks in semop(ID, 0 -1). */
int main(int argc, char **argv)
{
    char line[2048];
    char *mode, *title;
    int id;

    if (argc < 5)
        return 2;
    mode = strdup(argv[1]);
    id = atoi(argv[2]);
    title = strdup(argv[3]);
    area = argv[0];
    area_size = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
    set_title(title);
    if (strcmp(mode, "shm") == 0 && shmat(id, NULL, 0) == (void *)-1) {
        perror("shmat");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    if (strcmp(mode, "sem") == 0) {
        struct sembuf op = {0, -1, 0};
        return semop(id, &op, 1) == 0 ? 0 : 1;
    }
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "title ", 6) == 0) {
            set_title(line + 6);
            printf("ok\n");
            fflush(stdout);
        }
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def fakepg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled child (named fakepg, so its comm is `fakepg`)."""
    folder = tmp_path_factory.mktemp("fakepg")
    source = folder / "fakepg.c"
    source.write_text(FAKEPG)
    binary = folder / "fakepg"
    subprocess.run(["cc", "-O1", "-Wall", "-o", str(binary), str(source)], check=True)
    return binary


@dataclass
class Titled:
    """A running fakepg child."""

    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def expect(self, word: bytes) -> None:
        """Wait (bounded) for the child's next line, which must be word."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], helpers.PATIENCE)
        assert ready, f"fakepg {self.pid} did not answer"
        assert self.process.stdout.readline().strip() == word

    def retitle(self, title: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"title {title}\n".encode())
        self.process.stdin.flush()
        self.expect(b"ok")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=helpers.PATIENCE)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


Start = Callable[[str, int, bytes], Titled]


@pytest.fixture
def start_titled(fakepg: Path) -> Iterator[Start]:
    """Start fakepg children (mode, id, title); each is killed and reaped by PID afterwards."""
    children: list[Titled] = []

    def start(mode: str, ident: int, title: bytes) -> Titled:
        args = [bytes(fakepg), mode.encode(), str(ident).encode(), title, PADDING.encode()]
        process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        child = Titled(process)
        children.append(child)
        child.expect(b"ready")
        return child

    yield start
    for child in children:
        child.stop()


def cmdline_title(pid: int) -> str:
    """The ground truth, read by the test: /proc/PID/cmdline, NULs as spaces, trimmed."""
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()[:256]
    return raw.replace(b"\0", b" ").rstrip().decode("utf-8", "replace")


def shmtop(*args: str) -> subprocess.CompletedProcess[bytes]:
    run = subprocess.run(
        [sys.executable, "-m", "shmtop", *args], cwd=ROOT, capture_output=True, check=False,
        timeout=helpers.PATIENCE, env={**os.environ, "PYTHONUTF8": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run


def shmtop_json(*args: str) -> Any:
    return json.loads(shmtop(*args, "--json").stdout)


# ---- the core: read, cached, kernel threads ----


def test_the_collector_reads_the_title_the_process_wrote(
    make_shm: MakeShm, start_titled: Start
) -> None:
    shmid = make_shm()
    child = start_titled("shm", shmid, b"fakepg: checkpointer ")
    assert cmdline_title(child.pid) == "fakepg: checkpointer"
    collector = Collector()
    try:
        snapshot = collector.snapshot()
    finally:
        collector.close()
    segment = snapshot.segment(shmid)
    assert segment is not None
    (attachment,) = segment.attachments
    assert (attachment.pid, attachment.command) == (child.pid, "fakepg")
    assert attachment.title == "fakepg: checkpointer"
    assert snapshot.title_of(segment.lpid) == "fakepg: checkpointer"


def test_a_later_scan_does_not_read_a_known_title_again(
    make_shm: MakeShm, start_titled: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(procs, "SETTLE_SECONDS", 0.0)  # the first read counts as settled
    shmid, other = make_shm(), make_shm()
    child = start_titled("shm", shmid, b"fakepg: alpha")
    collector = Collector()
    try:
        first = collector.snapshot().segment(shmid)
        assert first is not None and first.attachments[0].title == "fakepg: alpha"
        child.retitle("fakepg: beta")
        newcomer = start_titled("shm", other, b"fakepg: newcomer")  # moves nattch: a new scan
        later = collector.snapshot()
    finally:
        collector.close()
    segment, joined = later.segment(shmid), later.segment(other)
    assert segment is not None and joined is not None
    assert [a.pid for a in joined.attachments] == [newcomer.pid], "a new scan ran"
    assert joined.attachments[0].title == "fakepg: newcomer", "a new process: read"
    assert segment.attachments[0].title == "fakepg: alpha", "known (pid, start): not read again"
    assert cmdline_title(child.pid) == "fakepg: beta"


def test_a_kernel_thread_has_no_title() -> None:
    found = ProcessDirectory().lookup([2])  # kthreadd, in every PID namespace we run in
    if 2 in found and found[2].command == "kthreadd":
        assert found[2].title is None
    else:
        pytest.skip("no kthreadd visible as PID 2 here")


def test_a_cached_title_is_not_read_again_until_the_pid_names_another_process(
    make_shm: MakeShm, start_titled: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    shmid = make_shm()
    child = start_titled("shm", shmid, b"fakepg: alpha")
    directory = ProcessDirectory()
    monkeypatch.setattr(procs, "SETTLE_SECONDS", 0.0)  # every read counts as settled
    assert directory.lookup([child.pid])[child.pid].title == "fakepg: alpha"
    child.retitle("fakepg: beta")
    assert cmdline_title(child.pid) == "fakepg: beta"
    assert directory.lookup([child.pid])[child.pid].title == "fakepg: alpha", "cached"
    # Read too early (the process may not have set its title yet): read again.
    monkeypatch.setattr(procs, "SETTLE_SECONDS", 1e9)
    fresh = ProcessDirectory()
    assert fresh.lookup([child.pid])[child.pid].title == "fakepg: beta"
    child.retitle("fakepg: gamma")
    assert fresh.lookup([child.pid])[child.pid].title == "fakepg: gamma"


def _reuse_pid(pid: int, start: Callable[[], Titled]) -> Titled | None:
    """Start a child under pid (ns_last_pid), retrying when another process took it first."""
    for _ in range(20):
        Path("/proc/sys/kernel/ns_last_pid").write_text(f"{pid - 1}\n")
        child = start()
        if child.pid == pid:
            return child
        child.stop()
    return None


def test_a_reused_pid_gets_its_own_title(
    make_shm: MakeShm, start_titled: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    shmid = make_shm()
    monkeypatch.setattr(procs, "SETTLE_SECONDS", 0.0)  # the first title would never be re-read
    first = start_titled("shm", shmid, b"fakepg: first")
    directory = ProcessDirectory()
    assert directory.lookup([first.pid])[first.pid].title == "fakepg: first"
    pid = first.pid
    first.stop()
    time.sleep(0.05)  # start times count in clock ticks: the next one starts in another tick
    second = _reuse_pid(pid, lambda: start_titled("shm", shmid, b"fakepg: second"))
    if second is None:
        pytest.skip(f"could not get PID {pid} again (ns_last_pid)")
    found = directory.lookup([pid])[pid]
    assert found.title == "fakepg: second" == cmdline_title(pid)


# ---- the commands ----


def test_list_and_show_json_carry_titles(make_shm: MakeShm, start_titled: Start) -> None:
    shmid = make_shm()
    child = start_titled("shm", shmid, b"fakepg: walwriter  ")
    listed = shmtop_json("list", "shm")
    (segment,) = [s for s in listed["segments"] if s["id"] == shmid]
    (attachment,) = segment["attachments"]
    assert attachment["pid"] == child.pid
    assert attachment["command"] == "fakepg"
    assert attachment["title"] == "fakepg: walwriter" == cmdline_title(child.pid)
    assert segment["lpid"] == child.pid and segment["lpid_title"] == "fakepg: walwriter"
    assert segment["cpid"] == os.getpid()
    assert segment["cpid_title"] == cmdline_title(os.getpid())
    shown = shmtop_json("show", "shm", str(shmid))
    assert [a["title"] for a in shown["attachments"]] == ["fakepg: walwriter"]
    assert shown["lpid_title"] == "fakepg: walwriter"


def test_list_and_show_text_name_the_role(make_shm: MakeShm, start_titled: Start) -> None:
    shmid = make_shm()
    child = start_titled("shm", shmid, b"fakepg: checkpointer ")
    listed = shmtop("list", "shm").stdout.decode()
    (row,) = [line for line in listed.splitlines() if line.split()[:1] == [str(shmid)]]
    assert f"{child.pid} (fakepg: checkpointer)" in row
    shown = shmtop("show", "shm", str(shmid)).stdout.decode().splitlines()
    assert f"  last     {child.pid} (fakepg: checkpointer)" in shown
    (table_row,) = [line for line in shown if line.startswith(f"{child.pid} ")]
    assert table_row.split("  ")[1].strip() == "fakepg: checkpointer"


def test_a_long_title_is_cut_to_fit(make_shm: MakeShm, start_titled: Start) -> None:
    shmid = make_shm()
    long_title = "fakepg: parallel worker for PID 4123 " + "y" * 300
    child = start_titled("shm", shmid, long_title.encode())
    (segment,) = [s for s in shmtop_json("list", "shm")["segments"] if s["id"] == shmid]
    title = segment["attachments"][0]["title"]
    assert long_title.startswith(title) and len(title.encode()) <= 256
    listed = shmtop("list", "shm").stdout.decode()
    (row,) = [line for line in listed.splitlines() if line.split()[:1] == [str(shmid)]]
    cut = long_title[: SUMMARY_WIDTH - 1]
    assert f"{child.pid} ({cut}…)" in row and cut.endswith("worker for")


def test_a_hostile_title_reaches_the_terminal_sanitised(
    make_shm: MakeShm, start_titled: Start
) -> None:
    shmid = make_shm()
    child = start_titled("shm", shmid, HOSTILE)
    for args in (("list", "shm"), ("show", "shm", str(shmid))):
        text = shmtop(*args).stdout.decode()
        assert "\x1b" not in text and "\x07" not in text
        assert not any(is_control(char) for char in text), args  # C1 (0x80-0x9f) is Cc
        # Markup stays text, ESC is visible; list cuts the title to its column.
        assert f"{child.pid} ({HOSTILE_CUT}" in text if args[0] == "list" else HOSTILE_SHOWN in text
    # JSON keeps the text itself (escaped by JSON), for programs to judge.
    (segment,) = [s for s in shmtop_json("list", "shm")["segments"] if s["id"] == shmid]
    assert segment["attachments"][0]["title"] == HOSTILE.decode("utf-8")


def _blocked(scanner: WaiterScanner, pid: int) -> bool:
    return any(w.pid == pid for w in scanner.scan().waiters)


def test_waiters_show_the_title_of_a_blocked_process(
    make_sem: MakeSem, start_titled: Start
) -> None:
    semid = make_sem(1)
    child = start_titled("sem", semid, b"fakepg: autovacuum launcher")
    scanner = WaiterScanner()
    deadline = time.monotonic() + helpers.PATIENCE
    while not _blocked(scanner, child.pid):
        assert time.monotonic() < deadline, "the child never blocked in semop"
        time.sleep(0.05)
    report = shmtop_json("waiters")
    (waiter,) = [w for w in report["waiters"] if w["pid"] == child.pid]
    assert (waiter["command"], waiter["title"]) == ("fakepg", "fakepg: autovacuum launcher")
    assert waiter["kind"] == "sem" and waiter["id"] == semid
    text = shmtop("waiters").stdout.decode().splitlines()
    (row,) = [line for line in text if line.startswith(f"{child.pid} ")]
    assert "fakepg: autovacuum launcher" in row
    found = scanner.scan()
    assert [w.title for w in found.on(Kind.SEM, semid)] == ["fakepg: autovacuum launcher"]


# ---- the interactive view, on a real collector ----


def segment_table(app: ShmtopApp) -> IpcTable:
    return app.main_screen.query_one("#table-shm", IpcTable)


def test_the_tui_shows_and_finds_a_title(
    tmp_path: Path, make_shm: MakeShm, start_titled: Start
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        other, shmid = make_shm(), make_shm()
        child = start_titled("shm", shmid, b"fakepg: checkpointer ")
        table = segment_table(app)
        await wait_for(
            pilot,
            lambda: child.pid in getattr(table.objects.get(shmid), "attached_pids", ()),
            "the child is listed",
        )
        assert f"{child.pid} (fakepg: checkpointer)" in table.row_text(shmid)
        table.move_to(other)
        await pilot.press("slash")
        query = app.main_screen.query_one("#query", Input)
        query.value = "checkpointer"
        await pilot.pause()
        await pilot.press("enter")
        assert table.selected_id == shmid, "search finds a word of the title"
        detail = str(app.main_screen.query_one(DetailPane).render())
        assert f"last     {child.pid} (fakepg: checkpointer)" in detail
        await pilot.press("backslash")
        query.value = "cmd:checkpointer"
        await pilot.pause()
        await pilot.press("enter")
        assert set(table.objects) == {shmid}, "the filter language matches titles"

    run_app(tmp_path, scenario)


def test_the_tui_shows_a_hostile_title_as_text(
    tmp_path: Path, make_shm: MakeShm, start_titled: Start
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        child = start_titled("shm", shmid, HOSTILE)
        shown, detail = await untrusted_text_shown(app, pilot, shmid, child.pid)
        assert f"{child.pid} ({HOSTILE_CUT}" in shown, "markup stays text"
        assert HOSTILE_SHOWN in detail

    run_app(tmp_path, scenario)
