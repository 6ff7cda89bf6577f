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
from shmtop.text.filtering import FIELD_NAMES, FilterError, owner_matches, parse_filter

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
     ("key:-1", set()),
     ("id:32769", {32769}), ("id:0x8001", {32769}), ("id:98305", {98305}), ("id:1", set()),
     ("nattch:2", {32768, 32769}), ("nattch:0", {32771}), ("perms:640", {32769}),
     ("perms:600", EVERY - {32769}), ("perms:0600", EVERY - {32769}), ("perms:6", set()),
     ("pid:4301", {32769, 65536, 98304}), ("pid:4100", {32768, 65537}), ("pid:3999", {32771}),
     ("cmd:pg-worker", {32768}), ("cmd:parallel", {32768}), ("cmd:consumer", {32769}),
     ("cmd:nothing", set())],
)  # fmt: skip
def test_field_terms(expression: str, ids: set[int]) -> None:
    assert matching(expression) == ids


def test_a_key_is_never_matched_by_its_low_32_bits() -> None:
    for term in ("key:0x100001234", "!key:0x100001234"):
        with pytest.raises(FilterError, match="key:0x100001234"):
            parse_filter(term)


@pytest.mark.parametrize(
    ("expression", "ids"),
    [("nattch:>0", {32768, 32769, 32770}), ("nattch:>=2", {32768, 32769}),
     ("nattch:<1", {32771}), ("nattch:=2", {32768, 32769}), ("nattch:<=0", {32771}),
     # sizes: segments 148M, 64K, 4K, 8K; queues 120 and 0 bytes queued
     ("size:>1M", {32768}), ("size:>=64k", {32768, 32769}), ("size:<=4k", {32770, 98304, 98305}),
     ("size:4096", {32770}), ("size:0x2000", {32771}), ("size:=0", {98305}),
     ("id:>65536", {65537, 65538, 98304, 98305}), ("id:<32770", {32768, 32769}),
     ("perms:>600", {32769}), ("perms:<=0600", EVERY - {32769}),
     # the orphan was last touched hours before the snapshot; the rest within the minute
     ("age:>1h", {32771}), ("age:<1h", EVERY - {32771}), ("!age:>1h", EVERY - {32771}),
     ("nattch:>0 size:<1M", {32769, 32770})],
)  # fmt: skip
def test_comparisons(expression: str, ids: set[int]) -> None:
    assert matching(expression) == ids


def test_only_counted_fields_compare_and_a_time_term_filters_again_each_refresh() -> None:
    with pytest.raises(FilterError, match="pid: takes no >; only age, id, nattch, perms, size"):
        parse_filter("pid:>3")
    assert parse_filter("age:>1h").timed and not parse_filter("size:>1M").timed


@pytest.mark.parametrize(
    ("expression", "message"),
    [("foo:bar", "unknown term foo:"), ("Size:1 nosuch:x", "unknown term nosuch:"),
     ("!foo:bar", "unknown term foo:"), ("nattch:", "nattch: needs a value"),
     ("key:zz", "key:zz: "), ("key:01234", "key:01234: "), ("nattch:>abc", "nattch:>abc: not a"),
     ("age:5", "age:5: not a duration"), ("perms:9", "perms:9: octal digits"),
     ("size:1q", "size:1q: not a number")],
)  # fmt: skip
def test_a_term_the_language_does_not_take_is_refused_in_one_line(
    expression: str, message: str
) -> None:
    with pytest.raises(FilterError, match=message) as refused:
        parse_filter(expression)
    assert "\n" not in str(refused.value)
    if "unknown" in message:  # the line lists the fields, and fits an 80-column status line
        for name in FIELD_NAMES:
            assert f" {name}:" in str(refused.value)
        assert len(str(refused.value)) <= 78 + len(expression)


def test_a_colon_after_what_no_field_would_spell_is_a_free_word() -> None:
    assert matching("10.0.0.1:80") == set() and matching("!0x00001234:") == EVERY


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
    assert matching("user:nosuch:x") == set()  # a user named "nosuch:x": there is none


def test_only_the_orphan_rule_s_words_make_a_filter_change_with_time() -> None:
    assert parse_filter("orphan").timed and parse_filter("!unused").timed
    assert parse_filter("user:app unattached").timed
    assert not parse_filter("dest attached user:app key:0 orphans").timed


def test_the_words_a_search_looks_for_are_kept_for_highlighting() -> None:
    assert parse_filter("Postgres !dest cmd:worker !other user:app").words == ("postgres", "worker")
