"""The lines of list -A that name namespaces: untrusted hostnames never reach a terminal raw."""

from __future__ import annotations

from shmtop.text.errors import namespaces_denied, namespaces_partial, no_such_namespace
from shmtop.text.namespace_table import namespace_label, refusal_lines, rows_across

HOSTILE = "box\x1b[2J\x1b]0;pwned\x07\u202e"


def test_a_hostname_is_sanitised_in_labels_and_the_ns_column() -> None:
    label = namespace_label(HOSTILE, 4026532190)
    assert "\x1b" not in label and "\x07" not in label and "\u202e" not in label
    assert label.endswith("(ipc:[4026532190])")
    lines = rows_across(["NAME"], [(HOSTILE, [["/a"]]), ("web", [["/b"], ["/c"]])], with_ns=True)
    assert lines[0].split() == ["NS", "NAME"]
    assert [line.split()[-1] for line in lines[1:]] == ["/a", "/b", "/c"]
    assert all("\x1b" not in line for line in lines)


def test_a_namespace_named_by_its_inode_is_not_named_twice() -> None:
    assert namespace_label("ipc:[7]", 7) == "ipc:[7]"
    assert rows_across(["ID"], [("ipc:[7]", [["0"]])], with_ns=False) == ["ID", "0"]


def test_refusals_and_unplaced_processes_are_one_line_each() -> None:
    lines = refusal_lines([("web", 9, "its processes ended")], {"permission denied": 2})
    assert lines == [
        "IPC namespace web (ipc:[9]) not read: its processes ended",
        "processes whose IPC namespace could not be told: 2 permission denied",
    ]
    assert refusal_lines([], {}) == []


def test_the_errors_say_what_it_takes() -> None:
    line = namespaces_denied(3, 0)
    assert line.startswith("permission denied (3 processes' IPC namespace unreadable)")
    assert "root" in line and "CAP_SYS_ADMIN" in line
    unknown = no_such_namespace("x\x1b")
    assert "\x1b" not in unknown and "'x\u241b'" in unknown


def test_the_partial_line_names_what_was_shown_and_counts_the_rest() -> None:
    one = namespaces_partial(["ipc:[5]"], 1, 1)
    assert one.startswith("-A: only IPC namespace ipc:[5] shown; permission denied (1 process's")
    assert "IPC namespace unreadable, 1 namespace not joinable)" in one and "root" in one
    assert namespaces_partial(["a", "b"], 0, 2).startswith(
        "-A: only 2 IPC namespaces shown; permission denied (2 namespaces not joinable)"
    )
