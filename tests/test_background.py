"""Tests for graphbuild.workers.threads: bounded background writes, errors raised, never lost;
calls in threads with their results in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from graphbuild.workers.threads import Background, thread_map


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


def test_thread_map_yields_in_the_order_of_the_jobs_whatever_finishes_first() -> None:
    last_done = threading.Event()

    def call(n: int) -> int:
        if n == 0:
            assert last_done.wait(10)  # the first job finishes only after the fourth
        if n == 3:
            last_done.set()
        return n * 10

    assert list(thread_map(call, range(6), threads=4)) == [0, 10, 20, 30, 40, 50]


def test_thread_map_raises_a_call_s_error_in_its_place() -> None:
    def call(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        return n

    results = thread_map(call, range(5), threads=2)
    assert [next(results), next(results)] == [0, 1]
    with pytest.raises(ValueError, match="two"):
        next(results)


def test_thread_map_stops_taking_jobs_and_does_not_wait_for_a_stuck_call() -> None:
    release, taken = threading.Event(), []

    def jobs() -> Iterator[int]:
        for n in range(100):
            taken.append(n)
            yield n

    def call(n: int) -> int:
        if n == 1:
            release.wait(10)
        return n

    results = thread_map(call, jobs(), threads=2, ahead=2)
    assert next(results) == 0
    results.close()  # returns although job 1 is stuck
    assert taken == [0, 1, 2, 3]  # two threads, two jobs ahead each: no more was read
    release.set()
