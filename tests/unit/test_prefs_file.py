"""Preferences on a file (shmtop.tui.prefs): missing, unreadable and corrupt files give the
defaults and say why; saving is atomic, private and never writes through a link."""

from __future__ import annotations

import json
import os
from pathlib import Path

from shmtop.tui.prefs import Preferences, temporary_path


def test_corrupt_files_give_the_defaults_and_say_what_was_ignored(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    cases = {
        "{not json": "not JSON",
        "[1, 2]": "not an object",
        json.dumps({"interval": True, "theme": 7, "sort": {"shm": ["size", "yes"]}}):
            "invalid theme, interval, sort",
        b"\xff\xfe".decode("latin-1"): "not JSON",
    }  # fmt: skip
    for text, said in cases.items():
        path.write_text(text, encoding="utf-8")
        prefs = Preferences.load(path)
        assert (prefs.theme, prefs.interval, prefs.sort) == ("textual-dark", 1.0, {}), text
        assert prefs.problem is not None and said in prefs.problem, (text, prefs.problem)
    assert Preferences.load(tmp_path / "absent.json").problem is None  # no file: no warning


def test_a_partly_valid_file_keeps_what_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.write_text(json.dumps({"interval": 5, "sort": {"shm": ["size", True], "x": [1]}}))
    prefs = Preferences.load(path)
    assert prefs.interval == 5.0 and prefs.sort == {"shm": ["size", True]}
    assert prefs.problem is not None and "sort" in prefs.problem


def test_saving_never_writes_through_a_link_planted_at_the_temporary_name(
    tmp_path: Path,
) -> None:
    target = tmp_path / "shmtop" / "preferences.json"
    target.parent.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious", encoding="utf-8")
    planted = temporary_path(target)
    planted.symlink_to(victim)
    Preferences(theme="textual-light").save(target)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not target.is_symlink()
    assert json.loads(target.read_text(encoding="utf-8"))["theme"] == "textual-light"
    assert not os.path.lexists(planted)


def test_saving_replaces_a_link_at_the_file_itself_without_following_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious", encoding="utf-8")
    target = tmp_path / "preferences.json"
    target.symlink_to(victim)
    Preferences(interval=5.0).save(target)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not target.is_symlink()
    assert json.loads(target.read_text(encoding="utf-8"))["interval"] == 5.0


def test_saving_leaves_no_temporary_file_and_a_private_file(tmp_path: Path) -> None:
    target = tmp_path / "preferences.json"
    Preferences().save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preferences.json"]
    assert target.stat().st_mode & 0o077 == 0
