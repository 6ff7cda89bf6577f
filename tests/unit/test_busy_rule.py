"""The busy rule: changed in most of the last refreshes (headless)."""

from __future__ import annotations

from shmtop.core.busy import BUSY_WINDOW, Activity


def test_changed_at_every_refresh_is_busy() -> None:
    activity = Activity()
    for _ in range(BUSY_WINDOW):
        activity.observe([1])
    assert activity.busy(1)
    assert activity.changes(1) == BUSY_WINDOW


def test_a_one_off_change_is_not_busy() -> None:
    activity = Activity()
    activity.observe([1])
    for _ in range(3):
        activity.observe([])
    assert not activity.busy(1)
    assert activity.changes(1) == 1


def test_busy_takes_more_than_half_of_the_window() -> None:
    activity = Activity(window=10)
    for refresh in range(10):
        activity.observe([1] if refresh % 2 == 1 else [])  # 5 of 10: half is not most
    assert not activity.busy(1)
    activity.observe([1])  # the window now holds 6 changes of 10
    assert activity.busy(1)


def test_busy_ends_once_it_calms_down() -> None:
    activity = Activity(window=10)
    for _ in range(10):
        activity.observe([1])
    for _ in range(4):
        activity.observe([])
    assert activity.busy(1)  # 6 of the last 10 still changed
    activity.observe([])
    assert not activity.busy(1)
    for _ in range(5):
        activity.observe([])
    assert len(activity) == 0  # quiet for a whole window: forgotten


def test_gone_objects_are_forgotten() -> None:
    activity = Activity()
    for _ in range(BUSY_WINDOW):
        activity.observe([1, 2])
    activity.forget([2])
    assert activity.busy(1) and not activity.busy(2)
    assert len(activity) == 1
