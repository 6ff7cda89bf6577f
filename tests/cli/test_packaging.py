"""What a user of the package relies on: --version, the stale-binary guard, the snapshot pin."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import snapshot_pin
from packaging.requirements import Requirement

import shmtop
from shmtop.core.binding import native

PACKAGE = Path(shmtop.__file__).resolve().parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_version_prints_the_packages_version_and_exits_0() -> None:
    done = run("-m", "shmtop", "--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"shmtop {shmtop.__version__}\n", "")


def test_the_installed_metadata_carries_the_version_the_package_defines() -> None:
    """pyproject reads the version from shmtop.__version__ (defined once)."""
    assert re.fullmatch(r"\d+\.\d+\.\d+", shmtop.__version__)
    assert importlib.metadata.version("shmtop") == shmtop.__version__


def test_the_c_source_defines_the_interface_number_native_py_expects() -> None:
    """The two halves of the guard agree (the compiled module's number is read in the test
    of a stale module below, whose message quotes it)."""
    source = Path(native.__file__).with_name("native_helpers.c").read_text(encoding="utf-8")
    defined = re.findall(r"^#define SHMTOP_NATIVE_ABI (\d+)$", source, re.MULTILINE)
    assert defined == [str(native.NATIVE_ABI)]


@pytest.mark.parametrize("found", [None, native.NATIVE_ABI - 1, native.NATIVE_ABI + 1])
def test_another_interface_number_or_none_is_refused_in_one_line(found: int | None) -> None:
    with pytest.raises(ImportError) as refused:
        native.check_native_abi(found)
    message = str(refused.value)
    assert "\n" not in message
    assert f"interface {found}" in message
    assert "reinstall shmtop" in message


def test_the_row_types_name_as_many_fields_as_the_c_writes() -> None:
    """The import ran the check on the real widths; here the refusal, for a wider C row."""
    native.check_row_widths({native.MsgRow: native.MSG_FIELDS})
    with pytest.raises(ImportError) as refused:
        native.check_row_widths({native.SemRow: native.SEM_FIELDS, native.MsgRow: 17})
    message = str(refused.value)
    assert "\n" not in message
    assert "writes 17 numbers a MsgRow, this shmtop names 16" in message
    assert "reinstall shmtop" in message


def test_a_stale_compiled_module_fails_the_import_loudly(tmp_path: Path) -> None:
    """A checkout whose Python moved on while its compiled module did not: this package's own
    compiled module beside a native.py that expects the next interface number."""
    copy = tmp_path / "shmtop"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    native_py = copy / Path(native.__file__).resolve().relative_to(PACKAGE)
    text = native_py.read_text(encoding="utf-8")
    line = f"NATIVE_ABI = {native.NATIVE_ABI}\n"
    assert text.count(line) == 1
    native_py.write_text(text.replace(line, f"NATIVE_ABI = {native.NATIVE_ABI + 1}\n"), "utf-8")
    probe = (
        "import shmtop, sys\n"
        f"assert shmtop.__file__.startswith({str(tmp_path)!r}), shmtop.__file__\n"
        "try:\n"
        f"    import {native.__name__}\n"
        "except ImportError as error:\n"
        "    sys.exit(str(error))\n"
    )
    done = run("-c", probe, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"shmtop's compiled module is stale (interface {native.NATIVE_ABI}, this shmtop needs "
        f"{native.NATIVE_ABI + 1}): reinstall shmtop (in a checkout: pip install -e . --no-deps)\n"
    )


def test_the_snapshot_pin_lies_in_the_textual_range_the_package_declares() -> None:
    project = tomllib.loads(snapshot_pin.PYPROJECT.read_text(encoding="utf-8"))["project"]
    textual = next(
        requirement
        for requirement in map(Requirement, project["dependencies"])
        if requirement.name == "textual"
    )
    assert snapshot_pin.pinned_textual() in textual.specifier


def test_a_snapshot_update_on_another_textual_is_refused_naming_both_releases() -> None:
    pinned = snapshot_pin.pinned_textual()
    assert snapshot_pin.update_refusal(pinned, pinned) is None
    refusal = snapshot_pin.update_refusal(pinned, "6.2.0")
    assert refusal is not None
    assert f"needs Textual {pinned}" in refusal
    assert "not 6.2.0" in refusal
