"""The colour of each status word, through Textual theme variables: defined here once.

Each word has a theme variable (`$status-dest`, ...) that a theme may set; a theme
that does not gets a default from its own colours (dest the theme's error colour,
orphan its warning colour...), chosen so that no two words share a colour in any
theme (some themes give two roles one colour: the next candidate is taken). The
words are matched in the cells shmtop writes (status cells are made of these
words, never of untrusted text), and styled as segments: no markup is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from rich.segment import Segment as RichSegment
from rich.style import Style

# word -> the theme colours its default may take, best first.
STATUS_COLOURS: dict[str, tuple[str, ...]] = {
    "dest": ("error",),
    "orphan": ("warning", "accent", "secondary"),
    "locked": ("primary", "secondary", "accent"),
    "unreadable": ("foreground-muted", "secondary", "accent", "success"),
    "unlinked": ("accent", "success", "primary", "secondary"),
}
WORD = re.compile(r"[a-z]+")


def variable(word: str) -> str:
    """The theme variable of a status word: 'status-dest'."""
    return f"status-{word}"


def theme_defaults(colours: Mapping[str, str]) -> dict[str, str]:
    """Each word's variable from a theme's colour system (Theme.to_color_system().generate()),
    every word a colour of its own, none the plain text's, where the theme has enough."""
    taken = {_base(colours["foreground"])} if "foreground" in colours else set()  # plain text
    defaults: dict[str, str] = {}
    for word, candidates in STATUS_COLOURS.items():
        present = [colours[c] for c in candidates if c in colours]
        free = [c for c in present if _base(c) not in taken]
        chosen = (free or present or ["red"])[0]
        taken.add(_base(chosen))
        defaults[variable(word)] = chosen
    return defaults


def _base(colour: str) -> str:
    """The colour without its alpha: 'ansi_default 50%' draws as ansi_default (ANSI colours
    have no alpha), '#E0E0E099' as its own blend."""
    return colour.split(maxsplit=1)[0].lower() if colour.strip() else colour


def component_classes(prefix: str) -> set[str]:
    """A widget's component class for each word: 'ipc-table--status-dest'..."""
    return {f"{prefix}--{variable(word)}" for word in STATUS_COLOURS}


def component_css(widget: str, prefix: str) -> str:
    """The DEFAULT_CSS rules that colour those classes with the theme variables."""
    return "\n".join(
        f"{widget} > .{prefix}--{variable(w)} {{ color: ${variable(w)}; }}" for w in STATUS_COLOURS
    )


def status_segments(text: str, base: Style, style_of: Callable[[str], Style]) -> list[RichSegment]:
    """The cell `text` (already fitted) as segments, its status words in their colours on
    `base`; style_of(word) is the word's component style."""
    segments: list[RichSegment] = []
    at = 0
    for match in WORD.finditer(text):
        word = match.group()
        if word not in STATUS_COLOURS:
            continue
        if match.start() > at:
            segments.append(RichSegment(text[at : match.start()], base))
        segments.append(RichSegment(word, base + style_of(word)))
        at = match.end()
    if at < len(text) or not segments:
        segments.append(RichSegment(text[at:], base))
    return segments


class StatusTheme:
    """App mixin: the status words' theme variables, defaulted from the current theme."""

    def get_theme_variable_defaults(self) -> dict[str, str]:
        theme = self.current_theme  # type: ignore[attr-defined]
        defaults: dict[str, str] = super().get_theme_variable_defaults()  # type: ignore[misc]
        return {**defaults, **theme_defaults(theme.to_color_system().generate())}
