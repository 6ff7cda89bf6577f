"""exporter -A merges each namespace's families into one family of each name."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric

from shmtop.exporter.namespace_families import merged


def _family(name: str, namespace: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, f"{name} help", labels=["namespace"])
    family.add_metric([namespace], value)
    return family


def test_merged_keeps_one_family_a_name_with_every_namespace_samples_in_order() -> None:
    ours: list[Metric] = [_family("shmtop_objects", "1", 3), _family("shmtop_waiters", "1", 0)]
    theirs: list[Metric] = [_family("shmtop_objects", "2", 5), _family("shmtop_deadlocks", "2", 1)]
    families = merged([ours, theirs])
    assert [f.name for f in families] == ["shmtop_objects", "shmtop_waiters", "shmtop_deadlocks"]
    objects = families[0]
    assert [(s.labels["namespace"], s.value) for s in objects.samples] == [("1", 3), ("2", 5)]
