"""`shmtop serve`, the browser view, in a real browser: Debian's headless Chromium loads the
page, the served TUI shows the test's segment, and keys typed in the browser remove it
only in a session opened with the token.

In the cli level because the server runs as users run it, `shmtop serve` in a subprocess
(in the session's private IPC namespace; each browser session's shmtop is its child).
Chromium missing, the browser tests skip, or fail with SHMTOP_REQUIRE_REALWORLD=1 (like
tests/realworld). Every server, session and browser a test starts is ended and checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import chromium_cdp
import helpers
import psutil
import pytest
from helpers import PATIENCE, MakeShm, wait_until
from paths import ROOT
from prometheus_run import shmtop_command, unavailable

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (objects, namespaces)")

URL = re.compile(r"shmtop serve: (read-only view|changes allowed) at (http://\S+)")
READY = "Ctrl-C stops it"
# The page is drawn at this many distinct colours at least (text, bars, borders): a blank
# or a one-colour error page has one or two.
MIN_COLOURS = 16
READONLY_REFUSAL = "read-only (--readonly): nothing can be removed"  # the TUI's why_not


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    urls: dict[str, str]  # "read-only view" / "changes allowed" -> its URL
    said: str  # stdout up to the ready line
    stderr: str = ""  # all it wrote there, once it has ended
    sessions: list[psutil.Process] = field(default_factory=list)

    def session_commands(self) -> list[list[str]]:
        """The command lines of the server's browser sessions (its children) now."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.sessions.extend(c for c in children if c not in self.sessions)
        commands = []
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                commands.append(child.cmdline())
        return commands


@contextlib.contextmanager
def serving(*args: str, wrapper: tuple[str, ...] = ()) -> Iterator[Served]:
    """`shmtop serve --port 0 ARGS` (inside `wrapper`) until its ready line; SIGTERM at the
    end, and then no browser session of it may outlive it."""
    process = subprocess.Popen(
        [*wrapper, *shmtop_command("serve", "--port", "0", *args)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True,
    )  # fmt: skip
    served = Served(process, {}, "")
    try:
        served.said = _until_ready(process)
        served.urls = {m[1]: m[2] for m in URL.finditer(served.said)}
        yield served
    finally:
        if process.poll() is None:
            served.session_commands()  # remember them, to check they end with it
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for session in served.sessions:  # the server ends its sessions before it exits
            with contextlib.suppress(psutil.NoSuchProcess):
                if session.is_running() and session.status() != psutil.STATUS_ZOMBIE:
                    session.kill()
                    pytest.fail(f"a browser session outlived the server: {session.pid}")
        if process.stderr is not None:
            served.stderr = process.stderr.read().decode(errors="replace")
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _until_ready(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    said, deadline = b"", time.monotonic() + PATIENCE
    while time.monotonic() < deadline and READY not in said.decode(errors="replace"):
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            said += chunk
    if READY not in said.decode(errors="replace"):
        error = process.stderr.read() if process.stderr and process.poll() is not None else b""
        raise TimeoutError(f"shmtop serve never said it was ready: {said!r} {error!r}")
    return said.decode()


def table_row(shmid: int) -> re.Pattern[str]:
    """The segment's row in the table: its id in the first column, then its key (a bare id
    could be any number on the screen; in the private namespace the first id is 0)."""
    return re.compile(rf"^\s*{shmid}\s+0x[0-9a-f]{{8}}\s", re.M)


def need_chromium() -> None:
    if chromium_cdp.chromium() is None:
        unavailable("chromium is not installed (Debian's chromium package)")


def no_browser_left(profile: Path) -> None:
    """No Chromium of this test's profile is running (pgrep -af chromium, by profile)."""
    found = subprocess.run(
        ["pgrep", "-af", "chromium"], capture_output=True, text=True, check=False
    ).stdout
    assert str(profile) not in found, found


async def removal_attempt(page: chromium_cdp.Page) -> str:
    """d: the status line says why nothing is removed (the refusal the key gets); the
    screen at that moment shows whether a removal dialog opened."""
    await page.press("d")
    return await page.wait_for_text(READONLY_REFUSAL, "d refused in the status line")


def test_the_browser_shows_the_segment_table_and_removes_nothing(
    make_shm: MakeShm, tmp_path: Path
) -> None:
    need_chromium()
    shmid = make_shm(8192)
    profile = tmp_path / "chromium"

    async def scenario(served: Served) -> None:
        async with chromium_cdp.browser(profile) as page:
            await page.open(served.urls["read-only view"])
            text = await page.wait_for_text(table_row(shmid), f"segment {shmid} in the table")
            assert "read-only" in text
            png = await page.screenshot()
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
            (tmp_path / "served.png").write_bytes(png)
            assert chromium_cdp.distinct_colours(png) > MIN_COLOURS

            sessions = served.session_commands()
            shmtops = [c for c in sessions if "shmtop" in c]
            assert shmtops and all("--readonly" in c for c in shmtops), sessions

            screen = await removal_attempt(page)
            assert "cannot be undone" not in screen  # no removal dialog was opened
            await page.press("y")
            await page.press("enter")  # opens the segment view: by then y has been handled
            await page.wait_for_text(f"shm {shmid}", "the segment view after d y Enter")
            assert shmid in helpers.live_rows("shm")  # the kernel's word: still there
        # The browser gone, its session ends with it (not only when the server stops).
        wait_until(lambda: not served.session_commands(), "the closed tab's session ended")

    with serving() as served:
        assert "changes allowed" not in served.said and "token" not in served.said
        asyncio.run(scenario(served))
    assert shmid in helpers.live_rows("shm")
    no_browser_left(profile)


def test_with_the_token_the_same_keys_remove_the_segment(make_shm: MakeShm, tmp_path: Path) -> None:
    """The control: the keys the read-only test types do remove, in a session with the
    token, so that test would see a removal the read-only mode failed to stop."""
    need_chromium()
    shmid, other = make_shm(), make_shm()
    profile = tmp_path / "chromium"

    async def scenario(served: Served) -> None:
        async with chromium_cdp.browser(profile) as page:
            await page.open(served.urls["changes allowed"])
            text = await page.wait_for_text(table_row(shmid), f"segment {shmid} in the table")
            assert "read-only" not in text
            assert any("--readonly" not in c for c in served.session_commands() if "shmtop" in c)
            # The cursor starts on the first row: the lower id (both are listed by ID).
            await page.press("d")
            await page.wait_for_text("cannot be undone", "the removal dialog")
            first = min(shmid, other)
            # y counts once the dialog is armed (ARM_DELAY): typed earlier, it is dropped.
            deadline = time.monotonic() + PATIENCE
            while first in helpers.live_rows("shm") and time.monotonic() < deadline:
                await page.press("y")
                await asyncio.sleep(0.2)
            assert first not in helpers.live_rows("shm")
            assert max(shmid, other) in helpers.live_rows("shm")

    with serving("--allow-changes") as served:
        asyncio.run(scenario(served))
    no_browser_left(profile)


def test_changes_need_the_exact_token_and_it_is_printed_once() -> None:
    async def check(served: Served) -> None:
        changes = served.urls["changes allowed"]
        base, token = changes.split("?token=")
        ws = base.replace("http://", "ws://")
        async with aiohttp.ClientSession() as session:
            for wrong in ("", "x", token[:-1], token + "x"):
                async with session.get(f"{base}?token={wrong}") as answer:
                    assert answer.status == 403, wrong
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(f"{ws}ws/{wrong or 'none'}")
                assert refused.value.status == 403
            async with session.get(changes) as answer:
                assert answer.status == 200
                assert f"/ws/{token}" in await answer.text()
            async with session.get(base) as answer:  # no token: the read-only page
                page = await answer.text()
                assert answer.status == 200 and '/ws"' in page and token not in page
            # Another site's page (Origin) or a rebinding name (Host) gets no session.
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"{ws}ws", origin="http://example.invalid")
            assert refused.value.status == 403
            async with session.get(base, headers={"Host": "example.invalid"}) as answer:
                assert answer.status == 403
            # Downloads: an unknown key is not found; a rebinding name is refused first.
            async with session.get(f"{base}download/nosuchkey") as answer:
                assert answer.status == 404
            download = f"{base}download/nosuchkey"
            async with session.get(download, headers={"Host": "example.invalid"}) as answer:
                assert answer.status == 403

    with serving("--allow-changes") as served:
        asyncio.run(check(served))
    token = served.urls["changes allowed"].split("?token=")[1]
    assert served.said.count(token) == 1 and token not in served.stderr


def test_without_allow_changes_no_token_opens_a_changing_session() -> None:
    async def check(base: str) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}?token=anything") as answer:
                assert answer.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(base.replace("http://", "ws://") + "ws/anything")
            assert refused.value.status == 403

    with serving() as served:
        asyncio.run(check(served.urls["read-only view"]))


def test_a_host_beyond_loopback_is_said() -> None:
    """--host 0.0.0.0 listens beyond this machine, and the first line says so (in a network
    namespace of its own: nothing can reach the port)."""
    with serving("--host", "0.0.0.0", wrapper=("unshare", "--net")) as served:
        assert "beyond this machine" in served.said.splitlines()[0]
        assert "http://0.0.0.0:" in served.urls["read-only view"]
    assert served.process.returncode == 0
    with serving() as served:
        assert "beyond this machine" not in served.said


def test_usage_errors_start_nothing() -> None:
    for args, said in (
        (("--port", "70000"), "--port must be between 0 and 65535"),
        (("--interval", "0"), "--interval must be between 0.1 and 60 seconds"),
    ):
        run = subprocess.run(
            shmtop_command("serve", *args), cwd=ROOT, capture_output=True, text=True,
            timeout=PATIENCE, check=False,
        )  # fmt: skip
        assert run.returncode == 2 and said in run.stderr, (run.returncode, run.stderr)
        assert run.stdout == ""


def test_without_the_extra_it_says_what_to_install() -> None:
    """textual-serve not importable (as without `shmtop[serve]`): one line, exit 1."""
    hide = (
        "import sys; sys.modules['textual_serve'] = None; from shmtop.cli import main;"
        " sys.exit(main(['serve', '--port', '0']))"
    )
    run = subprocess.run(
        [sys.executable, "-c", hide], cwd=ROOT, capture_output=True, text=True,
        timeout=PATIENCE, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "pip install 'shmtop[serve]'" in run.stderr and run.stderr.count("\n") == 1
