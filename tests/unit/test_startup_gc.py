"""The view's start-up pause of the cycle collector: off until the first frame, then back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shmtop.tui.startup_gc import StartupCollector


@pytest.fixture
def collector_state() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    if was:
        gc.enable()
    else:
        gc.disable()


def test_paused_until_the_heap_is_frozen_then_collecting_again(collector_state: None) -> None:
    gc.enable()
    startup = StartupCollector()
    startup.pause()
    assert not gc.isenabled()
    startup.freeze_heap()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    startup.resume()  # once only: a second resume changes nothing
    assert gc.isenabled()


def test_an_app_that_ends_first_turns_it_back_on(collector_state: None) -> None:
    gc.enable()
    startup = StartupCollector()
    startup.pause()
    startup.resume()
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off(collector_state: None) -> None:
    gc.disable()
    startup = StartupCollector()
    startup.pause()
    startup.freeze_heap()
    assert not gc.isenabled()
