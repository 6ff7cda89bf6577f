"""The tree view's rows (shmtop.text.usage_tree) and the removal question's waiter lines
(shmtop.text.removal_waiters), on the fixed snapshot and its fixed waiter scan."""

from __future__ import annotations

import dataclasses

import msgspec
from fake_source import fixed_snapshot, fixed_wait_report

from shmtop.core.model import Attachment, Kind, Process
from shmtop.core.waits.records import SemOp, Waiter
from shmtop.text.removal_waiters import blocked_lines, with_waiters
from shmtop.text.usage_tree import TreeRow, UsageTree, build_tree, number_ranges


def rows_by_key(tree: UsageTree) -> dict[str, TreeRow]:
    return {row.key: row for section in tree.sections for row in section.walk()}


def children_keys(row: TreeRow) -> list[str]:
    return [child.key for child in row.children]


def test_each_process_lists_the_objects_it_attached_created_changed_or_waits_on() -> None:
    rows = rows_by_key(build_tree(fixed_snapshot(), fixed_wait_report()))

    producer = rows["p4300"]
    assert producer.label.startswith("4300 (producer)  user app")
    assert children_keys(producer) == ["p4300/shm32769", "p4300/shm32770", "p4300/sem65536",
                                       "p4300/msg98304"]  # fmt: skip
    assert rows["p4300/shm32770"].label == (
        "shm 32770: attached rw; created it (cpid); last shmat/shmdt (lpid)"
        "  · key 0x00000000  4.0K  nattch 1  dest"
    )
    assert rows["p4300/sem65536"].label.startswith("sem 65536: last semop on semaphore 0 (sempid)")
    # It sent last, and is blocked sending now: a waiter line.
    queue = rows["p4300/msg98304"]
    assert queue.role == "waiter"
    assert queue.label.startswith(
        "msg 98304: last msgsnd (lspid); WAITING: send type 9, 16300 bytes  · key 0x00005678"
    )
    consumer = rows["p4301/shm32769"]
    assert consumer.label.startswith("shm 32769: attached ro; last shmat/shmdt (lpid)  · ")
    assert rows["p4100/sem65537"].label.startswith(
        "sem 65537: last semop on semaphores 0-15 (sempid)"
    )


def test_a_waiter_not_otherwise_in_the_snapshot_is_a_process_of_the_tree() -> None:
    rows = rows_by_key(build_tree(fixed_snapshot(), fixed_wait_report()))

    batch = rows["p4400"]
    assert batch.label.startswith("4400 (batch)")
    (on_set,) = batch.children
    assert on_set.kind is Kind.SEM and on_set.ident == 65538
    assert on_set.label == (
        "sem 65538: WAITING (tid 4401): sem 0 -1  · key 0x00000000  2 semaphores  unreadable"
        "  owner root"
    )


def test_a_gone_creator_is_not_a_process_of_the_tree() -> None:
    """Segment 32771's creator (3999) is gone: it uses nothing, so it has no line."""
    rows = rows_by_key(build_tree(fixed_snapshot(), fixed_wait_report()))

    assert "p3999" not in rows
    assert "onobody/shm32771" in rows


def test_objects_are_grouped_by_owner_with_attachers_and_blocked_threads_under_them() -> None:
    tree = build_tree(fixed_snapshot(), fixed_wait_report())
    rows = rows_by_key(tree)

    assert children_keys(tree.owners) == ["oapp", "onobody", "opostgres", "oroot"]
    assert rows["oapp"].label == "app (uid 1001): 2 segments, 1 set, 2 queues"
    assert [c.label for c in rows["oapp/shm32769"].children] == [
        "attached rw: 4300 (producer)", "attached ro: 4301 (consumer␛[31m)",
    ]  # fmt: skip
    waiters = rows["oapp/msg98304"].children
    assert [(w.role, w.pid) for w in waiters] == [("waiter", 4300), ("waiter", 4302)]
    assert waiters[1].label == "BLOCKED 4302 (reader): receive type 7"
    assert rows["oroot/sem65538/w4401"].label == "BLOCKED 4400 (batch) tid 4401: sem 0 -1"
    assert tree.owners.label == "Objects by owner (9 objects, 4 owners)"


def test_without_a_scan_nobody_is_waiting() -> None:
    rows = rows_by_key(build_tree(fixed_snapshot(), None))

    assert rows["p4300/msg98304"].role == "object"
    assert "WAITING" not in rows["p4300/msg98304"].label
    assert not rows["oapp/sem65536"].children
    assert "p4400" not in rows


def test_a_user_shows_only_that_users_processes_and_objects() -> None:
    tree = build_tree(fixed_snapshot(), fixed_wait_report(), "postgres")

    assert children_keys(tree.processes) == ["p4100", "p4200"]
    assert children_keys(tree.owners) == ["opostgres"]
    assert tree.users == ("app", "nobody", "postgres", "root")  # the picker still offers all


def test_a_user_with_nothing_says_so() -> None:
    tree = build_tree(fixed_snapshot(), fixed_wait_report(), "mallory")

    assert [r.role for r in tree.processes.children] == ["note"]
    assert tree.processes.children[0].label == (
        "no process uses an object (user mallory; u picks another)"
    )
    assert tree.owners.children[0].label == "no objects (user mallory; u picks another)"


def test_the_users_are_the_owners_and_the_users_of_the_processes() -> None:
    snapshot = fixed_snapshot()
    people = dict(snapshot.processes)
    people[4300] = Process(4300, "producer", "www-data", 0.0)
    tree = build_tree(msgspec.structs.replace(snapshot, processes=people), None)

    assert "www-data" in tree.users
    assert "p4300" in rows_by_key(build_tree(snapshot, None, "app"))
    assert "p4300" not in rows_by_key(
        build_tree(msgspec.structs.replace(snapshot, processes=people), None, "app")
    )


def test_untrusted_names_are_sanitised_everywhere() -> None:
    """A process name, a title and a user name with terminal escapes, bidi overrides."""
    snapshot = fixed_snapshot()
    evil = "\x1b]2;pwned\x07\u202e"
    segment = snapshot.segments[1]
    attachments = (Attachment(4300, "prod" + evil, "app", True, 1, 2, title="x" + evil),)
    segments = (*snapshot.segments[:1], msgspec.structs.replace(segment, attachments=attachments),
                *snapshot.segments[2:])  # fmt: skip
    people = {pid: p for pid, p in snapshot.processes.items() if pid != 4300}
    owner = msgspec.structs.replace(snapshot.queues[0].owner, user="eve" + evil)
    queues = (msgspec.structs.replace(snapshot.queues[0], owner=owner), *snapshot.queues[1:])
    waits = fixed_wait_report()
    waiters = tuple(dataclasses.replace(w, command="w" + evil) for w in waits.waiters)
    waits = dataclasses.replace(waits, waiters=waiters, processes={})
    tree = build_tree(
        msgspec.structs.replace(snapshot, segments=segments, processes=people, queues=queues),
        waits,
    )  # fmt: skip

    labels = [row.label for section in tree.sections for row in section.walk()]
    assert not any(c in label for label in labels for c in "\x1b\x07\u202e")
    assert any("␛]2;pwned␇" in label for label in labels)


def test_number_ranges() -> None:
    assert number_ranges([0, 1, 2, 3, 7, 9, 10]) == "0-3, 7, 9-10"
    assert number_ranges([4]) == "4"
    assert number_ranges([]) == ""


# ---- the removal question ----


def test_the_removal_question_names_the_threads_blocked_on_a_set_and_says_eidrm() -> None:
    snapshot = fixed_snapshot()
    sem_set = snapshot.semaphore_set(65536)
    assert sem_set is not None

    lines = blocked_lines(Kind.SEM, sem_set, fixed_wait_report())

    assert lines == [
        "  1 thread blocked on it; removing the set wakes it (semtimedop fails with EIDRM):",
        "    BLOCKED 4301 (consumer␛[31m): sem 2 -1 SEM_UNDO",
    ]


def test_the_removal_question_of_a_queue_names_senders_and_receivers() -> None:
    queue = fixed_snapshot().queue(98304)
    assert queue is not None

    (plan,) = with_waiters(["msg 98304"], Kind.MSG, [queue], fixed_wait_report())

    assert plan.splitlines() == [
        "msg 98304",
        "  2 threads blocked on it; removing the queue wakes them (msgrcv/msgsnd fail with EIDRM):",
        "    BLOCKED 4300 (producer): send type 9, 16300 bytes",
        "    BLOCKED 4302 (reader): receive type 7",
    ]


def test_a_set_whose_waiters_the_scan_missed_is_counted_by_the_kernel() -> None:
    """semncnt says one thread waits on set 65536, but the scan saw nobody (a waiter in
    another namespace, or unreadable): the question still says it, unnamed."""
    sem_set = fixed_snapshot().semaphore_set(65536)
    assert sem_set is not None
    empty = dataclasses.replace(fixed_wait_report(), waiters=(), verdicts=())

    (line,) = blocked_lines(Kind.SEM, sem_set, empty)

    assert line.startswith("  1 thread blocked on it, not named (")
    assert line.endswith("removing the set wakes it (semop fails with EIDRM)")


def test_a_failed_scan_and_a_set_nobody_waits_on() -> None:
    snapshot = fixed_snapshot()
    quiet = snapshot.semaphore_set(65537)
    queue = snapshot.queue(98305)
    assert quiet is not None and queue is not None
    complete = dataclasses.replace(fixed_wait_report(), unreadable={})

    assert blocked_lines(Kind.SEM, quiet, complete) == ["  nobody is blocked on it"]
    assert blocked_lines(Kind.MSG, queue, None, "the waiter scan failed: EPERM") == [
        "  who is blocked on it is unknown (the waiter scan failed: EPERM)"
    ]
    assert blocked_lines(Kind.SHM, snapshot.segments[0], complete) == []


def test_many_waiters_are_named_up_to_a_bound() -> None:
    sem_set = fixed_snapshot().semaphore_set(65536)
    assert sem_set is not None
    many = tuple(
        Waiter(5000 + n, 5000 + n, "kid", Kind.SEM, 65536, "semop", 0.0, True,
               operations=(SemOp(0, -1, 0),))
        for n in range(12)
    )  # fmt: skip
    report = dataclasses.replace(fixed_wait_report(), waiters=many, verdicts=())

    lines = blocked_lines(Kind.SEM, sem_set, report)

    assert lines[0].startswith("  12 threads blocked on it")
    assert len(lines) == 1 + 8 + 1 and lines[-1] == "    and 4 more"
