"""`shmtop exporter` as a command, against a real Prometheus and promtool.

In the cli level because each test runs the exporter as users do, as `shmtop exporter` in a
subprocess (in the session's private IPC namespace); Prometheus and promtool are Debian's
(`.ci/run` installs them): missing, they skip, or fail with SHMTOP_REQUIRE_REALWORLD=1,
like tests/realworld. The in-process checks (lock, sharing, families) are in
tests/native/test_exporter_source.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import helpers
import pytest
from helpers import MakeShm, Spawn, wait_until
from paths import ROOT
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_run import (
    Exporter,
    running_exporter,
    running_prometheus,
    shmtop_command,
    tool,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (objects, mounts)")

ALERTS = ROOT / "contrib" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "contrib" / "grafana" / "shmtop.json"
# What a PromQL expression names besides metrics: functions (followed by "("), keywords.
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}


def samples(body: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name -> (labels, value) of a Prometheus text scrape."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(body: str, name: str, **labels: str) -> float | None:
    for found, number in samples(body).get(name, []):
        if all(found.get(k) == v for k, v in labels.items()):
            return number
    return None


def served_names(exporter: Exporter) -> set[str]:
    """The metric names a real scrape declares (# TYPE lines: families with no sample too)."""
    _, _, body = exporter.scrape()
    return set(re.findall(r"^# TYPE (\S+) ", body, re.M))


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    bare = re.sub(r"\{[^}]*\}", "", bare)  # label matchers
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # ranges
    bare = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", bare)
    words = re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\()\b(?!\s*\()", bare)
    return {w for w in words if w not in PROMQL_WORDS}


def test_prometheus_scrapes_a_segment_with_its_attachments_and_sees_it_go(
    make_shm: MakeShm, spawn: Spawn, tmp_path: Path
) -> None:
    shmid = make_shm(8192)
    child = spawn(name="shmtop-prom", attach=[(shmid, True), (shmid, False)])
    with (
        running_exporter("--interval", "1") as exporter,
        running_prometheus(exporter.address, tmp_path) as prometheus,
    ):
        series = f'shmtop_segment_attachments{{id="{shmid}"}}'

        def attachments() -> list[str]:
            return [r["value"][1] for r in prometheus.query(series)]

        wait_until(lambda: attachments() != [], "Prometheus has the segment")
        assert attachments() == ["2"]  # the child's two attachments, the kernel's nattch
        [up] = prometheus.query("shmtop_up")
        assert up["value"][1] == "1"
        [size] = prometheus.query(f'shmtop_segment_size_bytes{{id="{shmid}"}}')
        assert size["value"][1] == "8192"
        assert size["metric"]["key"] == "0x00000000" and size["metric"]["owner"] == "root"
        assert size["metric"]["namespace"] == str(os.stat("/proc/self/ns/ipc").st_ino)
        child.stop()
        assert helpers.remove("shm", shmid)
        wait_until(lambda: attachments() == [], "the segment's series goes from Prometheus")
        assert prometheus.query(f'shmtop_segment_size_bytes{{id="{shmid}"}}') == []
    assert exporter.process.returncode == 0  # SIGTERM: a clean exit


def test_up_is_0_while_snapshots_fail_and_1_once_they_work_again() -> None:
    """The exporter runs in a mount namespace where /proc/sysvipc is hidden under a tmpfs:
    every snapshot fails for real; unmounting it there makes them work again."""
    hide = 'mount -t tmpfs shmtop-hidden /proc/sysvipc && exec "$@"'
    wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", hide, "sh"]
    with running_exporter("--interval", "0.1", wrapper=wrapper) as exporter:
        status, _, body = exporter.scrape()
        assert status == 200
        assert value(body, "shmtop_up") == 0
        errors = value(body, "shmtop_snapshot_errors_total")
        assert errors is not None and errors >= 1
        assert "shmtop_segment_size_bytes{" not in body and "shmtop_objects{" not in body
        wait_until(
            lambda: (value(exporter.scrape()[2], "shmtop_snapshot_errors_total") or 0) > errors,
            "a later snapshot fails too (an attempt an interval, counted)",
        )
        pid = str(exporter.process.pid)
        subprocess.run(["nsenter", "--mount", "--target", pid, "umount", "/proc/sysvipc"],
                       check=True)  # fmt: skip
        wait_until(lambda: value(exporter.scrape()[2], "shmtop_up") == 1, "shmtop_up is 1")
        body = exporter.scrape()[2]
        assert value(body, "shmtop_objects", kind="shm") is not None
    assert exporter.process.returncode == 0
    said = exporter.stderr
    assert said.count("snapshot failed (shmtop_up 0)") == 1, said  # once a cause
    assert "/proc/sysvipc/shm" in said


def test_metrics_by_content_negotiation_and_no_endpoint_changes_anything(
    make_shm: MakeShm,
) -> None:
    shmid = make_shm()
    with running_exporter() as exporter:
        _, headers, text = exporter.scrape()
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert value(text, "shmtop_segment_size_bytes", id=str(shmid)) == 4096
        accept = "application/openmetrics-text; version=1.0.0"
        _, headers, openmetrics = exporter.scrape(accept)
        assert headers["Content-Type"].startswith("application/openmetrics-text")
        assert openmetrics.endswith("# EOF\n") and openmetrics.count("# EOF") == 1
        assert "# UNIT shmtop_segment_size_bytes bytes" in openmetrics
        strict = openmetrics_families(openmetrics)  # type: ignore[no-untyped-call]
        parsed = {f.name for f in strict}  # the strict parser read it all
        assert {
            "shmtop_up",
            "shmtop_segment_size_bytes",
            "shmtop_scrape_duration_seconds",
        } <= parsed
        for method in ("POST", "PUT", "DELETE"):
            run = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
                 exporter.url], capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert run.stdout == "405"
        assert helpers.live_rows("shm").keys() >= {shmid}


def test_the_textfile_is_never_seen_half_written(make_shm: MakeShm, tmp_path: Path) -> None:
    for _ in range(200):  # a file of some size: a torn write would show
        make_shm()
    path = tmp_path / "shmtop.prom"
    process = subprocess.Popen(
        shmtop_command("exporter", "--textfile", str(path), "--interval", "0.1"), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    versions: set[str] = set()
    try:
        wait_until(path.exists, "the exporter writes the textfile")
        deadline = time.monotonic() + helpers.PATIENCE
        while len(versions) < 20:  # twenty different writes, each read whole
            assert time.monotonic() < deadline, f"{len(versions)} writes in {helpers.PATIENCE} s"
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            text = path.read_text(encoding="utf-8")
            if text in versions:
                continue
            versions.add(text)
            assert text.startswith("# HELP shmtop_up ") and text.endswith("\n"), text[-200:]
            found = samples(text)
            assert found["shmtop_up"] == [({}, 1.0)]
            assert len(found["shmtop_segment_size_bytes"]) == 200
            assert "shmtop_snapshot_age_seconds" in found  # the last family is there
    finally:
        process.terminate()
        assert process.wait(timeout=helpers.PATIENCE) == 0  # SIGTERM: a clean exit
    assert [p.name for p in tmp_path.iterdir()] == ["shmtop.prom"]  # no temporary file left


def test_promtool_checks_the_alerting_rules_and_the_metrics() -> None:
    promtool = tool("promtool")
    run = subprocess.run([promtool, "check", "rules", str(ALERTS)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS: 6 rules found" in run.stdout
    with running_exporter() as exporter:
        _, _, body = exporter.scrape()
    lint = subprocess.run([promtool, "check", "metrics"], input=body,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_dashboard_and_the_alerts_use_only_metrics_the_exporter_serves() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    exprs += re.findall(r"^\s*expr: (.+)$", ALERTS.read_text(encoding="utf-8"), re.M)
    exprs += [  # the variables' queries: label_values(METRIC, label)
        re.sub(r"^label_values\((\w+),.*$", r"\1", variable["definition"])
        for variable in dashboard["templating"]["list"]
        if "definition" in variable
    ]
    assert len(exprs) >= 15
    with running_exporter() as exporter:
        served = served_names(exporter)
    used = set().union(*(metric_names(e) for e in exprs))
    assert used, exprs
    assert used <= served, f"not served: {sorted(used - served)}"
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("limits", "top segments by size", "waiters", "leak"):
        assert topic in titles


def test_a_listen_address_beyond_localhost_is_said() -> None:
    with running_exporter() as local:
        pass
    assert local.stderr == ""
    process = subprocess.Popen(
        shmtop_command("exporter", "--listen", "0.0.0.0:0"), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline().decode()
    process.terminate()
    assert process.wait(timeout=helpers.PATIENCE) == 0
    assert "listening beyond localhost on 0.0.0.0:" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--listen", "9464"], "use ADDR:PORT"),
        (["--listen", "127.0.0.1:70000"], "0 to 65535"),
        (["--interval", "0"], "--interval must be"),
        (["--max-objects", "-1"], "--max-objects must be"),
        (["--posix-interval", "-1"], "--posix-interval must be"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], words: str) -> None:
    run = subprocess.run(shmtop_command("exporter", *args), cwd=ROOT, capture_output=True,
                         text=True, check=False, timeout=helpers.PATIENCE)  # fmt: skip
    assert run.returncode == 2
    assert words in run.stderr


def test_a_textfile_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "shmtop.prom"
    run = subprocess.run(shmtop_command("exporter", "--textfile", str(path)), cwd=ROOT,
                         capture_output=True, text=True, check=False,
                         timeout=helpers.PATIENCE)  # fmt: skip
    assert run.returncode == 1
    assert run.stderr == f"shmtop: cannot write {path}: No such file or directory\n"


def test_the_exporter_serves_while_a_scrape_is_slow_to_read() -> None:
    """A client that connects and sends nothing does not stop another's scrape."""
    import socket

    with running_exporter() as exporter:
        host, port = exporter.address.rsplit(":", 1)
        with socket.create_connection((host, int(port))):
            done = threading.Event()

            def scrape() -> None:
                exporter.scrape()
                done.set()

            threading.Thread(target=scrape, daemon=True).start()
            assert done.wait(helpers.PATIENCE)
