"""The column tables (shmtop.text.columns): every TUI column is a `list --sort` key, and the one
ordering rule (ascending, ties by id, times newest first and never last, reverse flips all)."""

from __future__ import annotations

from typing import Any

import pytest
from fake_source import fixed_snapshot

from shmtop.core.model import Kind
from shmtop.text import columns
from shmtop.text.columns import COLUMNS, LIST_COLUMNS, SORT_ONLY, column, sort_names, sort_objects
from shmtop.tui.widgets.ipc_table import IpcTable

SNAPSHOT = fixed_snapshot()


def order(kind: Kind, key: str, *, reverse: bool = False) -> list[int]:
    objects: Any = SNAPSHOT.objects(kind)
    return [o.id for o in sort_objects(kind, objects, key, SNAPSHOT, reverse=reverse)]


@pytest.mark.parametrize("kind", list(Kind))
def test_every_column_the_tui_table_shows_is_a_sort_key_of_list(kind: Kind) -> None:
    shown = IpcTable(kind).columns_spec  # what the view's table is built from
    assert shown == COLUMNS[kind]
    for spec in shown:
        assert column(kind, spec.key) is spec  # what `list --sort KEY` looks up
        assert spec.key in sort_names(kind)
    keys = [c.key for c in (*COLUMNS[kind], *SORT_ONLY[kind])]
    assert len(keys) == len(set(keys)), "a key names one column"
    assert set(LIST_COLUMNS[kind]) <= {c.key for c in COLUMNS[kind]}


def test_old_names_are_aliases_and_unknown_names_are_none() -> None:
    assert column(Kind.SHM, "cpid") is column(Kind.SHM, "creator")
    assert "cpid" in sort_names(Kind.SHM)
    assert column(Kind.SHM, "nosuch") is None and column(Kind.SEM, "size") is None
    assert order(Kind.SHM, "nosuch") == order(Kind.SHM, "id")  # falls back to the first column


@pytest.mark.parametrize(
    ("kind", "key", "ids"),
    [(Kind.SHM, "id", [32768, 32769, 32770, 32771]),
     (Kind.SHM, "size", [32770, 32771, 32769, 32768]),
     (Kind.SHM, "owner", [32769, 32770, 32771, 32768]),  # app, app (ties by id), nobody, ...
     (Kind.SHM, "perms", [32768, 32770, 32771, 32769]),
     (Kind.SHM, "nattch", [32771, 32770, 32768, 32769]),
     (Kind.SHM, "creator", [32771, 32768, 32769, 32770]),
     (Kind.SHM, "cpid", [32771, 32768, 32769, 32770]),
     (Kind.SHM, "lpid", [32771, 32768, 32770, 32769]),
     (Kind.SHM, "atime", [32768, 32769, 32770, 32771]),  # newest first
     (Kind.SHM, "dtime", [32769, 32771, 32768, 32770]),  # never (0) last, ties by id
     (Kind.SHM, "status", [32768, 32769, 32770, 32771]),  # none, none, dest, orphan
     (Kind.SEM, "nsems", [65538, 65536, 65537]),
     (Kind.SEM, "values", [65538, 65537, 65536]),  # (), (1, 1, ...), (1, 14, 0)
     (Kind.SEM, "waiters", [65537, 65538, 65536]),
     (Kind.SEM, "otime", [65536, 65537, 65538]),
     (Kind.MSG, "qnum", [98305, 98304]),
     (Kind.MSG, "stime", [98304, 98305]),
     (Kind.MSG, "ctime", [98305, 98304])],
)  # fmt: skip
def test_the_one_order_ascending_ties_by_id_times_as_ages(
    kind: Kind, key: str, ids: list[int]
) -> None:
    assert order(kind, key) == ids
    assert order(kind, key, reverse=True) == ids[::-1]  # the whole order flips, ties too


def test_list_s_table_has_the_list_columns_and_no_raw_control_characters() -> None:
    lines = columns.table_lines(Kind.SHM, SNAPSHOT, SNAPSHOT.segments)
    assert lines[0].split() == ["ID", "KEY", "OWNER", "PERMS", "SIZE", "RSS", "NATTCH",
                                "CREATOR", "ATTACHED", "STATUS"]  # fmt: skip
    assert len(lines) == 1 + len(SNAPSHOT.segments)
    text = "\n".join(lines)
    assert "\x1b" not in text and "consumer\u241b[31m" in text  # the hostile name, made visible
    row = next(line for line in lines if line.startswith("32769 "))
    assert row.split()[:7] == ["32769", "0x00001234", "app", "640", "64.0K", "64.0K", "2"]


def test_a_time_is_an_age_in_the_tui_and_an_age_ago_in_list() -> None:
    otime = column(Kind.SEM, "otime")
    assert otime is not None
    first = SNAPSHOT.semaphore_sets[0]  # last operation 1 s before the snapshot
    never = SNAPSHOT.semaphore_sets[2]
    assert (otime.cell(first, SNAPSHOT), otime.line_cell(first, SNAPSHOT)) == ("1s", "1s ago")
    assert (otime.cell(never, SNAPSHOT), otime.line_cell(never, SNAPSHOT)) == ("-", "never")
