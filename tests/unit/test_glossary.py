"""The words of the help screens (shmtop.text.glossary) and the key names (shmtop.tui.keys):
each status word and column explained once, keys named as people read them."""

from __future__ import annotations

import pytest
from textual.binding import Binding

from shmtop.core.model import Kind
from shmtop.text import glossary
from shmtop.text.columns import COLUMNS
from shmtop.text.filtering import COMPARED, FIELD_NAMES, FLAG_WORDS
from shmtop.text.glossary import MARKS, STATUS_MEANINGS
from shmtop.tui.keys import all_keys, first_key, key_name
from shmtop.tui.screens.help import FILTER_HELP
from shmtop.tui.status_colours import STATUS_COLOURS
from shmtop.tui.widgets.ipc_table import ALERT_MARK, BUSY_MARK, TAG_MARK


def test_every_word_the_filter_takes_is_explained() -> None:
    assert set(FLAG_WORDS) <= {word for word, _ in glossary.STATUS_MEANINGS}


def test_the_filter_help_names_every_field_and_comparison_within_80_columns() -> None:
    for name in FIELD_NAMES:
        assert f"{name}:" in FILTER_HELP, name
    assert " ".join(sorted(COMPARED, key=FIELD_NAMES.index)) in FILTER_HELP
    assert all(len(line) <= glossary.WRAP for line in FILTER_HELP.splitlines())


@pytest.mark.parametrize("kind", list(Kind))
def test_every_column_says_what_it_means_and_how_wide_it_is(kind: Kind) -> None:
    lines = "\n".join(glossary.column_lines(kind))
    for column in COLUMNS[kind]:
        assert column.about and column.header in lines
        assert column.width > 0, column.key
        assert column.cap == 0 or column.cap >= column.width, column.key
    free = [c for c in COLUMNS[kind] if c.fit is not None]
    assert free and list(COLUMNS[kind][-len(free) :]) == free, "free text comes last"


def test_described_lines_wrap_under_the_meaning_within_80_columns() -> None:
    lines = glossary.described_lines([("A", "word " * 40), ("A NAME TOO LONG FOR IT", "x")])
    assert all(len(line) <= glossary.WRAP for line in lines)
    hang = lines[1].index("word")
    assert lines[0].index("word") == hang  # continuation lines under the meaning
    assert lines[-2].strip() == "A NAME TOO LONG FOR IT" and lines[-1].strip() == "x"


@pytest.mark.parametrize(
    ("key", "name"),
    [("pageup", "PgUp"), ("pagedown", "PgDn"), ("f5", "F5"), ("question_mark", "?"),
     ("ctrl+c", "^C"), ("escape", "Esc"), ("space", "Space"), ("delete", "Del"),
     ("less_than_sign", "<"), ("backslash", "\\"), ("U", "U"), ("left", "←")],
)  # fmt: skip
def test_key_names_are_readable(key: str, name: str) -> None:
    assert key_name(key) == name


def test_a_footer_shows_the_first_key_and_the_help_all_of_them() -> None:
    binding = Binding("d,delete,f9", "remove", "Remove")
    assert first_key(binding) == "d"
    assert all_keys(binding) == "d  Del  F9"


def test_every_row_mark_and_status_colour_is_explained() -> None:
    marks = {mark for mark, _ in MARKS}
    assert {TAG_MARK, ALERT_MARK, BUSY_MARK} <= marks
    busy = next(meaning for mark, meaning in MARKS if mark == BUSY_MARK)
    assert busy.startswith("busy:")
    # every coloured word but POSIX's "unlinked" is a System V status word explained here
    words = {word for word, _ in STATUS_MEANINGS}
    assert set(STATUS_COLOURS) - {"unlinked"} <= words
