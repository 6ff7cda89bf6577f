"""Preferences on a file (shmtop.tui.prefs): missing, unreadable and corrupt files give the
defaults and say why; saving is atomic, private and never writes through a link."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

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


def test_a_missing_file_gives_the_defaults_without_a_word(tmp_path: Path) -> None:
    prefs = Preferences.load(tmp_path / "no" / "such" / "preferences.json")
    assert prefs == Preferences() and prefs.problem is None
    assert (prefs.theme, prefs.interval, prefs.sort) == ("textual-dark", 1.0, {})


def test_an_unreadable_file_gives_the_defaults_and_says_why(tmp_path: Path) -> None:
    directory = tmp_path / "preferences.json"
    directory.mkdir()  # a directory where the file should be: EISDIR, even for root
    prefs = Preferences.load(directory)
    assert prefs == Preferences()
    assert prefs.problem is not None and "unreadable" in prefs.problem
    assert str(directory) in prefs.problem and prefs.problem.endswith("using the defaults")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"theme": "\xff\xfe"}')  # not UTF-8
    problem = Preferences.load(binary).problem
    assert problem is not None and "unreadable" in problem


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads a file of mode 000 (make test-unit: nobody)"
)
def test_a_file_this_user_may_not_read_gives_the_defaults_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.write_text(json.dumps({"theme": "textual-light"}), encoding="utf-8")
    path.chmod(0)
    prefs = Preferences.load(path)
    assert prefs.theme == "textual-dark"
    assert prefs.problem is not None and "Permission denied" in prefs.problem


@pytest.mark.parametrize(
    ("data", "bad"),
    [({"interval": 3}, "interval"), ({"interval": "1.0"}, "interval"),
     ({"interval": True}, "interval"),
     ({"theme": ""}, "theme"), ({"theme": None}, "theme"), ({"sort": []}, "sort"),
     ({"sort": {"posix": ["size", True]}}, "sort"), ({"sort": {"shm": ["size"]}}, "sort"),
     ({"sort": {"shm": [1, True]}}, "sort"), ({"hidden": ["rss"]}, "hidden"),
     ({"hidden": {"shm": "rss"}}, "hidden"), ({"hidden": {"posix": ["rss"]}}, "hidden")],
)  # fmt: skip
def test_each_invalid_field_is_named_and_the_rest_kept(
    tmp_path: Path, data: dict[str, object], bad: str
) -> None:
    path = tmp_path / "preferences.json"
    path.write_text(json.dumps({"theme": "textual-light", **data}), encoding="utf-8")
    prefs = Preferences.load(path)
    assert prefs.problem == f"preferences {path}: ignored invalid {bad}"
    assert prefs.theme == ("textual-light" if bad != "theme" else "textual-dark")


def test_what_is_saved_is_what_loads_and_unknown_fields_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    saved = Preferences(theme="nord", interval=0.25, sort={"msg": ["qnum", True]},
                        hidden={"shm": ["perms", "rss"]})  # fmt: skip
    saved.save(path)
    assert Preferences.load(path) == saved and Preferences.load(path).problem is None
    path.write_text(json.dumps({**saved.as_dict(), "future": 1}), encoding="utf-8")
    assert Preferences.load(path) == saved and Preferences.load(path).problem is None


def test_a_save_that_cannot_be_written_is_dropped_quietly(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    Preferences(theme="nord").save(blocker / "shmtop" / "preferences.json")  # no exception
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
