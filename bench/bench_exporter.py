"""Times `shmtop exporter` on the large workload: scrapes warm and fresh, CPU and RSS.

In an IPC namespace of its own (so other objects on the machine do not count). Measured:

- a *fresh* scrape: every scrape takes its own reading (a steady snapshot, the waiter
  scan), builds the families and encodes them: what a scrape would cost without reuse;
- its parts, in the same run: the steady snapshot alone, the families and the encoding,
  and the POSIX scan alone (in every fresh scrape here; `shmtop exporter` reuses it for
  --posix-interval, 30 s by default);
- a *warm* scrape: the snapshot is younger than --interval, so the scrape reuses it and its
  encoding (the per-scrape families only are encoded);
- the real `shmtop exporter` (a subprocess) scraped once every 5 s for 60 s, as Prometheus
  would (its Accept and Accept-Encoding headers): CPU and RSS of the process.

Scrapes go over HTTP on 127.0.0.1, in OpenMetrics with gzip, as Prometheus asks.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from prometheus_client.exposition import choose_encoder  # noqa: E402

from bench.bench_remove import private_namespace  # noqa: E402
from bench.harness import add_workload_args, is_root, run_benchmark, workload_of  # noqa: E402
from bench.proc import CLOCK_TICKS, cpu_ticks, loadavg, memory_mib  # noqa: E402
from bench.report import check_table, measure_row, value_row, workload_line  # noqa: E402
from bench.stats import Check, Measure, time_calls  # noqa: E402
from bench.workload import Workload  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402
from shmtop.exporter.exposition import Exposition, Families, encode  # noqa: E402
from shmtop.exporter.families import health_families, snapshot_families  # noqa: E402
from shmtop.exporter.posix_source import PosixSource  # noqa: E402
from shmtop.exporter.serve import make_server, where  # noqa: E402
from shmtop.exporter.source import SnapshotSource  # noqa: E402

# What Prometheus 2.x sends (scrape/scrape.go): OpenMetrics first, gzip.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
HEADERS = {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}
ANNOUNCE = re.compile(rb"serving (http://\S+/metrics)")


@dataclass
class Results:
    workload: dict[str, int]
    measures: list[Measure]
    series: int
    body_bytes: int
    cpu_percent: float | None
    rss_mib: dict[str, float]
    load: str
    checks: list[Check]

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "measures": {m.name: m.as_dict(suffix="_ms") for m in self.measures},
            "series": self.series,
            "body_bytes": self.body_bytes,
            "cpu_percent": self.cpu_percent,
            "rss_mib": self.rss_mib,
            "load": self.load,
            "checks": [c.as_dict(with_note=False) for c in self.checks],
        }


def get(url: str) -> bytes:
    request = urllib.request.Request(url, headers=HEADERS)
    with urllib.request.urlopen(request, timeout=60) as answer:
        body: bytes = answer.read()
        return body


def served(interval: float) -> tuple[str, Any, SnapshotSource]:
    """An in-process exporter on a free port: its URL, its server, its source."""
    source = SnapshotSource(interval)
    server = make_server(Exposition(source), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://{where(server)}/metrics", server, source


def in_process(repeat: int) -> tuple[list[Measure], int, int]:
    """Fresh and warm scrapes over HTTP, and the parts of a fresh one, in one run."""
    fresh_url, fresh_server, fresh_source = served(0.0)
    warm_url, warm_server, warm_source = served(3600.0)
    collector = Collector()
    try:
        for url in (fresh_url, warm_url):  # first snapshots, then a second later steady ones
            get(url)
        collector.snapshot()
        time.sleep(1.0)
        get(fresh_url)
        body = get(warm_url)
        fresh = Measure("fresh scrape (steady snapshot + waiter scan + families + encoding)",
                        time_calls(lambda: get(fresh_url), repeat))  # fmt: skip
        warm = Measure("warm scrape (snapshot younger than --interval)",
                       time_calls(lambda: get(warm_url), repeat), spread="p95")  # fmt: skip
        steady = Measure("steady snapshot alone", time_calls(collector.snapshot, repeat))
        reading = warm_source.reading()
        families = Measure("families of a snapshot (orphan rule, per-object series)",
                           time_calls(lambda: snapshot_families(reading), repeat))  # fmt: skip
        built = Families([*health_families(reading), *snapshot_families(reading)])
        encoder, _ = choose_encoder(PROMETHEUS_ACCEPT)
        encoding = Measure("encoding (OpenMetrics + gzip)",
                           time_calls(lambda: encode(built, encoder, True), repeat))  # fmt: skip
        posix = PosixSource(0.0)
        try:  # every process's maps and fds, the queues: reused for --posix-interval
            scan = Measure("POSIX scan alone (shm, semaphores, queues)",
                           time_calls(posix.read, repeat))  # fmt: skip
        finally:
            posix.close()
        series = sum(len(f.samples) for f in built.collect())
        return [fresh, warm, steady, families, encoding, scan], series, len(body)
    finally:
        for server in (fresh_server, warm_server):
            server.shutdown()
            server.server_close()
        for source in (fresh_source, warm_source):
            source.close()
        collector.close()


def subprocess_run(seconds: float, every: float) -> tuple[float | None, dict[str, float]]:
    """The real `shmtop exporter`, scraped every `every` s for `seconds`: CPU %, RSS."""
    process = subprocess.Popen(
        [sys.executable, "-m", "shmtop", "exporter", "--listen", "127.0.0.1:0",
         "--interval", str(every)], cwd=REPO_ROOT, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        match = ANNOUNCE.search(process.stdout.readline())
        if match is None:
            return None, {}
        url = match[1].decode()
        get(url)  # the first snapshot (a cold collector) is not the steady state
        time.sleep(every)
        start, began = cpu_ticks(process.pid), time.monotonic()
        scrapes = round(seconds / every)
        for n in range(scrapes):
            get(url)
            time.sleep(max(began + (n + 1) * every - time.monotonic(), 0.0))
        used = (cpu_ticks(process.pid) - start) / CLOCK_TICKS
        return 100.0 * used / (time.monotonic() - began), memory_mib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)


def benchmark(workload: Workload, repeat: int, seconds: float) -> Results:
    measures, series, body_bytes = in_process(repeat)
    cpu, rss = subprocess_run(seconds, 5.0)
    fresh, warm = measures[0], measures[1]
    baseline = None
    if measures[2].median is not None and measures[4].median is not None:
        baseline = measures[2].median + measures[3].median + measures[4].median  # type: ignore[operator]
    checks = [
        Check("warm scrape median (ms)", warm.median, 50.0),
        Check("warm scrape / (steady snapshot + families + encoding)",
              None if baseline is None or warm.median is None else warm.median / baseline, 0.5),
        Check("exporter CPU at a scrape every 5 s, % of a core", cpu, 2.0),
        Check("exporter RSS (MiB)", rss.get("VmHWM"), 80.0),
    ]  # fmt: skip
    del fresh
    return Results({**workload.sizes(), "repeat": repeat, "seconds": int(seconds)}, measures,
                   series, body_bytes, cpu, rss, loadavg(), checks)  # fmt: skip


def report(results: Results) -> str:
    sizes = results.workload
    rest = f"repeat {sizes['repeat']}, CPU over {sizes['seconds']} s; load {results.load}"
    lines = [workload_line(sizes, rest), ""]
    lines += [f"Served: {results.series} samples, {results.body_bytes} bytes gzipped", ""]
    lines += ["| measure | median ms | min / p95 | max |", "|---|---:|---:|---:|"]
    lines += [measure_row(m) for m in results.measures]
    lines += [value_row("exporter CPU, % of one core (scrape every 5 s)", results.cpu_percent)]
    lines += [value_row("exporter RSS at the end (VmHWM), MiB", results.rss_mib.get("VmHWM"))]
    lines += ["", *check_table(results.checks)]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_workload_args(parser)
    parser.add_argument("--repeat", type=int, default=21, help="timed scrapes of each kind")
    parser.add_argument("--seconds", type=float, default=60.0, help="the CPU measurement")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_root("bench_exporter", "it reads every process's maps, in a namespace of its own"):
        return 2
    private_namespace()
    return run_benchmark(
        "bench_exporter",
        workload_of(args),
        lambda workload: benchmark(workload, args.repeat, args.seconds),
        report,
        json_too=args.json,
    )


if __name__ == "__main__":
    sys.exit(main())
