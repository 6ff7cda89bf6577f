"""The POSIX tabs' columns and the POSIX limits' arithmetic, on fixed scans (no kernel)."""

from __future__ import annotations

from pathlib import Path

from fake_posix import fixed_mq_snapshot, fixed_posix_snapshot
from fake_source import fixed_snapshot

from shmtop.core.posix.limits import MQUEUE_SYSCTLS, mqueue_limits
from shmtop.core.posix.model import PosixKind
from shmtop.text import posix_columns
from shmtop.text.columns import Column
from shmtop.text.sanitize import safe_text


def cells(columns: tuple[Column, ...], row: object) -> dict[str, str]:
    snapshot = fixed_snapshot()
    return {c.header: c.cell(row, snapshot) for c in columns}


def test_shm_rows_name_mappers_with_their_mode_and_holders_apart() -> None:
    rows = {r.obj.name: r for r in posix_columns.shm_rows(fixed_posix_snapshot(), PosixKind.SHM)}
    ring = cells(posix_columns.PSHM_COLUMNS, rows["/app-ring"])
    assert ring["MAPS"] == "2"
    assert ring["MAPPED BY"] == "5001 producer rw, 5002 consumer ro; holds: 5003 backup"
    assert cells(posix_columns.PSHM_COLUMNS, rows["/old-cache"])["STATUS"] == "unlinked"
    assert list(rows)[-1] == "/old-cache"  # unlinked ones last: they hold memory
    hostile = next(n for n in rows if n.startswith("/evil"))
    shown = cells(posix_columns.PSHM_COLUMNS, rows[hostile])["NAME"]
    assert shown == safe_text(hostile) and "\x1b" not in shown


def test_row_ids_are_the_identity_not_the_name() -> None:
    a = posix_columns.row_id(27, 5)
    assert a == posix_columns.row_id(27, 5)
    assert len({a, posix_columns.row_id(28, 5), posix_columns.row_id(27, 6)}) == 3


def test_semaphore_and_queue_cells() -> None:
    (sem,) = posix_columns.shm_rows(fixed_posix_snapshot(), PosixKind.SEM)
    sem_cells = cells(posix_columns.PSEM_COLUMNS, sem)
    assert (sem_cells["NAME"], sem_cells["VALUE"], sem_cells["NWAIT"]) == ("/jobs", "2", "0")
    (queue,) = posix_columns.queue_rows(fixed_mq_snapshot())
    queue_cells = cells(posix_columns.PMQ_COLUMNS, queue)
    assert (queue_cells["MSGS"], queue_cells["QSIZE"], queue_cells["WAIT s/r"]) == (
        "3/10", "96B", "0/1",
    )  # fmt: skip
    assert queue_cells["HELD BY"] == "5001 producer, 5002 consumer"


def test_mqueue_limits_read_the_sysctls_and_take_the_largest_queue(tmp_path: Path) -> None:
    for value, name in enumerate(MQUEUE_SYSCTLS, start=1):
        (tmp_path / name).write_text(f"{value * 10}\n")
    found = mqueue_limits(3, [4, None, 9], [100, 50], directory=str(tmp_path))
    assert (found.queues_max, found.msg_max, found.msgsize_max) == (10, 20, 30)
    assert (found.msg_default, found.msgsize_default) == (40, 50)
    assert (found.queues, found.largest_max_messages, found.largest_max_size) == (3, 9, 100)
    (tmp_path / "msg_max").write_text("not a number")
    assert mqueue_limits(None, directory=str(tmp_path)).msg_max is None


def test_list_sorts_by_the_keys_of_the_view_columns_one_order() -> None:
    """`list --sort` takes exactly the POSIX tabs' column keys, and orders objects as the
    tab's column sorts its rows (ties by identity, the row id)."""
    from shmtop.text import posix_sorting

    tabs = {"pshm": posix_columns.PSHM_COLUMNS, "psem": posix_columns.PSEM_COLUMNS,
            "pmq": posix_columns.PMQ_COLUMNS}  # fmt: skip
    for kind, columns in tabs.items():
        assert sorted(posix_sorting.sort_names(kind)) == sorted(c.key for c in columns)
    scan = fixed_posix_snapshot()
    rows = posix_columns.shm_rows(scan, PosixKind.SHM)
    for column in posix_columns.PSHM_COLUMNS:
        by_tab = sorted(rows, key=lambda r: (column.sort(r, fixed_snapshot()), r.id), reverse=True)
        order = posix_sorting.order_by(column.key, True)
        assert [o.name for o in order(scan, PosixKind.SHM)] == [r.obj.name for r in by_tab]
    queues = fixed_mq_snapshot()
    q_rows = posix_columns.queue_rows(queues)
    for column in posix_columns.PMQ_COLUMNS:
        q_tab = sorted(q_rows, key=lambda r: (column.sort(r, fixed_snapshot()), r.id))
        ordered = posix_sorting.sorted_queues(queues, column.key, False)
        assert [q.name for q in ordered.queues] == [r.queue.name for r in q_tab]
