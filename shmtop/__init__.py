"""shmtop: an htop for Linux System V IPC (shared memory, semaphores, message queues)."""

__version__ = "0.1.0"


def _import_msgspec_lean() -> None:
    """Import msgspec without typing_extensions, which it prefers only for get_type_hints
    (typing's does the same for shmtop's types on 3.11+) and which costs a one-shot command
    a third of its imports (it imports inspect, ast and tokenize). Only here, first:
    whatever imports typing_extensions later (Textual) gets the real one."""
    import sys

    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        return
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # ImportError for msgspec
    try:
        import msgspec  # noqa: F401
    finally:
        del sys.modules["typing_extensions"]


_import_msgspec_lean()
