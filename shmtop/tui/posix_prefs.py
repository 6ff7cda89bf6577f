"""The POSIX tabs' remembered sort and hidden columns (F2), as the System V tabs have.

Kept by tab ("pshm", "psem", "pmq") in the same preferences file; a saved column that
no longer exists is ignored, as a System V one is."""

from __future__ import annotations

from collections.abc import Iterable

from shmtop.tui.prefs import Preferences
from shmtop.tui.widgets.posix_table import PosixTable


def apply(preferences: Preferences, tables: Iterable[PosixTable]) -> None:
    """Each POSIX table's remembered sort and hidden columns (the main screen is ready)."""
    for table in tables:
        known = {c.key for c in table.columns_spec}
        column, reverse = preferences.sort.get(table.tab, [table.sort_key, False])
        if column in known:
            table.set_sort(str(column), reverse=bool(reverse))
        table.set_hidden(set(preferences.hidden.get(table.tab, ())) & known)


def store(preferences: Preferences, tables: Iterable[PosixTable]) -> None:
    """Each POSIX table's sort and hidden columns, into the preferences (then saved)."""
    for table in tables:
        preferences.sort[table.tab] = [table.sort_key, table.sort_reverse]
        hidden = table.hidden - {"ns"}  # NS comes and goes with the namespaces shown
        if hidden:
            preferences.hidden[table.tab] = sorted(hidden)
        else:
            preferences.hidden.pop(table.tab, None)
