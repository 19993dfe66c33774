"""Asking a remote service as public services really behave: retries, backoff, deadlines.

Every remote call graphbuild makes (a SPARQL endpoint for enrichment, Spotlight for
annotation) goes through here. A failure worth another try (the service cannot be reached,
HTTP 429 or 5xx, no answer by the deadline, an answer that is not what was asked for) is
raised as ``Transient``; ``retrying`` tries again after a pause that doubles each time, or
as long as the service's ``Retry-After`` asks (up to a cap: a longer wait is given up at
once), and raises ``GaveUp`` after the last try. ``bounded`` gives one request a total
deadline from connect to last byte, not only a socket timeout, so that a server that
accepts and never answers, or trickles, is cut off.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol, TypeVar

from graphbuild.workers.interrupts import start

__all__ = ["GaveUp", "PastDeadline", "RetryPolicy", "Transient", "bounded", "read_until", "retry_after", "retrying"]

T = TypeVar("T")
# Statuses that say "not now" rather than "never": rate limits and a server's own troubles.
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: ``attempts`` tries in all, pauses of ``backoff`` seconds doubled
    each time up to ``max_backoff``, a ``Retry-After`` honoured up to ``max_retry_after``
    seconds, and ``timeout`` seconds per request from connect to last byte."""

    attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    timeout: float = 60.0

    def wait(self, attempt: int) -> float:
        """The pause before try number ``attempt + 2``: backoff, doubled each time, capped."""
        return min(self.backoff * 2.0**attempt, self.max_backoff)


class Transient(Exception):
    """A failure worth another try; ``retry_after`` is the wait the service asked for, if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class GaveUp(Exception):
    """Out of tries, or asked to wait longer than the policy allows; the message says why
    (callers put the service's name before it)."""


class PastDeadline(Exception):
    """Raised inside a bounded call that noticed its deadline had passed."""


def retrying(
    call: Callable[[], T], policy: RetryPolicy, *, pause: Callable[[float, Transient], object] | None = None
) -> T:
    """``call()`` until it returns, retried on ``Transient`` per ``policy``.

    ``pause(seconds, problem)`` waits between tries (by default a plain sleep); a caller
    that shares the service between threads can make every thread wait on a Retry-After.
    """
    for attempt in range(policy.attempts):
        try:
            return call()
        except Transient as problem:
            if attempt + 1 == policy.attempts:
                raise GaveUp(f"gave up after {policy.attempts} tries: {problem.reason}") from None
            seconds = policy.wait(attempt)
            if problem.retry_after is not None:
                if problem.retry_after > policy.max_retry_after:
                    raise GaveUp(
                        f"{problem.reason}; it asks to wait {problem.retry_after:g} s, "
                        f"longer than the {policy.max_retry_after:g} s graphbuild waits"
                    ) from None
                seconds = max(seconds, problem.retry_after)
            if pause is None:
                time.sleep(seconds)
            else:
                pause(seconds, problem)
    raise GaveUp(f"gave up after {policy.attempts} tries")  # only with attempts < 1


def bounded(call: Callable[[float], T], timeout: float, *, name: str = "graphbuild-request") -> T:
    """``call(deadline)`` within ``timeout`` seconds in all, whatever the server does.

    The call runs in a thread of its own that is left behind on a timeout (it ends at its
    next socket timeout, or when its ``read_until`` notices the deadline); ``Transient``
    is raised here at once.
    """
    deadline = time.monotonic() + timeout
    results: list[T] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(call(deadline))
        except BaseException as exc:  # handed over to the calling thread
            errors.append(exc)

    worker = threading.Thread(target=work, name=name, daemon=True)
    start(worker)
    worker.join(timeout)
    if worker.is_alive() or (errors and isinstance(errors[0], PastDeadline)):
        raise Transient(f"no complete answer within {timeout:g} s")
    if errors:
        raise errors[0]
    return results[0]


class _Body(Protocol):
    def read1(self, amt: int) -> bytes: ...

    def close(self) -> None: ...


def read_until(response: _Body, deadline: float) -> bytes:
    """The body, one socket read at a time, so that a trickling server cannot outlast the deadline."""
    chunks = []
    try:
        while chunk := response.read1(_CHUNK):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise PastDeadline()
    finally:
        response.close()
    return b"".join(chunks)


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
