"""Tests for graphbuild.workers.threads: bounded background writes, errors raised, never lost;
calls in threads with their results in order."""

from __future__ import annotations

import subprocess
import sys
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



# Run in a process of its own: SIGHUP right after the Nth lock the main thread takes (its
# Nth call of a lock's acquire, seen by a profile hook) while Background submits, waits and
# closes and thread_map starts its threads, for every N, under the handler the command line
# installs. One line per N: how the run ended, the calls finished as it did and a little after.
_EVERY_LOCK = """
import signal, sys, time
from graphbuild.workers.interrupts import signals_as_interrupts
from graphbuild.workers.threads import Background, thread_map

def after_nth_acquire(n):
    seen = 0
    def profile(frame, event, arg):
        nonlocal seen
        if event == "c_return" and getattr(arg, "__name__", "") == "acquire":
            seen += 1
            if seen == n:
                signal.raise_signal(signal.SIGHUP)
    return profile

with signals_as_interrupts([]):
    for n in range(1, int(sys.argv[1]) + 1):
        print(n, end=" ", flush=True)  # where it stopped, should it never end
        finished = []
        try:
            sys.setprofile(after_nth_acquire(n))
            try:
                loads = Background(threads=2)
                try:
                    for i in range(6):
                        loads.submit(lambda i=i: (time.sleep(0.002), finished.append(i)))
                finally:
                    loads.close()
                list(thread_map(lambda i: i, range(4), threads=2))
            finally:
                sys.setprofile(None)
            outcome = "finished"
        except KeyboardInterrupt:
            outcome = "interrupted"
        except RuntimeError as exc:
            outcome = "RuntimeError:" + str(exc).replace(" ", "_")
        at_once = len(finished)
        time.sleep(0.02)
        print(outcome, at_once, len(finished), flush=True)
"""


def test_an_interrupt_after_any_lock_background_takes_stops_it_cleanly() -> None:
    # On Python 3.11, concurrent.futures.wait interrupted between taking two futures' locks
    # left one held: the thread finishing that future waited for it, and close() for that
    # thread, for ever (at N = 17 here); Event.wait interrupted as it took its lock back
    # released a lock it did not hold (RuntimeError, in Thread.start).
    runs = 60
    try:
        result = subprocess.run([sys.executable, "-c", _EVERY_LOCK, str(runs)], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:
        shown = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"a run never ended: {shown.splitlines()[-1:]}")
    assert result.returncode == 0, result.stdout[-300:] + result.stderr[-2000:]
    lines = [line.split() for line in result.stdout.splitlines()]
    assert [int(line[0]) for line in lines] == list(range(1, runs + 1))
    outcomes = {line[1] for line in lines}
    assert outcomes == {"interrupted", "finished"}, outcomes
    interrupted = [line for line in lines if line[1] == "interrupted"]
    assert len(interrupted) >= 30, lines  # six submits, a close and two thread starts take dozens of locks
    # The interrupt goes on only once every call started has finished: none finishes after.
    assert all(line[2] == line[3] for line in lines), [line for line in lines if line[2] != line[3]]
