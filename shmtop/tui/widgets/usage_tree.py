"""The tree view's widget: draws the rows shmtop.text.usage_tree built, nothing more.

A Textual Tree, not a DataTable with indents: the lines are of different sorts (a
process, an object, a blocked thread) that share no columns, and a Tree folds and
unfolds a line (Space), as htop's tree does, and draws the guides. Rebuilt only when the
rows change; what was folded and the cursor's line are kept by the rows' stable keys.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from shmtop.text.usage_tree import TreeRow, UsageTree

# A line's style by its role: theme variables, resolved when drawn.
ROLE_STYLES = {
    "section": ("bold", "primary"), "process": ("bold", None), "owner": ("bold", None),
    "waiter": ("bold", "warning"), "note": ("italic", None),
}  # fmt: skip


class UsageTreeView(Tree[TreeRow]):
    """Processes and owners, folded where the user folded them."""

    # Tree's own keys, with ids and readable descriptions (the help lists only those), and
    # the page and sideways keys it lacks.
    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False, id="tree.up"),
        Binding("down", "cursor_down", "Down", show=False, id="tree.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="tree.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="tree.page_down"),
        Binding("home", "scroll_home", "First line", show=False, id="tree.first"),
        Binding("end", "scroll_end", "Last line", show=False, id="tree.last"),
        Binding("left", "scroll_left", "Scroll left", show=False, id="tree.left"),
        Binding("right", "scroll_right", "Scroll right", show=False, id="tree.right"),
        Binding(
            "space,enter", "toggle_node", "Fold / unfold the line", show=False, id="tree.toggle"
        ),
        Binding(
            "shift+space",
            "toggle_expand_all",
            "Fold / unfold all under it",
            show=False,
            id="tree.toggle_all",
        ),
        Binding(
            "shift+left", "cursor_parent", "To the line above it", show=False, id="tree.parent"
        ),
    ]
    DEFAULT_CSS = """
    UsageTreeView { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("IPC", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.rows: UsageTree | None = None
        self.folded: set[str] = set()  # keys of the lines the user folded

    def process_label(self, label: str | Text) -> Text:
        """Labels are plain text: never read as markup (Tree's default reads a str as it)."""
        return label if isinstance(label, Text) else Text(label)

    def show(self, rows: UsageTree) -> None:
        """Draw these rows (a no-op when they are the ones shown)."""
        if rows == self.rows:
            return
        at = self.cursor_node.data.key if self.cursor_node and self.cursor_node.data else None
        self.rows = rows
        self.clear()
        for section in rows.sections:
            self._add(self.root, section)
        line = self.line_of(at) if at is not None else None
        self.cursor_line = line if line is not None else 0

    def _add(self, parent: TreeNode[TreeRow], row: TreeRow) -> None:
        label = Text(row.label, style=self._style(row.role))
        if not row.children:
            parent.add_leaf(label, row)
            return
        node = parent.add(label, row, expand=row.key not in self.folded)
        for child in row.children:
            self._add(node, child)

    def _style(self, role: str) -> str:
        weight, colour = ROLE_STYLES.get(role, ("", None))
        value = self.app.theme_variables.get(colour) if colour else None
        return f"{weight} {value}".strip() if value else weight

    def line_of(self, key: str) -> int | None:
        """The line a row is drawn on, given what is folded (None: not drawn)."""
        if self.rows is None:
            return None
        line = 0
        stack = list(reversed(self.rows.sections))
        while stack:
            row = stack.pop()
            if row.key == key:
                return line
            line += 1
            if row.key not in self.folded:
                stack.extend(reversed(row.children))
        return None

    def visible_rows(self) -> list[TreeRow]:
        """The rows drawn, in order (what a test reads)."""
        rows = []
        stack = list(reversed(self.rows.sections)) if self.rows else []
        while stack:
            row = stack.pop()
            rows.append(row)
            if row.key not in self.folded:
                stack.extend(reversed(row.children))
        return rows

    @property
    def selected(self) -> TreeRow | None:
        node = self.cursor_node
        return node.data if node is not None else None

    @on(Tree.NodeCollapsed)
    def _folded(self, event: Tree.NodeCollapsed[TreeRow]) -> None:
        if event.node.data is not None:
            self.folded.add(event.node.data.key)

    @on(Tree.NodeExpanded)
    def _unfolded(self, event: Tree.NodeExpanded[TreeRow]) -> None:
        if event.node.data is not None:
            self.folded.discard(event.node.data.key)
