"""Interrupts raised where it is safe to raise them.

Python raises KeyboardInterrupt (Ctrl-C, or a stopping signal a command turns into one) at
whatever line the main thread has reached, and the standard library's thread machinery is
not written for that. An interrupt inside ``concurrent.futures.wait``, between its taking
one future's lock and the next, leaves that lock held: the thread finishing the future
waits for it, and the stop that follows waits for that thread for ever. One inside
``Thread.start`` or ``Event.wait``, as the lock is given back, releases a lock no one holds
(``RuntimeError``, a traceback instead of a clean stop).

So the handler ``signals_as_interrupts`` installs holds an interrupt that arrives while
the main thread is in a ``deferred()`` block, and the block raises it as it ends. What
runs in such blocks must end on its own: waiting for a background call that cannot be cut
anyway, starting a thread, stopping a pool.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["STOPPING_SIGNALS", "deferred", "signals_as_interrupts", "start"]

# Ctrl-C, and the signals that stop a command the way Ctrl-C does (kill, a closed
# terminal): its finally blocks run, its other processes end, what it wrote is left whole.
STOPPING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

# How many deferred() blocks the main thread is in, and the signals held meanwhile.
# Signal handlers run only in the main thread, so only its blocks count.
_depth = 0
_held: list[int] = []


@contextmanager
def signals_as_interrupts(received: list[int]) -> Iterator[None]:
    """While the block runs, Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt (noting
    which came in ``received``), so that a killed command cleans up as an interrupted one
    does; inside a ``deferred()`` block the interrupt waits for the block's end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        received.append(signum)
        if _depth:
            _held.append(signum)
            return
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in STOPPING_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold interrupts that arrive during the block (under ``signals_as_interrupts``) and
    raise one as it ends; in other threads, and under Python's own SIGINT handler, the
    block runs as it is."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _held:
            _held.clear()
            raise KeyboardInterrupt


def start(thread: threading.Thread) -> threading.Thread:
    """Start ``thread`` with interrupts deferred (see the module's docstring); returns it."""
    with deferred():
        thread.start()
    return thread
