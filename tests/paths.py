"""Where things are, for tests in any level folder: the tests/ folder, the repository, samples."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent  # the shared helpers, conftest.py, samples/
ROOT = TESTS.parent  # the repository: cwd and PYTHONPATH of the commands the tests run
SAMPLES = TESTS / "samples"  # captured /proc text


def sample(name: str) -> str:
    """A captured /proc file from tests/samples (see its README)."""
    return (SAMPLES / name).read_text(encoding="ascii")
