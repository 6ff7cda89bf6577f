"""The families of `exporter -A`: which namespace each `namespace` label is, the namespaces
that could not be read, and every namespace's families merged into one of each name.

Every series of the exporter carries `namespace` (the IPC namespace's inode, as without
-A); shmtop_namespace_info names each one as a person knows it (a container, a hostname).
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from shmtop.exporter.namespace_source import EveryReading
from shmtop.text.sanitize import safe_text


def merged(groups: Iterable[list[Metric]]) -> list[Metric]:
    """One family of each name, with the samples of every group's (in the groups' order;
    a family first seen in a later group comes after the others)."""
    by_name: dict[str, Metric] = {}
    for group in groups:
        for family in group:
            first = by_name.get(family.name)
            if first is None:
                by_name[family.name] = family
            else:
                first.samples.extend(family.samples)
    return list(by_name.values())


def namespace_families(every: EveryReading) -> list[Metric]:
    """shmtop_namespace_info of each namespace read, and the counts of what was not."""
    info = GaugeMetricFamily(
        "shmtop_namespace_info",
        "An IPC namespace the exporter reads (-A): its name (a container, a hostname, else"
        " ipc:[INODE]) and where that name comes from; namespace is its inode.",
        labels=["namespace", "name", "source", "current"],
    )
    for namespace in (every.ours, *(part.namespace for part in every.others)):
        info.add_metric(
            [str(namespace.inode), safe_text(namespace.name), namespace.source,
             "1" if namespace.current else "0"], 1,
        )  # fmt: skip
    refused = GaugeMetricFamily(
        "shmtop_namespaces_unreadable",
        "IPC namespaces found but not read: not joined (joining needs CAP_SYS_ADMIN) or"
        " ended while read.",
        value=every.refused,
    )
    unplaced = GaugeMetricFamily(
        "shmtop_processes_unplaced",
        "Processes whose IPC namespace could not be told (their ns/ipc link unreadable).",
        value=every.unplaced,
    )
    return [info, refused, unplaced]
