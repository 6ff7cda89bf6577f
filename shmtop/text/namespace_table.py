"""`list`'s tables across IPC namespaces: the same columns, with NS first when more than one
namespace is shown, and the lines that say which namespaces were (not) read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shmtop.core.model import Kind, Snapshot
from shmtop.text.columns import COLUMNS, LIST_COLUMNS, NS_COLUMN
from shmtop.text.report import render_table
from shmtop.text.sanitize import safe_text

NS_HEADER = NS_COLUMN.header


def namespace_label(name: str, inode: int) -> str:
    """How a namespace is named in a line: its name, and its inode unless that is the name."""
    label = f"ipc:[{inode}]"
    shown = safe_text(name)  # a hostname: untrusted
    return shown if shown == label else f"{shown} ({label})"


def table_lines_across(
    kind: Kind, parts: Sequence[tuple[str, Snapshot, Sequence[Any]]], *, with_ns: bool
) -> list[str]:
    """The table of list for parts of (namespace name, its snapshot, its chosen objects in
    order), one after another; with_ns: an NS column first."""
    shown = [c for key in LIST_COLUMNS[kind] for c in COLUMNS[kind] if c.key == key]
    cells = [c.wide or c.cell for c in shown]
    rows: list[list[str]] = []
    for name, snapshot, objects in parts:
        first = [safe_text(name)] if with_ns else []
        rows.extend([*first, *(cell(o, snapshot) for cell in cells)] for o in objects)
    headers = [NS_HEADER] * with_ns + [c.header for c in shown]
    return render_table(headers, rows)


def refusal_lines(
    refused: Sequence[tuple[str, int, str]], unplaced: Mapping[str, int]
) -> list[str]:
    """One line for each namespace not read (name, inode, why), one for the processes whose
    namespace could not be told."""
    lines = [f"IPC namespace {namespace_label(n, i)} not read: {why}" for n, i, why in refused]
    if unplaced:
        reasons = ", ".join(f"{count} {why}" for why, count in sorted(unplaced.items()))
        lines.append(f"processes whose IPC namespace could not be told: {reasons}")
    return lines


def rows_across(
    headers: Sequence[str], parts: Sequence[tuple[str, Sequence[Sequence[str]]]], *, with_ns: bool
) -> list[str]:
    """A table of rows already made, part by part (namespace name, its rows); with_ns: an NS
    column first (the POSIX tables, whose cells posix_table and mqueue_table make)."""
    rows = [[*([safe_text(name)] if with_ns else []), *row] for name, made in parts for row in made]
    return render_table([NS_HEADER] * with_ns + list(headers), rows)
