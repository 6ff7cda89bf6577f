"""The interactive view's -A and --namespace: their usage errors come before the view
starts (off a terminal too), in the words `list` uses."""

from __future__ import annotations

import os

import hidden
import pytest


def shmtop(*args: str) -> hidden.Result:
    return hidden.run(args, nobody=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="the census of namespaces reads every process")
def test_an_unknown_namespace_and_A_with_namespace_are_refused_before_the_view() -> None:
    done = shmtop("--namespace", "no-such-namespace-here")
    assert done.code == 1 and "no IPC namespace 'no-such-namespace-here'" in done.stderr
    assert "terminal" not in done.stderr
    both = shmtop("-A", "--namespace", "x")
    assert both.code == 2 and "not both" in both.stderr


def test_A_off_a_terminal_says_the_view_needs_one() -> None:
    done = shmtop("-A")
    assert done.code == 2 and "the interactive view needs a terminal" in done.stderr
