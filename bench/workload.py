"""The benchmark's large workload: many segments, attached children, sets and queues.

Made with shmtop's own binding; everything is removed on exit, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from types import FrameType, TracebackType

from shmtop.core.binding import native

CREATE = native.IPC_CREAT | 0o600


@dataclass
class Workload:
    """Sizes of the workload; `with Workload(...) as w:` builds it and always tears it down."""

    segments: int = 4000
    segment_size: int = 4096
    children: int = 1000
    attaches_per_child: int = 8
    semaphore_sets: int = 1000
    semaphores_per_set: int = 16
    queues: int = 1000
    messages_per_queue: int = 4
    shm_ids: list[int] = field(default_factory=list)
    sem_ids: list[int] = field(default_factory=list)
    msg_ids: list[int] = field(default_factory=list)
    child_pids: list[int] = field(default_factory=list)

    def __enter__(self) -> Workload:
        self._old_term = signal.signal(signal.SIGTERM, raise_exit)
        try:
            self._build()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.teardown()
        signal.signal(signal.SIGTERM, self._old_term)

    def sizes(self) -> dict[str, int]:
        """The sizes asked for, as the benchmarks print them."""
        return {
            "segments": self.segments,
            "segment_size": self.segment_size,
            "children": self.children,
            "attaches_per_child": self.attaches_per_child,
            "semaphore_sets": self.semaphore_sets,
            "semaphores_per_set": self.semaphores_per_set,
            "queues": self.queues,
            "messages_per_queue": self.messages_per_queue,
        }

    def _build(self) -> None:
        for _ in range(self.segments):
            self.shm_ids.append(native.shmget(native.IPC_PRIVATE, self.segment_size, CREATE))
        for _ in range(self.semaphore_sets):
            semid = native.semget(native.IPC_PRIVATE, self.semaphores_per_set, CREATE)
            self.sem_ids.append(semid)
            native.sem_setall(semid, range(1, self.semaphores_per_set + 1))
        for _ in range(self.queues):
            msqid = native.msgget(native.IPC_PRIVATE, CREATE)
            self.msg_ids.append(msqid)
            for number in range(self.messages_per_queue):
                native.msgsnd(msqid, number + 1, b"payload %d" % number)
        ready_read, ready_write = os.pipe()
        for child in range(self.children):
            first = child * self.attaches_per_child
            count = len(self.shm_ids)
            ids = [self.shm_ids[(first + n) % count] for n in range(self.attaches_per_child)]
            pid = os.fork()
            if pid == 0:  # child: attach, say so, then wait to be ended
                try:
                    for n, shmid in enumerate(ids):
                        native.shmat(shmid, native.SHM_RDONLY if n % 2 else 0)
                    os.write(ready_write, b".")
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    while True:
                        signal.pause()
                finally:
                    os._exit(0)
            self.child_pids.append(pid)
        os.close(ready_write)
        ready = 0
        while ready < self.children:
            chunk = os.read(ready_read, 4096)
            if not chunk:
                raise RuntimeError("a workload child died before attaching")
            ready += len(chunk)
        os.close(ready_read)

    def teardown(self) -> None:
        """End every child by PID and remove every object made, whatever state we are in."""
        for pid in self.child_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in self.child_pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.child_pids.clear()
        for remove, ids in (
            (native.shm_rmid, self.shm_ids),
            (native.sem_rmid, self.sem_ids),
            (native.msg_rmid, self.msg_ids),
        ):
            for ident in ids:
                with contextlib.suppress(OSError):
                    remove(ident)
            ids.clear()


def raise_exit(signum: int, frame: FrameType | None) -> None:
    """A signal handler that unwinds like Ctrl-C does, so every finally (every teardown) runs."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    with Workload() as workload:
        print(
            f"workload up: {len(workload.shm_ids)} segments, {len(workload.child_pids)} children;"
            " Ctrl-C to remove it",
            file=sys.stderr,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
