"""The binding: the cffi build, the C helpers, and native.py, the only importer of _native."""
