"""Naming a process (shmtop.text.process_names): the name, the title when it says more, cut to
fit, sanitised; the label of a pid that is gone or none."""

from __future__ import annotations

from shmtop.text.process_names import process_label, process_name


def test_a_name_is_shown_with_the_title_only_when_it_says_more() -> None:
    assert process_name("postgres", "postgres: checkpointer") == "postgres: checkpointer"
    assert process_name("postgres", None) == "postgres"
    assert process_name("sleep", "/usr/bin/sleep") == "sleep", "only a path: nothing more"
    assert process_name("sleep", "/usr/bin/sleep 60") == "sleep 60"
    assert process_name("shmtop", "/venv/bin/python3 /venv/bin/shmtop demo") == "shmtop demo"
    assert process_name("gunicorn: maste", "gunicorn: master [app]") == "gunicorn: master [app]"
    # A process that named itself: the name it chose, not the line that started it.
    assert process_name("demo-reader", "/usr/bin/python3 -m shmtop demo") == "demo-reader"
    assert process_name("ev\x1b[41mil", "/usr/bin/python3 x") == "ev␛[41mil"
    assert process_name("postgres", "postgres: background writer", 20) == "postgres: backgroun…"
    assert process_label(4123, "postgres", "postgres: checkpointer") == (
        "4123 (postgres: checkpointer)"
    )
    assert process_label(4123, None, None) == "4123 (gone)"
    assert process_label(0, "x", "y") == "-"
