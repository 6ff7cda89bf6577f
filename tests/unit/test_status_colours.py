"""The status words' colours: theme defaults and the segments of a cell (no markup)."""

from __future__ import annotations

from rich.style import Style
from textual.app import App

from shmtop.tui.status_colours import STATUS_COLOURS, status_segments, theme_defaults, variable

WORD_STYLES = {word: Style(color=f"color({n + 1})") for n, word in enumerate(STATUS_COLOURS)}


def test_every_builtin_theme_gives_each_word_its_own_colour() -> None:
    for name, theme in App().available_themes.items():
        colours = theme.to_color_system().generate()
        defaults = theme_defaults(colours)
        assert set(defaults) == {variable(word) for word in STATUS_COLOURS}
        bases = [value.split()[0].lower() for value in defaults.values()]
        assert len(set(bases)) == len(bases), (name, defaults)
        assert colours["foreground"].split()[0].lower() not in bases, name


def test_a_cell_keeps_its_text_and_colours_only_status_words() -> None:
    base = Style(bold=True)
    cell = "dest,locked,partial   "
    segments = status_segments(cell, base, WORD_STYLES.__getitem__)
    assert "".join(s.text for s in segments) == cell
    styled = {s.text: s.style for s in segments}
    assert styled["dest"] == base + WORD_STYLES["dest"]
    assert styled["locked"] == base + WORD_STYLES["locked"]
    assert styled[",partial   "] == base  # not a coloured word


def test_markup_in_a_cell_is_text_not_style() -> None:
    cell = "[red]orphan[/red] [link=x]"
    segments = status_segments(cell, Style(), WORD_STYLES.__getitem__)
    assert "".join(s.text for s in segments) == cell  # the brackets are drawn as they are
    assert [s.text for s in segments if s.style == WORD_STYLES["orphan"]] == ["orphan"]
    assert status_segments("", Style(), WORD_STYLES.__getitem__)[0].text == ""
