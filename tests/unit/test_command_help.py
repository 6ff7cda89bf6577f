"""Every command's --help says what it is for and shows examples that the parser accepts."""

from __future__ import annotations

import argparse
import shlex

import pytest

from shmtop.cli.command_help import COMMANDS
from shmtop.cli.commands import build_parser


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_has_an_entry_and_every_entry_a_command() -> None:
    assert set(subcommands()) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_has_description_and_examples(name: str) -> None:
    text = subcommands()[name].format_help()
    entry = COMMANDS[name]
    assert " ".join(entry.description.split()[:6]) in " ".join(text.split())
    assert "examples:" in text
    for example in entry.examples:
        assert f"  {example}\n" in text  # kept on its own line, not re-wrapped


@pytest.mark.parametrize(
    "example", [line for entry in COMMANDS.values() for line in entry.examples]
)
def test_example_parses(example: str) -> None:
    words = shlex.split(example)
    assert words[0] == "shmtop"
    args = build_parser().parse_args(words[1:])  # argparse exits (SystemExit) on a bad one
    assert args.command == words[1]


def test_summary_is_what_the_top_level_help_lists() -> None:
    text = " ".join(build_parser().format_help().split())
    for name, entry in COMMANDS.items():
        assert f"{name} {entry.summary}" in text
