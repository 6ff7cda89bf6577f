"""Listing the queues where no mqueue fs is mounted and no detached mount can be made
(kernels before 5.2, or fsopen filtered): a helper process mounts one.

The helper is a fresh interpreter (single-threaded, so unshare(CLONE_NEWNS) is allowed;
a multithreaded process may not change its mount namespace). It leaves our mount
namespace for a private copy, makes every mount in it private (no event travels back),
mounts an mqueue fs there (it shows the queues of the helper's IPC namespace: ours),
lists it as a mounted one is listed, and writes the Listing to stdout as JSON. The mount
goes with the helper's namespace when it exits: nothing changes on our mount table.
"""

from __future__ import annotations

import os
import subprocess
import sys

import msgspec

from shmtop.core.binding import native
from shmtop.core.posix.mqueue import MQUEUE_DIR, Listing, list_directory

SOURCE = "a helper's private mount (no mqueue fs is mounted here)"
# Where the helper mounts it, in its own namespace only: the first directory that exists.
_MOUNT_POINTS = (MQUEUE_DIR, "/tmp", "/mnt", "/run", "/dev")
HELPER_TIMEOUT = 30.0  # seconds: the helper lists a directory; far more means it hangs


def list_privately() -> Listing:
    """The queues of our IPC namespace, read by a helper in a private mount namespace."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__], capture_output=True, timeout=HELPER_TIMEOUT,
            cwd="/", check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return Listing(None, problem=f"the helper that mounts an mqueue fs failed: {error}")
    try:
        return msgspec.json.decode(done.stdout, type=Listing)
    except msgspec.DecodeError:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return Listing(None, problem=f"the mqueue helper failed: {said[0]}")


def _in_private_namespace() -> Listing:
    """The helper's work: private mount namespace, mqueue mount, listing."""
    try:
        native.unshare(native.CLONE_NEWNS)
        native.mount("none", "/", None, native.MS_REC | native.MS_PRIVATE)
    except OSError as error:
        return Listing(
            None,
            problem=f"no mqueue fs is mounted and a private one needs CAP_SYS_ADMIN "
            f"({error.strerror})",
        )
    point = next((p for p in _MOUNT_POINTS if os.path.isdir(p)), None)
    if point is None:
        return Listing(None, problem="no directory to mount an mqueue fs on")
    flags = native.MS_NOSUID | native.MS_NODEV | native.MS_NOEXEC
    try:
        native.mount("shmtop-mqueue", point, "mqueue", flags)
    except OSError as error:
        return Listing(None, problem=f"cannot mount an mqueue fs ({error.strerror})")
    return list_directory(point)


def main() -> int:
    sys.stdout.buffer.write(msgspec.json.encode(_in_private_namespace()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
