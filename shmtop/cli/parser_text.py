"""argparse's own words (its "options", "usage: ", "show this help message and exit"), each
looked up once while the parser is built.

argparse asks gettext for them again for each of shmtop's 15 parsers: 42 lookups, each
reading the environment and trying the locale's catalogue files (40-60 us), about 2 ms of
every one-shot command. gettext keeps no answer it did not find, so the lookups are cached
here, and only while the parser is built and used: the same answers (a process's locale and
text domain do not change while it parses its command line), and argparse is left as it
was after. Where the text domain's catalogue directory does not exist (a Python built
under a prefix without one), gettext can find no catalogue for any language and answers
each word with itself: the words are then themselves, without the first lookup's import
of locale and its look at the environment (~2 ms).
"""

from __future__ import annotations

import argparse
import functools
import gettext
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def words_looked_up_once() -> Iterator[None]:
    """argparse's module-level gettext alias, memoised within the block."""
    plain = argparse._  # type: ignore[attr-defined]
    argparse._ = looked_up()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = plain  # type: ignore[attr-defined]


def looked_up() -> Callable[[str], str]:
    """gettext.gettext memoised, or each word itself where no catalogue can be found."""
    if not os.path.isdir(gettext.bindtextdomain(gettext.textdomain())):  # (the bound dir)
        return _itself
    return functools.cache(gettext.gettext)


def _itself(word: str) -> str:
    return word
