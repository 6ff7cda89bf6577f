"""The help screen: the keys of the screen it was opened over, and what that screen's words mean.

The keys come from the screen's active bindings (their descriptions are the one
source of what a key does); the rest from the screen's `help_topics()` (status
words and columns come from shmtop.text.glossary, the filter language from here).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from shmtop.text.glossary import described_lines
from shmtop.tui.keys import key_name

FILTER_HELP = """\
Terms, separated by spaces; all must hold:
  free words       id, key, owner, attached pids, commands and titles
  user:NAME|UID    the owner           key:0x1234    perms:600 (= 0600)
  id:N  nattch:N   id, attach count    pid:N  attached, creator or last
  size:N           4k, 1M... (a queue: its bytes queued)
  age:1h           untouched that long (attach, detach, op, change)
  comparisons      id nattch size age perms take > < >= <= =
                   nattch:>0  size:>1M  age:>1h  perms:>=640
  cmd:TEXT         an attached command or title contains TEXT
  ns:NAME|INODE    in that IPC namespace (A shows every one)
  a status word    dest, orphan, locked... (see Status words)
  !term            negates a term, e.g. !orphan
A name: no field has is refused; the status line lists the valid ones.
A filter that hides every row says so where the rows were.
Search (/) takes the same terms and marks its words in the rows:
  n or F3 the next match, N the previous, round the ends (it says so).
T tags every row shown (all the filter keeps); d removes them, listed.
Escape in the filter box clears the filter; Escape ends the search."""

Topic = tuple[str, list[str]]
KEY_WIDTH = 18


def key_lines(screen: Screen[Any]) -> list[Topic]:
    """The keys that act on a screen, grouped by who answers them: the widget with the
    focus, the screen, then the whole app; one line a binding, all its keys named."""
    groups: dict[DOMNode, dict[tuple[str, str], list[str]]] = {}
    taken: set[str] = set()  # keys an earlier (nearer) binding answers
    for node, bindings in screen._modal_binding_chain:  # the order Textual tries them in
        for key, binding in bindings:
            if not binding.description or binding.system or binding.id is None:
                continue  # Textual's own (focus, copy): every shmtop binding has an id
            if key in taken or screen.app._check_action_state(binding.action, node) is False:
                continue
            taken.add(key)
            group = groups.setdefault(node, {})
            group.setdefault((binding.action, binding.description), []).append(key_name(key))
    topics = []
    for node, described in groups.items():
        title = "Everywhere" if node is screen.app else (
            "This screen" if node is screen else "Moving")  # fmt: skip
        pairs = [("  ".join(keys), what) for (_, what), keys in described.items()]
        topics.append((title, described_lines(pairs, width=KEY_WIDTH)))
    order = {"Moving": 0, "This screen": 1, "Everywhere": 2}
    return sorted(topics, key=lambda topic: order[topic[0]])


class HelpScreen(ModalScreen[None]):
    """Scrolls when it does not fit; any of its keys closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100%; max-width: 104; height: 100%; max-height: 50;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-align: center; border-subtitle-align: center;
    }
    HelpScreen #help-text { text-wrap: nowrap; }  /* wrapped already, indents kept */
    """

    def __init__(self, title: str, topics: list[Topic]) -> None:
        super().__init__()
        self.title_text = title
        self.topics = topics

    @classmethod
    def of(cls, screen: Screen[Any]) -> HelpScreen:
        """The help of a screen: its keys, then its topics."""
        topics = key_lines(screen)
        extra = getattr(screen, "help_topics", None)
        if callable(extra):
            topics += extra()
        return cls(str(getattr(screen, "HELP_TITLE", "shmtop")), topics)

    @property
    def text(self) -> str:
        lines: list[str] = []
        for title, body in self.topics:
            lines += [title + ":", *body, ""]
        return "\n".join(lines).rstrip()

    def compose(self) -> ComposeResult:
        scroll = VerticalScroll()
        scroll.border_title = f"Help: {self.title_text}"
        scroll.border_subtitle = "↑↓ PgUp PgDn scroll · Esc, q or ? closes"
        with scroll:
            yield Static(Text(self.text), id="help-text")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
