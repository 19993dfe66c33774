"""Tests for graphbuild.workers.threads: bounded background writes, errors raised, never lost."""

from __future__ import annotations

import threading
import time

import pytest

from graphbuild.workers.threads import Background


def test_at_most_threads_calls_run_at_once_and_all_finish() -> None:
    running, most, done = 0, 0, []
    lock = threading.Lock()

    def call(n: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
            done.append(n)

    loads = Background(threads=2)
    for n in range(6):
        loads.submit(lambda n=n: call(n))
        # submit returns once fewer than two run: the caller never runs ahead by more
        assert len(done) >= n - 1
    loads.close()
    assert most == 2 and sorted(done) == list(range(6))


def test_without_threads_calls_run_at_once_in_the_caller() -> None:
    seen: list[str] = []
    future = Background(threads=0).submit(lambda: seen.append(threading.current_thread().name))
    assert future.done() and seen == [threading.current_thread().name]


def test_an_error_is_raised_by_the_next_wait_after_the_others_finish() -> None:
    finished: list[int] = []

    def fail() -> None:
        raise OSError("disk full")

    loads = Background(threads=2)
    loads.submit(fail)
    loads.submit(lambda: (time.sleep(0.1), finished.append(1)))
    with pytest.raises(OSError, match="disk full"):
        loads.close()
    assert finished == [1]


def test_an_error_is_raised_by_the_next_submit_once_it_has_to_wait() -> None:
    loads = Background(threads=1)
    loads.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        loads.submit(lambda: None)
    loads.close()
