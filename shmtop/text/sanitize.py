"""The one sanitiser: untrusted bytes and text become safe to print on a terminal."""

from __future__ import annotations

import unicodedata

# One entry a byte value: printable ASCII as itself, everything else as '.'.
BYTE_TABLE: tuple[str, ...] = tuple(chr(b) if 0x20 <= b < 0x7F else "." for b in range(256))
_BYTES_TO_TEXT = bytes(b if 0x20 <= b < 0x7F else ord(".") for b in range(256))


def safe_bytes(data: bytes) -> str:
    """Bytes as text with every non-printable byte shown as '.' (the hexdump convention)."""
    return data.translate(_BYTES_TO_TEXT).decode("ascii")


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def safe_text(text: str) -> str:
    """Untrusted text (process names, command lines, user and file names) made printable.

    C0 controls show as their Control Picture (ESC as ␛), DEL as ␡; C1 controls,
    format characters (bidi overrides, zero-width) and unassigned or surrogate
    code points as U+FFFD. Nothing that a terminal would act on remains.
    """
    if text.isprintable():  # fast path: no Cc/Cf/Cs/Co/Cn/Zl/Zp characters, no line breaks
        return text
    return "".join(
        char if char == " " or unicodedata.category(char)[0] not in "CZ" or char.isprintable()
        else _visible(char)
        for char in text
    )  # fmt: skip
