"""Only here because cffi's modules cannot be declared in pyproject.toml."""

from setuptools import setup

setup(
    cffi_modules=["shmtop/core/binding/_build.py:ffibuilder"],
    # The module uses only the stable ABI (_build.py: py_limited_api): one wheel for 3.11+.
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
