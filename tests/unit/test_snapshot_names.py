"""Snapshot's lookups of the PIDs that matter: command_of, title_of and both at once."""

from __future__ import annotations

from fake_source import POSTMASTER, fixed_snapshot


def test_names_of_is_command_of_and_title_of_in_one_lookup() -> None:
    snapshot = fixed_snapshot()
    for pid in (*snapshot.processes, 0, -1, 999_999):
        assert snapshot.names_of(pid) == (snapshot.command_of(pid), snapshot.title_of(pid))
    assert snapshot.names_of(4100) == ("postgres", POSTMASTER)
    assert snapshot.names_of(4300) == ("producer", None)  # runs, and has no title
    assert snapshot.names_of(999_999) == (None, None)  # unknown or gone
