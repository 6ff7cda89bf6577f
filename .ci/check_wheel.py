"""Check a built wheel: one abi3 tag, and the files a user of the package needs inside."""

from __future__ import annotations

import sys
import zipfile
from fnmatch import fnmatchcase

TAG = "cp311-abi3-linux_x86_64"


def problems(wheel: str) -> list[str]:
    """What is wrong with the wheel at this path (an empty list when nothing is)."""
    found: list[str] = []
    if not wheel.endswith(f"-{TAG}.whl"):
        found.append(f"file name is not tagged {TAG}")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(name for name in names if fnmatchcase(name, "*.dist-info/WHEEL"))
        tags = [
            line.removeprefix("Tag: ")
            for line in archive.read(info).decode().splitlines()
            if line.startswith("Tag: ")
        ]
    if tags != [TAG]:
        found.append(f"WHEEL tags are {tags}, not [{TAG!r}]")
    # fnmatch's * also matches "/": these hold wherever the package's folders move.
    wanted = {
        "the compiled abi3 module": "shmtop/*/_native.abi3.so",
        "py.typed": "shmtop/py.typed",
        "the compiled module's type stub": "shmtop/*/_native.pyi",
        "the C helpers (package data)": "shmtop/*/native_helpers.c",
        "the POSIX C helpers (package data)": "shmtop/*/posix_helpers.c",
        "the screens' CSS": "shmtop/*/*.tcss",
        "LICENSE": "*.dist-info/licenses/LICENSE",
    }
    for what, pattern in wanted.items():
        if not any(fnmatchcase(name, pattern) for name in names):
            found.append(f"no {what} ({pattern})")
    if any(name.endswith(".cpython-311-x86_64-linux-gnu.so") for name in names):
        found.append("holds a version-specific extension module")
    return found


if __name__ == "__main__":
    (path,) = sys.argv[1:]
    wrong = problems(path)
    for line in wrong:
        print(f"check_wheel: {path}: {line}", file=sys.stderr)
    if not wrong:
        print(f"check_wheel: {path}: tagged {TAG}, py.typed, LICENSE and data inside")
    sys.exit(1 if wrong else 0)
