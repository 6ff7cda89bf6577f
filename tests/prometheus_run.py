"""A running `shmtop exporter` and a real Prometheus scraping it, for the exporter's tests.

Both are started on 127.0.0.1 (the exporter on a free port it announces, Prometheus on a
free port with storage in a temporary directory) and always stopped by PID and reaped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import PATIENCE, wait_until
from paths import ROOT

REQUIRE_ENV = "SHMTOP_REQUIRE_REALWORLD"
ANNOUNCE = re.compile(rb"serving (http://\S+/metrics)")


def unavailable(reason: str) -> None:
    """Skip, or fail where CI requires the real software (SHMTOP_REQUIRE_REALWORLD=1)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: the Prometheus tests must run here)")
    pytest.skip(reason)


def tool(name: str) -> str:
    """The path of Debian's prometheus or promtool (or skip/fail: see unavailable)."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed (Debian's prometheus package)")
    assert found is not None
    return found


@dataclass
class Exporter:
    process: subprocess.Popen[bytes]
    url: str  # http://127.0.0.1:PORT/metrics
    stderr: str = ""  # what it said, once it has ended

    @property
    def address(self) -> str:
        return urllib.parse.urlsplit(self.url).netloc

    def scrape(self, accept: str = "") -> tuple[int, dict[str, str], str]:
        """One GET of /metrics: status, headers, body."""
        request = urllib.request.Request(self.url, headers={"Accept": accept} if accept else {})
        with urllib.request.urlopen(request, timeout=PATIENCE) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()

    def stop(self) -> int:
        """SIGTERM, then the exit status (SIGKILL if it does not end within the bound)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def shmtop_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "shmtop", *args]


@contextlib.contextmanager
def running_exporter(*args: str, wrapper: Sequence[str] = ()) -> Iterator[Exporter]:
    """`shmtop exporter --listen 127.0.0.1:0 ARGS` (inside `wrapper`, e.g. unshare), until
    its announce line; stopped with SIGTERM at the end."""
    command = [*wrapper, *shmtop_command("exporter", "--listen", "127.0.0.1:0", *args)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True
    )
    exporter = Exporter(process, "")
    try:
        exporter.url = _announced(process)
        yield exporter
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            exporter.stderr = process.stderr.read().decode(errors="replace")
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _announced(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    deadline, line = time.monotonic() + PATIENCE, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
            if (match := ANNOUNCE.search(line)) is not None:
                return match[1].decode()
    error = process.stderr.read().decode() if process.stderr and process.poll() is not None else ""
    raise TimeoutError(f"the exporter never said where it serves: {line!r} {error}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Prometheus:
    process: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:PORT

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector (/api/v1/query)."""
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=PATIENCE) as answer:
            found = json.load(answer)
        assert found["status"] == "success", found
        result: list[dict[str, Any]] = found["data"]["result"]
        return result

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/-/ready", timeout=PATIENCE) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False


@contextlib.contextmanager
def running_prometheus(target: str, directory: Path) -> Iterator[Prometheus]:
    """Prometheus on 127.0.0.1 scraping target every second, its storage in directory."""
    config = directory / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: shmtop\n    static_configs:\n"
        f"      - targets: ['{target}']\n",
        encoding="utf-8",
    )
    port = free_port()
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [tool("prometheus"), f"--config.file={config}",
         f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, close_fds=True,
    )  # fmt: skip
    server = Prometheus(process, f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: process.poll() is not None or server.ready(), "Prometheus is ready")
        assert process.poll() is None, (directory / "prometheus.log").read_text()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
