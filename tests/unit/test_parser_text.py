"""argparse's words are looked up once while the parser is built, and argparse is left as it
was: the same parser, the same help, the same gettext afterwards."""

from __future__ import annotations

import argparse
import gettext

from shmtop.cli import parser_text
from shmtop.cli.commands import build_parser


def test_the_words_are_gettexts_and_argparse_is_restored() -> None:
    before = argparse._  # type: ignore[attr-defined]
    with parser_text.words_looked_up_once():
        assert argparse._ is not before  # type: ignore[attr-defined]
        assert argparse._("options") == gettext.gettext("options")  # type: ignore[attr-defined]
    assert argparse._ is before  # type: ignore[attr-defined]


def test_the_parser_built_so_is_the_same() -> None:
    plain = build_parser()
    with parser_text.words_looked_up_once():
        cached = build_parser()

    assert cached.format_help() == plain.format_help()
    commands = next(a for a in plain._actions if isinstance(a, argparse._SubParsersAction))
    again = next(a for a in cached._actions if isinstance(a, argparse._SubParsersAction))
    assert set(again.choices) == set(commands.choices)
    for name, sub in commands.choices.items():
        assert again.choices[name].format_help() == sub.format_help()


def test_a_failure_inside_still_restores_argparse() -> None:
    before = argparse._  # type: ignore[attr-defined]
    try:
        with parser_text.words_looked_up_once():
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    assert argparse._ is before  # type: ignore[attr-defined]
