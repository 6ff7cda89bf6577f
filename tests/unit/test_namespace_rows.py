"""Rows across IPC namespaces (text/namespace_rows.py) and the `ns:` filter term, on fixed
snapshots: the row id of (namespace, id), the NS cell, cells and filters that read the
row's own namespace's latest snapshot."""

from __future__ import annotations

from typing import Any, cast

import msgspec
import pytest
from fake_source import fixed_snapshot

from shmtop.core.model import Kind, Snapshot
from shmtop.text.columns import COLUMNS
from shmtop.text.filtering import FilterError, parse_filter
from shmtop.text.namespace_rows import NsRow, on_rows, row_columns, row_key, rows_of

OURS = 4026531839  # fixed_snapshot()'s
THEIRS = 4026532300


def two_namespaces() -> tuple[Snapshot, Snapshot]:
    ours = fixed_snapshot()
    theirs = msgspec.structs.replace(ours, ipc_namespace=THEIRS, taken_at=ours.taken_at + 60)
    return ours, theirs


def test_row_ids_keep_ours_and_tell_the_same_id_apart_elsewhere() -> None:
    assert row_key(OURS, 32768, current=True) == 32768
    theirs = row_key(THEIRS, 32768, current=False)
    assert theirs != 32768 and theirs != row_key(THEIRS + 1, 32768, current=False)
    assert theirs & 0xFFFFFFFF == 32768 and theirs >> 32 == THEIRS


def test_the_NS_cell_is_the_name_or_the_bare_inode_and_sanitised() -> None:
    ours, _ = two_namespaces()
    segment = ours.segments[0]
    plain = NsRow(1, segment, THEIRS, f"ipc:[{THEIRS}]", False)
    named = NsRow(2, segment, THEIRS, "web\x1b[31mbox", False)
    assert plain.short == str(THEIRS) and plain.label == f"ipc:[{THEIRS}]"
    assert "\x1b" not in named.short and named.label.endswith(f"(ipc:[{THEIRS}])")
    ns = row_columns(Kind.SHM, {THEIRS: ours})[0]
    assert ns.key == "ns" and ns.cell(plain, ours) == str(THEIRS)


def test_cells_read_the_rows_namespace_latest_snapshot() -> None:
    ours, theirs = two_namespaces()
    snapshots = {OURS: ours, THEIRS: theirs}
    columns = {c.key: c for c in row_columns(Kind.SHM, snapshots)}
    assert [c.key for c in row_columns(Kind.SHM, snapshots)][1:] == [
        c.key for c in COLUMNS[Kind.SHM]
    ]  # fmt: skip
    segment = ours.segments[0]  # attached 5 s before ours was taken
    mine, other = (
        rows_of(OURS, "ipc:[x]", True, (segment,)),
        rows_of(THEIRS, "b", False, (segment,)),
    )
    assert columns["atime"].cell(mine[0], ours) == "5s"
    assert columns["atime"].cell(other[0], ours) == "1m"  # theirs was taken a minute later
    assert columns["id"].cell(other[0], ours) == "32768"


def test_ns_term_matches_name_label_or_inode_and_refuses_no_value() -> None:
    ours, theirs = two_namespaces()
    names = {OURS: "ipc:[4026531839]", THEIRS: "Web-Box"}.get
    segment = ours.segments[0]
    for term in ("ns:web-box", f"ns:{THEIRS}", f"ns:ipc:[{THEIRS}]"):
        matches = parse_filter(term, names)
        assert matches(segment, theirs) and not matches(segment, ours), term
    assert parse_filter("!ns:web-box", names)(segment, ours)
    assert parse_filter(f"ns:{OURS}")(segment, ours)  # no names known: the inode still works
    with pytest.raises(FilterError):
        parse_filter("ns:")


def test_a_filter_made_for_rows_tests_each_in_its_namespace() -> None:
    ours, theirs = two_namespaces()
    snapshots = {OURS: ours, THEIRS: theirs}
    rows = rows_of(OURS, "a", True, ours.segments) + rows_of(THEIRS, "b", False, ours.segments)
    matches = on_rows(parse_filter(f"ns:{THEIRS} nattch:>0"), snapshots)
    kept = [row for row in rows if matches(cast(Any, row), ours)]  # a Filter of rows
    assert kept and all(row.inode == THEIRS and getattr(row.obj, "nattch", 0) > 0 for row in kept)


def test_rows_of_the_same_objects_are_kept_and_a_changed_one_is_new() -> None:
    ours, _ = two_namespaces()
    first = rows_of(THEIRS, "b", False, ours.segments)
    changed = msgspec.structs.replace(ours.segments[1], nattch=9)
    objects = (ours.segments[0], changed, *ours.segments[2:])
    again = rows_of(THEIRS, "b", False, objects, {row.id: row for row in first})
    assert again[0] is first[0] and again[2] is first[2]  # the table sees them unchanged
    assert again[1] is not first[1] and again[1].obj is changed and again[1].id == first[1].id
