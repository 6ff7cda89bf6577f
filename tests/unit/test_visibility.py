"""Which /proc mount hides processes (shmtop.core.snapshot.visibility) from mountinfo text."""

from __future__ import annotations

from shmtop.core.snapshot import visibility


def test_proc_mount_options_take_the_mount_on_top() -> None:
    info = (
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "66 48 0:40 / /proc rw,relatime - proc proc rw,hidepid=invisible,gid=27\n"
        "70 48 0:41 / /proc/sys rw - proc proc rw\n"
    )
    options = visibility.proc_mount_options(info)
    assert options["hidepid"] == "invisible"
    assert visibility.hidden_by_mount(options, euid=1000, groups=[1000]) is not None
    assert visibility.hidden_by_mount(options, euid=1000, groups=[27]) is None  # gid= group
    assert visibility.hidden_by_mount(options, euid=0, groups=[0]) is None
    assert visibility.hidden_by_mount({"hidepid": "2"}, euid=1, groups=[]) is not None
    assert visibility.hidden_by_mount({}, euid=1, groups=[]) is None
