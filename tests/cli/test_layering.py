"""The layers hold: cli > tui | demo | exporter | serve > text > core, and the core and text
load no UI library."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

from paths import ROOT

import shmtop.core
import shmtop.text

PACKAGE = ROOT / "shmtop"
# What each layer may not import (a line per arrow the contracts in pyproject.toml forbid).
FORBIDDEN = {
    "core": (
        "shmtop.text",
        "shmtop.cli",
        "shmtop.tui",
        "shmtop.demo",
        "shmtop.exporter",
        "shmtop.serve",
        "textual",
        "rich",
    ),
    "text": (
        "shmtop.cli",
        "shmtop.tui",
        "shmtop.demo",
        "shmtop.exporter",
        "shmtop.serve",
        "textual",
        "rich",
    ),
    "tui": ("shmtop.cli", "shmtop.demo", "shmtop.exporter", "shmtop.serve"),
    "demo": ("shmtop.cli", "shmtop.tui", "shmtop.exporter", "shmtop.serve"),
    "exporter": ("shmtop.cli", "shmtop.tui", "shmtop.demo", "shmtop.serve", "textual", "rich"),
    # The browser view runs the TUI as a command (a process a session), never imports it.
    "serve": ("shmtop.cli", "shmtop.tui", "shmtop.demo", "shmtop.exporter", "textual"),
}
IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)
NATIVE = re.compile(
    r"^\s*(?:from\s+\S*\b_native\s+import|from\s+\S+\s+import\s.*\b_native\b|import\s+\S*\b_native\b)",
    re.M,
)


def modules_of(package: object, prefix: str) -> list[str]:
    path = package.__path__  # type: ignore[attr-defined]
    return sorted(m.name for m in pkgutil.walk_packages(path, prefix) if "._build" not in m.name)


def test_the_layers_modules_are_found() -> None:
    core = modules_of(shmtop.core, "shmtop.core.")
    text = modules_of(shmtop.text, "shmtop.text.")
    assert {"shmtop.core.snapshot.collect", "shmtop.core.binding.native"} <= set(core)
    assert {"shmtop.text.report", "shmtop.text.sanitize"} <= set(text)


def test_the_import_contracts_are_kept() -> None:
    """lint-imports (import-linter) checks every import, direct or through others."""
    linter = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
    assert run.stdout.count(" KEPT") == 8, run.stdout  # no contract went missing


def test_no_source_of_a_layer_imports_a_layer_above_it() -> None:
    """The same arrows read off the sources, imports inside functions included."""
    for layer, forbidden in FORBIDDEN.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            for match in IMPORT.finditer(path.read_text(encoding="utf-8")):
                name = match[1] or match[2]
                bad = [f for f in forbidden if name == f or name.startswith(f + ".")]
                assert not bad, f"{path.relative_to(ROOT)} imports {name} ({layer} -> {bad[0]})"


def test_importing_the_core_text_and_commands_loads_no_ui_library() -> None:
    modules = [
        *modules_of(shmtop.core, "shmtop.core."),
        *modules_of(shmtop.text, "shmtop.text."),
        "shmtop.cli",
        "shmtop.cli.debug",
        "shmtop.demo.workload",
    ]
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


def test_only_native_py_imports_the_compiled_module() -> None:
    importers = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if NATIVE.search(path.read_text(encoding="utf-8"))
    ]
    assert importers == ["core/binding/native.py"]


def test_only_the_cli_hook_imports_the_exporter_and_the_commands_load_no_prometheus_client() -> (
    None
):
    importers = sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "exporter" not in path.relative_to(PACKAGE).parts[:1]
        for match in IMPORT.finditer(path.read_text(encoding="utf-8"))
        if (match[1] or match[2]).startswith("shmtop.exporter")
    )
    assert set(importers) == {"cli/exporter_hook.py"}
    code = (
        "import sys\n"
        "from shmtop.cli.commands import build_parser\n"
        "build_parser().parse_args(['exporter', '--max-objects', '5'])\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('prometheus_client'))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "", f"loaded by the parser: {run.stdout.strip()}"
