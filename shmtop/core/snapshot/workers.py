"""A few worker threads for the collector's kernel reads, and the answers they give back.

Not concurrent.futures: importing it costs a one-shot command ~7 ms (it imports logging),
and the collector needs only submit, result and shutdown.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class Task(Generic[T]):
    """The answer of one call run by a worker: result() waits for it (or raises its error)."""

    __slots__ = ("_done", "_error", "_value")

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: object = None
        self._error: BaseException | None = None

    def run(self, call: Callable[..., T], args: tuple[Any, ...]) -> None:
        try:
            self._value = call(*args)
        except BaseException as error:  # handed to whoever waits, as a Future does
            self._error = error
        finally:
            self._done.set()

    def result(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return cast(T, self._value)


_Job = tuple[Task[Any], Callable[..., Any], tuple[Any, ...]]


class Workers:
    """`size` threads (started at the first submit) running submitted calls in order.

    Daemon threads: a one-shot command exits without joining them (they are idle by then,
    waiting for work); close() ends them for those that keep running (the TUI).
    """

    def __init__(self, size: int, name: str) -> None:
        self._size, self._name = size, name
        self._jobs: deque[_Job | None] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._threads: list[threading.Thread] = []

    def submit(self, call: Callable[..., T], *args: Any) -> Task[T]:
        task: Task[T] = Task()
        with self._ready:
            if not self._threads:
                self._threads = [
                    threading.Thread(target=self._work, name=f"{self._name}_{n}", daemon=True)
                    for n in range(self._size)
                ]
                for thread in self._threads:
                    thread.start()
            self._jobs.append((task, call, args))
            self._ready.notify()
        return task

    def shutdown(self) -> None:
        """End the threads once they finish what was submitted, and wait for them."""
        with self._ready:
            threads, self._threads = self._threads, []
            self._jobs.extend([None] * len(threads))
            self._ready.notify_all()
        for thread in threads:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._jobs:
                    self._ready.wait()
                job = self._jobs.popleft()
            if job is None:
                return
            task, call, args = job
            task.run(call, args)
            # Not kept while waiting for the next: the answer (a whole scan) is the caller's.
            del job, task, call, args
