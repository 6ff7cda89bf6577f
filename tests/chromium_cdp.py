"""Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools protocol, for the
browser view's tests: load a page, read the text its terminal shows, type keys, take a
screenshot.

The terminal textual-serve's page draws is xterm.js on a canvas: its text is in no DOM
node. A script run before the page's own (Page.addScriptToEvaluateOnNewDocument) keeps
the xterm Terminal the page makes (`this.terminal = new Terminal(...)`), so the test reads
the screen's lines from the terminal's own buffer. Chromium is started in a process group
of its own and ended by that group's id, with every helper process it started.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from helpers import PATIENCE

# Keeps every object the page assigns as `.terminal` that looks like an xterm Terminal.
KEEP_TERMINAL = """
(() => {
  window.__terminals = [];
  Object.defineProperty(Object.prototype, "terminal", {
    configurable: true,
    set(value) {
      if (value && value.buffer && typeof value.write === "function") {
        window.__terminals.push(value);
      }
      Object.defineProperty(this, "terminal", {
        value, writable: true, configurable: true, enumerable: true,
      });
    },
  });
})();
"""

SCREEN_TEXT = """
(() => {
  const t = window.__terminals && window.__terminals[0];
  if (!t) return "";
  const buffer = t.buffer.active, lines = [];
  for (let y = 0; y < t.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()
"""

# Key events as Chromium's Input.dispatchKeyEvent takes them (key, code, key code, text).
KEYS: dict[str, tuple[str, str, int, str]] = {
    "enter": ("Enter", "Enter", 13, "\r"),
    "escape": ("Escape", "Escape", 27, ""),
}


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One tab, over its DevTools websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.socket.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self.socket.receive_json(), PATIENCE)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        answer = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer.get("result", {}).get("value")

    async def open(self, url: str) -> None:
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=KEEP_TERMINAL)
        await self.call("Page.navigate", url=url)

    async def screen_text(self) -> str:
        return str(await self.evaluate(SCREEN_TEXT) or "")

    async def wait_for_text(self, wanted: str | re.Pattern[str], what: str) -> str:
        """The terminal's screen once it contains `wanted`, a string or a pattern searched
        for (bounded: TimeoutError)."""
        deadline = asyncio.get_running_loop().time() + PATIENCE
        text = ""
        while asyncio.get_running_loop().time() < deadline:
            text = await self.screen_text()
            found = wanted in text if isinstance(wanted, str) else wanted.search(text)
            if found:
                return text
            await asyncio.sleep(0.1)
        raise TimeoutError(f"gave up waiting for {what}; the screen:\n{text}")

    async def press(self, key: str) -> None:
        """A key typed into the terminal (focused first), down then up."""
        await self.evaluate("window.__terminals[0].focus()")
        if key in KEYS:
            name, code, number, text = KEYS[key]
        else:  # one printable character
            name, code, number, text = key, f"Key{key.upper()}", ord(key.upper()), key
        common = {"key": name, "code": code, "windowsVirtualKeyCode": number}
        await self.call("Input.dispatchKeyEvent", type="keyDown", text=text, **common)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **common)

    async def screenshot(self) -> bytes:
        answer = await self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(answer["data"])


@contextlib.asynccontextmanager
async def browser(profile: Path) -> AsyncIterator[Page]:
    """Headless Chromium with a fresh profile; yields its first tab. Ends its whole process
    group (browser, renderers, GPU and zygote helpers) when done."""
    path = chromium()
    assert path is not None
    process = subprocess.Popen(
        [path, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--mute-audio",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--window-size=1280,800", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        port = await _devtools_port(profile, process)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as answer:
                targets = await answer.json(content_type=None)
            tab = next(t for t in targets if t.get("type") == "page")
            async with session.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield Page(ws)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group we made: Chromium's alone
        process.wait()


async def _devtools_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    """The port Chromium chose, from the file it writes in its profile."""
    marker = profile / "DevToolsActivePort"
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while asyncio.get_running_loop().time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            return int(marker.read_text().split()[0])
        await asyncio.sleep(0.05)
    raise TimeoutError("chromium never opened its DevTools port")


def distinct_colours(png: bytes) -> int:
    """How many different pixel colours a PNG has (Pillow decodes it)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(colours or [])
