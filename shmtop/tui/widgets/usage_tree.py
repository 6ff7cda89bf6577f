"""The tree view's widget: draws the rows shmtop.text.usage_tree built, nothing more.

A Textual Tree, not a DataTable with indents: the lines are of different sorts (a
process, an object, a blocked thread) that share no columns, and a Tree folds and
unfolds a line (Space), as htop's tree does, and draws the guides; Enter on an object's
line asks the screen to open that object's view. Each refresh relabels the lines in place
where the rows kept their order; what was folded and the cursor's line are kept by the
rows' stable keys.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from shmtop.text.usage_tree import TreeRow, UsageTree

# A line's style by its role: theme variables, resolved when drawn.
OPEN_LIMIT = 2000  # rows; a bigger tree opens folded to its processes and owners
ROLE_STYLES = {
    "section": ("bold", "primary"), "process": ("bold", None), "owner": ("bold", None),
    "waiter": ("bold", "warning"), "note": ("italic", None),
}  # fmt: skip


class UsageTreeView(Tree[TreeRow]):
    """Processes and owners, folded where the user folded them."""

    class OpenLine(Message):
        """Enter on a line that is (or is about) an object: open that object's view."""

        def __init__(self, row: TreeRow) -> None:
            super().__init__()
            self.row = row

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
        # Short words: at 80 columns the footer keeps room for the screen's keys and Quit.
        Binding("enter", "open_line", "Open", id="tree.open"),
        Binding("space", "toggle_node", "Fold", id="tree.toggle"),
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
        self.unfolded: set[str] = set()  # and unfolded (in a big tree, folded at first)
        self.open_all = True  # a small tree opens every line, a big one its sections only
        self._styles: dict[str, str] = {}

    def process_label(self, label: str | Text) -> Text:
        """Labels are plain text: never read as markup (Tree's default reads a str as it)."""
        return label if isinstance(label, Text) else Text(label)

    def is_open(self, row: TreeRow) -> bool:
        """Whether a line with lines under it shows them."""
        if row.key in self.folded:
            return False
        return row.key in self.unfolded or self.open_all or row.role == "section"

    def show(self, rows: UsageTree) -> None:
        """Draw these rows: only the lines that changed, the cursor kept on its row.

        Lines under a folded one are made only when it is unfolded (a tree of 1000
        processes has tens of thousands of lines: Tree makes each in about 0.1 ms)."""
        if rows == self.rows:
            return
        at = self.selected.key if self.selected is not None else None
        self.rows = rows
        self.open_all = rows.size <= OPEN_LIMIT
        self._styles = {role: self._style(role) for role in ROLE_STYLES}
        self._sync(self.root, rows.sections)
        line = self.line_of(at) if at is not None else None
        self.cursor_line = line if line is not None else max(self.cursor_line, 0)

    def _sync(self, node: TreeNode[TreeRow], rows: tuple[TreeRow, ...]) -> None:
        """Make node's lines these rows: relabel in place when the same rows are there in the
        same order (the usual refresh), else make them anew."""
        kids = list(node.children)
        if [k.data.key if k.data else None for k in kids] != [r.key for r in rows]:
            node.remove_children()
            for row in rows:
                self._add(node, row)
            return
        for kid, row in zip(kids, rows, strict=True):
            old = kid.data
            kid.data = row
            if old is None or old.label != row.label or old.role != row.role:
                kid.set_label(self._label(row))
            kid.allow_expand = bool(row.children)
            if not row.children:
                if kid.children:
                    kid.remove_children()
                continue
            opened = self.is_open(row)
            if opened != kid.is_expanded:  # the tree crossed OPEN_LIMIT
                kid.expand() if opened else kid.collapse()
            if opened:
                self._sync(kid, row.children)

    def _label(self, row: TreeRow) -> Text:
        return Text(row.label, style=self._styles.get(row.role, ""))

    def _add(self, parent: TreeNode[TreeRow], row: TreeRow) -> None:
        if not row.children:
            parent.add_leaf(self._label(row), row)
            return
        opened = self.is_open(row)
        node = parent.add(self._label(row), row, expand=opened)
        if opened:
            for child in row.children:
                self._add(node, child)

    def _style(self, role: str) -> str:
        weight, colour = ROLE_STYLES.get(role, ("", None))
        value = self.app.theme_variables.get(colour) if colour else None
        return f"{weight} {value}".strip() if value else weight

    def line_of(self, key: str) -> int | None:
        """The line a row is drawn on, given what is folded (None: not drawn)."""
        for line, row in enumerate(self.visible_rows()):
            if row.key == key:
                return line
        return None

    def visible_rows(self) -> list[TreeRow]:
        """The rows drawn, in order (what a test reads)."""
        rows = []
        stack = list(reversed(self.rows.sections)) if self.rows else []
        while stack:
            row = stack.pop()
            rows.append(row)
            if row.children and self.is_open(row):
                stack.extend(reversed(row.children))
        return rows

    def action_open_line(self) -> None:
        """Enter: an object's line (or a line about one: its attacher, its waiter) opens the
        object; a process, an owner or a section folds or unfolds, as Space does."""
        row = self.selected
        if row is None:
            return
        if (row.kind is not None and row.ident is not None) or row.posix is not None:
            self.post_message(self.OpenLine(row))
        elif row.children:
            self.action_toggle_node()

    @property
    def selected(self) -> TreeRow | None:
        node = self.cursor_node
        return node.data if node is not None else None

    @on(Tree.NodeCollapsed)
    def _folded(self, event: Tree.NodeCollapsed[TreeRow]) -> None:
        if event.node.data is not None:
            self.folded.add(event.node.data.key)
            self.unfolded.discard(event.node.data.key)

    @on(Tree.NodeExpanded)
    def _unfolded(self, event: Tree.NodeExpanded[TreeRow]) -> None:
        """Unfolded: its lines are made now (a folded line's were not)."""
        row = event.node.data
        if row is not None:
            self.folded.discard(row.key)
            self.unfolded.add(row.key)
            self._sync(event.node, row.children)
