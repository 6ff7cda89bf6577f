"""The Textual release the SVG snapshots are drawn with: read from pyproject, checked on update."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def pinned_textual() -> str:
    """The `textual==X` of the test dependency group (the one place the pin is written)."""
    groups = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["dependency-groups"]
    for requirement in groups["test"]:
        found = re.fullmatch(r"textual==([\w.]+)", str(requirement).replace(" ", ""))
        if found:
            return found.group(1)
    raise LookupError(f"no textual==X pin in the test group of {PYPROJECT}")


def update_refusal(pinned: str, installed: str) -> str | None:
    """Why --snapshot-update must not run on this release, or None when it may."""
    if installed == pinned:
        return None
    return (
        f"--snapshot-update needs Textual {pinned} (the snapshots' release), "
        f"not {installed}: pip install -e . --group test"
    )


def refuse_update_on_another_textual(config: pytest.Config) -> None:
    """--snapshot-update on another release would rewrite every SVG for that release."""
    if not config.getoption("--snapshot-update", default=False):
        return
    refusal = update_refusal(pinned_textual(), version("textual"))
    if refusal is not None:
        raise pytest.UsageError(refusal)


def mark_snapshot_tests(items: list[pytest.Item]) -> None:
    """Mark every test that compares an SVG, so `-m "not snapshot"` runs the rest anywhere."""
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.snapshot)
