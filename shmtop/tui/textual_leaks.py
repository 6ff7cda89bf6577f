"""Work-arounds for two Textual leaks that grow a long-running view without bound.

- The Footer keeps every key widget it ever made: see shmtop.tui.widgets.footer
  (Textual issue #6666).
- ``StylesCache.get_inner_outer`` is an ``lru_cache`` on an instance method, so its
  1024 entries hold whole StylesCache objects, each with every line its widget last
  rendered, long after the widget is gone (Textual issue #6665): each segment view
  opened kept about 1 MB. Emptying that cache now and then frees them; its entries
  are two Style objects a colour pair, made again in microseconds.

The second reaches into a private Textual module (there is no public way to it);
if a Textual version moves it, this does nothing and tests/tui/test_memory.py says so.
So does forget_closed_watchers (the footer's prune, without the cost of the public way).
"""

from __future__ import annotations

from collections.abc import Callable

try:
    from textual._styles_cache import StylesCache
except ImportError:  # pragma: no cover - a Textual without the module
    StylesCache = None  # type: ignore[assignment,misc]


def _find_clear() -> Callable[[], None] | None:
    cached = getattr(StylesCache, "get_inner_outer", None) if StylesCache is not None else None
    clear = getattr(cached, "cache_clear", None)
    return clear if callable(clear) else None


_CLEAR = _find_clear()


def available() -> bool:
    """Whether the StylesCache work-around found what it empties."""
    return _CLEAR is not None


def release_styles_caches() -> None:
    """Let go of the StylesCache objects (and their rendered lines) Textual's lru_cache holds."""
    if _CLEAR is not None:
        _CLEAR()


def forget_closed_watchers(node: object, name: str) -> bool:
    """Drop the watchers of reactive `name` that closed widgets left on node, as Textual
    itself does only when the value changes (Reactive._check_watchers), without calling the
    live ones (mutate_reactive would: a style update of each footer key, ~5 ms a key on the
    loaded machine, at every recompose). False if this Textual keeps them elsewhere."""
    watchers = getattr(node, "__watchers", None)
    if not isinstance(watchers, dict):
        return False
    entries = watchers.get(name, [])
    if not all(hasattr(reactable, "_closing") for reactable, _callback in entries):
        return False
    entries[:] = [(reactable, callback) for reactable, callback in entries
                  if not reactable._closing]  # fmt: skip
    return True
