"""The compiled module's type stub (_native.pyi) says what it has: names, arities, fields."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT

from shmtop.core.binding import _native as compiled
from shmtop.core.binding import native

STUB = Path(native.__file__).with_name("_native.pyi")
TREE = ast.parse(STUB.read_text(encoding="utf-8"))
CLASSES = {node.name: node for node in TREE.body if isinstance(node, ast.ClassDef)}
# The struct each stub class stands for, and the cdecl ffi.new returns it for.
STRUCTS = {
    "_IpcPerm": "struct ipc_perm", "_ShmidDs": "struct shmid_ds",
    "_ShmInfoLimits": "struct shminfo", "_ShmInfoUsage": "struct shm_info",
    "_SemidDs": "struct semid_ds", "_SemInfo": "struct seminfo", "_Sembuf": "struct sembuf",
    "_Timespec": "struct timespec", "_MsqidDs": "struct msqid_ds", "_MsgInfo": "struct msginfo",
}  # fmt: skip


def fields(name: str) -> list[str]:
    return [
        node.target.id
        for node in CLASSES[name].body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    ]


def methods(name: str) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in CLASSES[name].body if isinstance(node, ast.FunctionDef)}


def test_the_stub_names_every_function_and_constant_of_the_module_and_no_other() -> None:
    assert sorted([*fields("_Lib"), *methods("_Lib")]) == sorted(dir(compiled.lib))


@pytest.mark.parametrize("name", sorted(dir(compiled.lib)))
def test_each_stub_signature_has_the_c_arity_and_each_constant_is_an_int(name: str) -> None:
    value = getattr(compiled.lib, name)
    if isinstance(value, int):
        assert name in fields("_Lib")
        return
    method = methods("_Lib")[name]
    assert method.args.posonlyargs[0].arg == "self"
    assert len(method.args.posonlyargs) - 1 == len(compiled.ffi.typeof(value).args)


@pytest.mark.parametrize("stub_class", sorted(STRUCTS))
def test_each_stub_struct_has_only_fields_the_c_struct_has(stub_class: str) -> None:
    c_fields = {field for field, _ in compiled.ffi.typeof(STRUCTS[stub_class]).fields}
    assert fields(stub_class)
    assert set(fields(stub_class)) <= c_fields


def test_mypy_sees_the_stub_a_misspelt_field_or_a_missing_argument_fails(tmp_path: Path) -> None:
    """Without the stub (or with ignore_missing_imports) the module is Any: no errors."""
    program = (
        "from shmtop.core.binding._native import ffi, lib\n"
        "ds = ffi.new('struct shmid_ds *')\n"
        "lib.shmctl(0, lib.IPC_STAT, ds)\n"
        "print(ds.shm_nattch + 1)\n"
        "print(ds.shm_natch)\n"
        "lib.shmget(0, 0)\n"
    )
    config = tmp_path / "mypy.ini"  # not pyproject's: its `files` excludes -c
    config.write_text("[mypy]\n", encoding="ascii")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--strict",
         "--no-incremental", "-c", program],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["5", "6"], done.stdout
    assert '"_ShmidDs" has no attribute "shm_natch"' in errors[0]
    assert 'Too few arguments for "shmget"' in errors[1]
