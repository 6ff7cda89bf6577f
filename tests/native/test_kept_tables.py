"""A Collector's sets' and queues' tables and semaphore values are read into kept buffers
(native.TableReader, SemValueReader): an unchanged read gives back the very lists of the last
one, and every change of real objects gives rows equal to a plain read."""

from __future__ import annotations

from helpers import MakeMsg, MakeSem

from shmtop.core.binding import native


def test_a_table_reader_answers_as_the_table_and_keeps_an_unchanged_list(
    make_sem: MakeSem, make_msg: MakeMsg
) -> None:
    sems, queues = native.sem_table_reader(), native.msg_table_reader()
    semids = [make_sem(3) for _ in range(300)]  # more than a first buffer's 256 rows
    msqid = make_msg()
    first_sets, first_queues = sems.read(), queues.read()
    assert first_sets == native.sem_table()
    assert first_queues == native.msg_table()
    assert sems.read() is first_sets
    assert queues.read() is first_queues
    native.msgsnd(msqid, 1, b"hello")  # qnum, cbytes, lspid and stime move
    sent = queues.read()
    assert sent is not first_queues
    assert sent == native.msg_table()
    assert next(r for r in sent if r.id == msqid).qnum == 1
    native.msgrcv(msqid, 16, 0, native.IPC_NOWAIT)
    native.sem_rmid(semids[0])
    fewer = sems.read()
    assert fewer == native.sem_table()
    assert semids[0] not in {r.id for r in fewer}
    assert queues.read() == native.msg_table()


def test_sem_value_reader_keeps_unchanged_lists_and_sees_a_change(make_sem: MakeSem) -> None:
    semids = [make_sem(4) for _ in range(3)]
    sets = [(semid, 4) for semid in semids]
    reader = native.SemValueReader()
    first = reader.read(sets)
    assert first == native.sem_values_flat(sets)
    again = reader.read(sets)
    assert again[0] is first[0]
    assert again[1] is first[1]
    native.sem_setval(semids[1], 2, 7)
    moved = reader.read(sets)
    assert moved[0] is not first[0]
    assert moved == native.sem_values_flat(sets)
    assert moved[0][4 * (4 + 2)] == 7  # set 1, semaphore 2: its value
    native.sem_rmid(semids[2])
    gone = reader.read(sets)
    assert gone[1][2] != 0  # EINVAL or EIDRM: removed
    assert gone[0][: 4 * 8] == moved[0][: 4 * 8]
