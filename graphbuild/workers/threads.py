"""Work in threads of this process: background writes, and calls that wait on a network.

``Background``: Oxigraph's bulk loader releases the GIL, so two loads at once keep both
cores busy: the 10k-document benchmark's N-Quads in six parts load in 10.6 s on two
threads against 18.0 s one after another (and 16 s as one load of the whole file).

``thread_map``: calls that mostly wait for a server (one annotation request each), several
at once, their results in the order of the jobs.

Both start threads and wait for futures with interrupts deferred (``workers.interrupts``):
a Ctrl-C inside ``concurrent.futures.wait`` could otherwise leave a future's lock held and
the stop that follows wait for ever.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from graphbuild.workers.interrupts import deferred, start

J = TypeVar("J")
R = TypeVar("R")


class Background:
    """Runs submitted calls in up to ``threads`` threads, or at once in the caller's with 0.

    ``submit`` blocks while ``threads`` calls are running, so what waits in memory stays
    bounded. A call's error is raised by the next ``submit`` or ``wait``; calls already
    running are always let finish (a bulk load cannot be stopped half-way), so an interrupt
    that comes while ``submit``, ``wait`` or ``close`` waits for them is raised once they have.
    """

    def __init__(self, *, threads: int) -> None:
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="graphbuild-write") if threads else None
        self._running: list[Future[object]] = []

    def submit(self, call: Callable[[], object]) -> Future[object]:
        """Start ``call``; the returned future is done once it has."""
        if self._pool is None:
            done: Future[object] = Future()
            done.set_result(call())
            return done
        with deferred():
            while len(self._running) >= self._threads:
                wait(self._running, return_when=FIRST_COMPLETED)
                self._collect()
            future = self._pool.submit(call)  # starts a thread, the first times
            self._running.append(future)
        return future

    def wait(self) -> None:
        """Return once every submitted call has; raise the first error among them."""
        with deferred():
            wait(self._running)
            self._collect()

    def close(self) -> None:
        """Wait for the calls still running (errors included) and stop the threads."""
        with deferred():
            try:
                self.wait()
            finally:
                if self._pool is not None:
                    self._pool.shutdown()

    def _collect(self) -> None:
        done = [f for f in self._running if f.done()]
        self._running = [f for f in self._running if not f.done()]
        for future in done:
            future.result()


def thread_map(call: Callable[[J], R], jobs: Iterable[J], *, threads: int, ahead: int = 2) -> Iterator[R]:
    """``call(job)`` for every job in ``threads`` threads, yielded in the order of ``jobs``.

    At most ``ahead`` jobs per thread are taken from ``jobs`` before their results are, so
    a slow job holds the others back a little, never memory. An error in a call is raised
    here. When the caller stops early (an error, Ctrl-C, ``close()``), jobs not begun are
    dropped and calls under way are not waited for: the threads are daemons, so a call
    stuck on a silent server cannot hold the process, and what they return is dropped.
    """
    width = max(1, threads)
    todo: queue.SimpleQueue[tuple[Future[R], J] | None] = queue.SimpleQueue()

    def work() -> None:
        while (task := todo.get()) is not None:
            future, job = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call(job))
            except BaseException as exc:  # handed over to the caller, in order
                future.set_exception(exc)

    workers = [threading.Thread(target=work, name="graphbuild-call", daemon=True) for _ in range(width)]
    for worker in workers:
        start(worker)
    pending: deque[Future[R]] = deque()
    try:
        for job in jobs:
            future: Future[R] = Future()
            pending.append(future)
            todo.put((future, job))
            while len(pending) >= width * ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        for _ in workers:
            todo.put(None)
