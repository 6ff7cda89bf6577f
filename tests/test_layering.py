"""The headless core never depends on the UI: shmtop.core imports no textual and no rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import shmtop.core

ROOT = Path(__file__).resolve().parent.parent
HEADLESS = (
    "shmtop.ipc",
    "shmtop.cli.commands",
    "shmtop.text.report",
    "shmtop.demo.workload",
    "shmtop.text.sanitize",
)


def core_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(shmtop.core.__path__, "shmtop.core.")]
    return sorted(n for n in names if not n.endswith("._build"))


def test_the_core_modules_are_found() -> None:
    found = core_modules()
    assert {
        "shmtop.core.snapshot.collect",
        "shmtop.core.binding.native",
        "shmtop.core.model",
    } <= set(found)


def test_importing_the_core_and_the_commands_loads_no_ui_library() -> None:
    modules = [*core_modules(), *HEADLESS[1:]]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "ui = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(ui))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "", f"UI modules loaded: {run.stdout.strip()}"


def test_no_core_source_mentions_the_ui() -> None:
    for path in (ROOT / "shmtop" / "core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("import textual", "from textual", "import rich", "from rich", "shmtop.tui"):
            assert word not in text, f"{path.name} mentions {word!r}"
