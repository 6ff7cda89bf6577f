"""argparse's own words (its "options", "usage: ", "show this help message and exit"), each
looked up once while the parser is built.

argparse asks gettext for them again for each of shmtop's 15 parsers: 42 lookups, each
reading the environment and trying the locale's catalogue files (40-60 us), about 2 ms of
every one-shot command. gettext keeps no answer it did not find, so the lookups are cached
here, and only while the parser is built: the same answers (a process's locale and text
domain do not change while it builds its parser), and argparse is left as it was after.
"""

from __future__ import annotations

import argparse
import functools
import gettext
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def words_looked_up_once() -> Iterator[None]:
    """argparse's module-level gettext alias, memoised within the block."""
    plain = argparse._  # type: ignore[attr-defined]
    argparse._ = functools.cache(gettext.gettext)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = plain  # type: ignore[attr-defined]
