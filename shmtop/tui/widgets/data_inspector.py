"""The data inspector: what the bytes at the cursor mean as numbers, a C string and a date."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from shmtop.text.inspect_values import decode


class DataInspector(Static):
    """Little- and big-endian readings of the bytes at one offset (built as Text, no markup)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "data-inspector--title", "data-inspector--name", "data-inspector--value",
        "data-inspector--muted",
    }  # fmt: skip
    DEFAULT_CSS = """
    DataInspector {
        width: 1fr;
        min-width: 56;  /* a u64 and its big-endian reading on one line */
        height: 1fr;
        padding: 0 1;
        background: $panel;
        border-left: vkey $primary 40%;
    }
    DataInspector > .data-inspector--title { color: $text-accent; text-style: bold; }
    DataInspector > .data-inspector--name { color: $text-secondary; }
    DataInspector > .data-inspector--value { color: $foreground; }
    DataInspector > .data-inspector--muted { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.offset_shown: int | None = None
        self.data_shown = b""

    def show(self, offset: int, data: bytes) -> None:
        """Show the readings of data, the bytes from offset on."""
        if offset == self.offset_shown and data == self.data_shown:
            return
        self.offset_shown, self.data_shown = offset, data
        self.update(self.describe(offset, data), layout=False)  # fixed size

    def describe(self, offset: int, data: bytes) -> Text:
        style = self.get_component_rich_style
        title, name = style("data-inspector--title"), style("data-inspector--name")
        value, muted = style("data-inspector--value"), style("data-inspector--muted")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"at {offset:#x} ({offset})\n", title)
        text.append(f"{'':7} {'little-endian':<24} big-endian\n", muted)
        for reading in decode(data):
            text.append(f"{reading.name:<7} ", name)
            if reading.name == "cstring":
                text.append(reading.little + "\n", value)
                continue
            text.append(f"{reading.little:<24} ", value)
            text.append(reading.big + "\n", value if reading.big != reading.little else muted)
        text.rstrip()
        return text
