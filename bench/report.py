"""The benchmarks' Markdown: the workload line, rows of measures and the PASS/MISS target table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bench.stats import Check, Measure


def workload_line(sizes: Mapping[str, float], rest: str) -> str:
    """What the workload was made of, then `rest` (what the benchmark repeated)."""
    return (
        f"Workload: {sizes['segments']} segments of {sizes['segment_size']} B, "
        f"{sizes['children']} children x {sizes['attaches_per_child']} attaches "
        f"(every second read-only), {sizes['semaphore_sets']} sets x "
        f"{sizes['semaphores_per_set']} semaphores, {sizes['queues']} queues x "
        f"{sizes['messages_per_queue']} messages; {rest}"
    )


def cell(text: str) -> str:
    """Text made safe for a Markdown table cell."""
    return text.replace("|", "\\|")


def measure_row(measure: Measure, spread_named: bool = True) -> str:
    """Name, median, min or p95 (named in the cell if spread_named), max."""
    if not measure.available:
        return f"| {cell(measure.name)} | not available | | |"
    spread = measure.minimum if measure.spread == "min" else measure.p95
    named = f"{measure.spread} " if spread_named else ""
    return (
        f"| {cell(measure.name)} | {measure.median:.1f} | {named}{spread:.1f} "
        f"| {measure.maximum:.1f} |"
    )


def value_row(name: str, value: float | None) -> str:
    """A row of the measure table with a single value in the median column."""
    return f"| {cell(name)} | {'n/a' if value is None else f'{value:.1f}'} | | |"


def check_table(checks: Iterable[Check], target_format: str = "") -> list[str]:
    """The target table; target_format is the format spec of the limit column."""
    lines = ["| target | value | limit | result |", "|---|---:|---:|---|"]
    for check in checks:
        value = "n/a" if check.value is None else f"{check.value:.2f}"
        limit = format(check.target, target_format)
        note = f" ({check.note})" if check.note else ""
        lines.append(f"| {check.label} | {value} | <= {limit} | {check.status}{note} |")
    return lines
