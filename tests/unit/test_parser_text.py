"""argparse's words are looked up once while the parser is built, and argparse is left as it
was: the same parser, the same help, the same gettext afterwards."""

from __future__ import annotations

import argparse
import gettext
import struct
from pathlib import Path

import pytest

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


def write_catalogue(path: Path, messages: dict[str, str]) -> None:
    """A GNU .mo file (the format gettext reads) of messages, its header saying UTF-8."""
    entries = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", **messages}.items())
    originals = [k.encode() for k, _ in entries]
    translations = [v.encode() for _, v in entries]
    count = len(entries)
    start = 28 + 16 * count  # after the header and both tables
    table, data = [], b""
    for text in originals + translations:
        table.append((len(text), start + len(data)))
        data += text + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, 0)
    body = b"".join(struct.pack("<2I", length, at) for length, at in table)
    path.parent.mkdir(parents=True)
    path.write_bytes(header + body + data)


def test_a_catalogue_gives_its_words_and_none_gives_each_word_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = gettext.textdomain()
    write_catalogue(tmp_path / "de" / "LC_MESSAGES" / f"{domain}.mo", {"options": "Optionen"})
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setattr(gettext, "_localedirs", {domain: str(tmp_path)})  # bindtextdomain's
    assert parser_text.looked_up()("options") == "Optionen" == gettext.gettext("options")
    monkeypatch.setattr(gettext, "_localedirs", {domain: str(tmp_path / "none")})
    assert parser_text.looked_up()("options") == "options" == gettext.gettext("options")
