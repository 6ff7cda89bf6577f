"""The filter language of the view (shmtop.text.filtering) on a fixed snapshot.

fake_source.fixed_snapshot(): segments 32768 (postgres, two attachers with titles),
32769 (app, 640, key 0x1234, attachers producer and consumer), 32770 (app, removed:
dest), 32771 (nobody, unattached, creator gone: an orphan); sets 65536 (app, key
0x1234, a waiter), 65537 (postgres), 65538 (root, unreadable); queues 98304 (app,
used by 4300 and 4301) and 98305 (app, never used).
"""

from __future__ import annotations

import pytest
from fake_source import fixed_snapshot

from shmtop.core.model import IpcObject, Owner
from shmtop.text.filtering import owner_matches, parse_filter

SNAPSHOT = fixed_snapshot()
OBJECTS: tuple[IpcObject, ...] = (*SNAPSHOT.segments, *SNAPSHOT.semaphore_sets, *SNAPSHOT.queues)
EVERY = {o.id for o in OBJECTS}


def matching(expression: str) -> set[int]:
    """The ids of every object (of any kind) the filter keeps."""
    keep = parse_filter(expression)
    return {o.id for o in OBJECTS if keep(o, SNAPSHOT)}


def test_an_empty_filter_is_inactive_and_keeps_everything() -> None:
    for expression in ("", "   ", "\t"):
        keep = parse_filter(expression)
        assert not keep.active and keep.expression == ""
        assert matching(expression) == EVERY
    assert parse_filter("  user:app  ").expression == "user:app"


@pytest.mark.parametrize(
    ("expression", "ids"),
    [("user:app", {32769, 32770, 65536, 98304, 98305}),
     ("user:APP", {32769, 32770, 65536, 98304, 98305}),
     ("user:1001", EVERY),  # every owner of the fixed snapshot has uid 1001
     ("user:nobody", {32771}),
     ("user:app2", set()),
     ("user:\u0661\u0660\u0660\u0661", set())],  # ARABIC-INDIC digits are no uid
)  # fmt: skip
def test_user_matches_the_owner_name_in_any_case_or_the_uid(expression: str, ids: set[int]) -> None:
    assert matching(expression) == ids


def test_owner_matching_is_the_one_rule_of_the_view_and_of_list_user() -> None:
    owner = Owner(0, 1001, 1001, 1001, 1001, 0o600, "Postgres", "pg", "postgres", "pg")
    assert owner_matches(owner, "postgres") and owner_matches(owner, "POSTGRES")
    assert owner_matches(owner, "1001") and not owner_matches(owner, "1002")
    assert not owner_matches(owner, "post") and not owner_matches(owner, "+1001")


@pytest.mark.parametrize(
    ("expression", "ids"),
    [("key:0x1234", {32769, 65536}), ("key:4660", {32769, 65536}), ("key:0o11064", {32769, 65536}),
     ("key:0x0052e2c1", {32768}), ("key:0", {32770, 32771, 65538, 98305}),
     ("key:-1", set()), ("key:0x100001234", set()), ("key:zz", set()), ("key:01234", set()),
     ("id:32769", {32769}), ("id:0x8001", {32769}), ("id:98305", {98305}), ("id:1", set()),
     ("nattch:2", {32768, 32769}), ("nattch:0", {32771}), ("perms:640", {32769}),
     ("perms:600", EVERY - {32769}), ("perms:6", set()),
     ("pid:4301", {32769, 65536, 98304}), ("pid:4100", {32768, 65537}), ("pid:3999", {32771}),
     ("cmd:pg-worker", {32768}), ("cmd:parallel", {32768}), ("cmd:consumer", {32769}),
     ("cmd:nothing", set())],
)  # fmt: skip
def test_field_terms(expression: str, ids: set[int]) -> None:
    assert matching(expression) == ids


def test_a_key_is_never_matched_by_its_low_32_bits() -> None:
    assert matching("key:0x100001234") == set() and matching("!key:0x100001234") == EVERY


def test_pid_0_names_no_process() -> None:
    # 0 is "no one" (a queue never sent to, a semaphore never changed): not a process.
    assert matching("pid:0") == set()


@pytest.mark.parametrize(
    ("expression", "ids"),
    [("dest", {32770}), ("locked", set()), ("attached", {32768, 32769, 32770}),
     ("unreadable", {65538}), ("waiting", {65536}), ("orphan", {32771}),
     ("unattached", set()), ("unused", set()), ("partial", set()), ("inconsistent", set())],
)  # fmt: skip
def test_flags(expression: str, ids: set[int]) -> None:
    assert matching(expression) == ids


def test_a_bang_negates_any_term_and_terms_all_hold() -> None:
    assert matching("!dest") == EVERY - {32770}
    assert matching("!user:app") == EVERY - matching("user:app")
    assert matching("user:app attached") == {32769, 32770}
    assert matching("user:app attached !dest") == {32769}
    assert matching("user:app !user:app") == set()
    assert matching("!") == set()  # a lone "!" is a word to look for, not a negation


def test_free_words_look_in_id_key_owner_and_attached_commands_and_titles() -> None:
    assert matching("postgres") == {32768, 65537}
    assert matching("POSTGRES") == {32768, 65537}
    assert matching("checkpointer") == set()
    assert matching("srv/pg") == {32768}  # in the postmaster's title
    assert matching("0x00001234") == {32769, 65536}
    assert matching("producer") == {32769, 32770}
    assert matching("3276") == {32768, 32769}
    assert matching("327") == {32768, 32769, 32770, 32771}
    assert matching("user:nosuch:x") == set()  # an unknown field is a word: no match
    assert matching("size:4096") == set()


def test_only_the_orphan_rule_s_words_make_a_filter_change_with_time() -> None:
    assert parse_filter("orphan").timed and parse_filter("!unused").timed
    assert parse_filter("user:app unattached").timed
    assert not parse_filter("dest attached user:app key:0 orphans").timed
