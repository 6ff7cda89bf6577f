"""Only here because cffi's modules cannot be declared in pyproject.toml."""

from setuptools import setup

setup(cffi_modules=["shmtop/core/binding/_build.py:ffibuilder"])
