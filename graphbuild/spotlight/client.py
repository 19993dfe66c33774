"""DBpedia Spotlight's ``/annotate`` over HTTP, as a busy public service really behaves.

Each text is POSTed form-encoded (``text``, ``confidence``, ``support``) with ``Accept:
application/json`` to the base URL plus ``/annotate``. Requests from every thread share
one rate limit; a failure worth another try (the server cannot be reached, HTTP 429 or
5xx, no complete answer by the deadline, an answer that is not Spotlight JSON) is retried
with backoff per ``graphbuild.retry``, and a ``Retry-After`` holds every thread, not only
the one that was told. A text longer than ``max_chars`` goes in parts cut at sentence
ends (``graphbuild.spotlight.split``); a part the server refuses as too large (HTTP 413)
is cut in halves, and later texts are cut that small from the start.

Spotlight serves one language per endpoint (``/rest`` in its Docker image,
``https://api.dbpedia-spotlight.org/en`` for the public service), so the language is not
a request parameter: it is checked against a URL whose last segment names one, and recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from pyoxigraph import NamedNode
from requests.adapters import HTTPAdapter

from graphbuild.errors import AnnotateError
from graphbuild.retry import RETRY_STATUS, GaveUp, RetryPolicy, Transient, bounded, read_until, retry_after, retrying
from graphbuild.spotlight import split

__all__ = ["DEFAULT_POLICY", "Answer", "NotAnnotated", "RateLimit", "Spotlight", "SpotlightSettings"]

DEFAULT_MAX_CHARS = 10_000
# Below this a part the server still calls too large is not cut again: the server is broken.
MIN_PART_CHARS = 200
# Requests per second to a server on another machine unless told otherwise: the public
# service is a shared demo. A server on this machine (Spotlight's Docker image) is not limited.
REMOTE_RATE = 5.0
DEFAULT_POLICY = RetryPolicy(attempts=5, backoff=1.0, max_backoff=30.0, max_retry_after=120.0, timeout=60.0)
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True, slots=True)
class SpotlightSettings:
    """Where Spotlight is and what to ask it; ``confidence``, ``support`` and ``language``
    (with the endpoint) are the settings a document's annotation is recorded and keyed by.

    ``rate`` is requests per second at most (None: none for a server on this machine,
    ``REMOTE_RATE`` for any other; 0: no limit); ``max_chars`` the longest part of a text
    sent in one request; ``policy`` how hard to try and the deadline of one request.
    """

    url: str
    confidence: float = 0.5
    support: int = 0
    language: str = "en"
    rate: float | None = None
    max_chars: int = DEFAULT_MAX_CHARS
    policy: RetryPolicy = field(default=DEFAULT_POLICY)

    @property
    def endpoint(self) -> str:
        """The URL texts are POSTed to."""
        return self.url.rstrip("/") + "/annotate"

    def key(self, text: str) -> str:
        """A digest of ``text`` and the settings that decide its links: the same key, the same answer."""
        settings = [self.endpoint, repr(float(self.confidence)), self.support, self.language, text]
        return "sha256:" + hashlib.sha256(json.dumps(settings, ensure_ascii=False).encode("utf-8")).hexdigest()

    def requests_per_second(self) -> float | None:
        if self.rate is not None:
            return self.rate or None
        return None if urlsplit(self.url).hostname in _LOCAL_HOSTS else REMOTE_RATE

    def problem(self) -> str | None:
        """What is wrong with these settings, or None."""
        parsed = urlsplit(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return f"the Spotlight URL {self.url!r} is not an http(s) URL"
        try:
            NamedNode(self.endpoint)
        except ValueError:
            return f"the Spotlight URL {self.url!r} is not a valid URL"
        if not 0.0 <= self.confidence <= 1.0:
            return f"the confidence must be in [0, 1], not {self.confidence:g}"
        if self.support < 0:
            return f"the support must be 0 or more, not {self.support}"
        if not _LANGUAGE.match(self.language):
            return f"the language must be a language code such as en or pt-BR, not {self.language!r}"
        last = parsed.path.rstrip("/").rsplit("/", 1)[-1]
        if len(last) == 2 and last.isalpha() and last.lower() != self.language.split("-")[0].lower():
            return f"the Spotlight URL {self.url} serves the language {last!r}, not {self.language!r}"
        if self.max_chars < MIN_PART_CHARS:
            return f"the longest part of a text sent must be {MIN_PART_CHARS} characters or more, not {self.max_chars}"
        if self.rate is not None and self.rate < 0:
            return f"the rate must be 0 (no limit) or more requests per second, not {self.rate:g}"
        return None


@dataclass(frozen=True, slots=True)
class Answer:
    """Spotlight's answer for a whole text (merged from its parts' when it went in parts),
    the seconds the server took to answer them, and how many parts there were."""

    response: dict[str, Any]
    seconds: float
    parts: int


class NotAnnotated(Exception):
    """This text could not be annotated (out of tries, a refusal); other texts may be."""


class _TooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


class RateLimit:
    """At most ``rate`` calls of ``wait`` return per second, across threads; ``hold``
    makes every caller wait (a server's ``Retry-After`` is meant for the client, not one request)."""

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Return when the next request may go."""
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            self._next = at + self._interval
        if at > now:
            self._sleep(at - now)

    def hold(self, seconds: float) -> None:
        """No request goes for ``seconds`` from now."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


class Spotlight:
    """A Spotlight server, asked from several threads at once; counts its requests and retries."""

    def __init__(self, settings: SpotlightSettings, *, connections: int = 4) -> None:
        problem = settings.problem()
        if problem is not None:
            raise AnnotateError(problem)
        self.settings = settings
        self.requests = 0
        self.retries = 0
        self._limit = RateLimit(settings.requests_per_second())
        self._max_chars = settings.max_chars
        self._lock = threading.Lock()
        self._http = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, connections))
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)

    def close(self) -> None:
        self._http.close()

    def annotate(self, text: str) -> Answer:
        """Spotlight's answer for ``text``, in parts if it is long.

        Raises ``NotAnnotated`` when this text cannot be annotated, ``AnnotateError`` when
        the URL is not a Spotlight server at all (no text can be).
        """
        answers: list[tuple[int, dict[str, Any]]] = []
        seconds = 0.0
        for start, part in split.parts(text, self._max_chars):
            seconds += self._ask_part(start, part, answers)
        return Answer(split.merged(text, answers), round(seconds, 3), len(answers))

    def _ask_part(self, start: int, part: str, answers: list[tuple[int, dict[str, Any]]]) -> float:
        try:
            answer, seconds = self._ask(part)
        except _TooLarge:
            if len(part) <= MIN_PART_CHARS:
                raise NotAnnotated(
                    f"{self.settings.endpoint} refuses a part of {len(part)} characters as too large (HTTP 413)"
                ) from None
            smaller = max(MIN_PART_CHARS, len(part) // 2)
            with self._lock:
                self._max_chars = min(self._max_chars, smaller)
            return sum(self._ask_part(start + at, piece, answers) for at, piece in split.parts(part, smaller))
        # A server that trims the text it was sent counts offsets in what it kept.
        shift = part.find(answer["@text"]) if answer["@text"] != part else 0
        if shift < 0:
            raise NotAnnotated(f"{self.settings.endpoint} answered about another text than the one it was sent")
        answers.append((start + shift, answer))
        return seconds

    def _ask(self, part: str) -> tuple[dict[str, Any], float]:
        try:
            return retrying(lambda: self._once(part), self.settings.policy, pause=self._pause)
        except GaveUp as exc:
            raise NotAnnotated(f"{self.settings.endpoint}: {exc}") from None

    def _pause(self, seconds: float, problem: Transient) -> None:
        with self._lock:
            self.retries += 1
        if problem.retry_after is not None:
            self._limit.hold(seconds)
        time.sleep(seconds)

    def _once(self, part: str) -> tuple[dict[str, Any], float]:
        self._limit.wait()
        with self._lock:
            self.requests += 1
        started = time.monotonic()
        timeout = self.settings.policy.timeout
        reply = bounded(lambda deadline: self._post(part, deadline), timeout, name="graphbuild-spotlight")
        seconds = time.monotonic() - started
        endpoint = self.settings.endpoint
        status = f"HTTP {reply.status} {reply.reason}".rstrip() + _server_said(reply.body)
        if reply.status == 413:
            raise _TooLarge()
        if reply.status in RETRY_STATUS:
            raise Transient(status, retry_after(reply.headers.get("retry-after")))
        if reply.status in (404, 405):
            raise AnnotateError(
                f"{endpoint}: HTTP {reply.status} {reply.reason}: no Spotlight /annotate there; the URL to give is the base before "
                "/annotate (http://localhost:2222/rest for Spotlight's Docker image)"
            )
        if reply.status >= 400:
            raise NotAnnotated(f"{endpoint}: {status}")
        return _spotlight_json(reply.body), seconds

    def _post(self, part: str, deadline: float) -> _Reply:
        settings = self.settings
        form = {"text": part, "confidence": repr(float(settings.confidence)), "support": str(settings.support)}
        timeout = settings.policy.timeout
        try:
            response = self._http.post(
                settings.endpoint,
                data=form,
                headers={"Accept": "application/json"},
                timeout=(min(10.0, timeout), timeout),
                stream=True,
            )
            response.raw.decode_content = True
            body = read_until(response.raw, deadline)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise Transient(f"no complete answer within {timeout:g} s") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise Transient(f"cannot reach it ({_reason(exc)})") from None
        headers = {name.lower(): value for name, value in response.headers.items()}
        return _Reply(response.status_code, response.reason or "", headers, body)


def _spotlight_json(body: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(body)
        if not isinstance(answer, dict) or not isinstance(answer.get("@text"), str):
            raise TypeError('no "@text" string')
    except (ValueError, TypeError) as exc:
        preview = body[:60].decode("utf-8", "replace").replace("\n", " ")
        raise Transient(f"answered something that is not Spotlight JSON ({exc}): {preview!r}") from None
    return answer


def _server_said(body: bytes) -> str:
    """The first line of an error page's text, if it has one worth showing."""
    text = re.sub(r"<[^>]*>", " ", body[:2000].decode("utf-8", "replace"))
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return f": {lines[0][:200]}" if lines else ""


def _reason(exc: BaseException) -> str:
    # requests wraps urllib3's error in its own: the innermost says what happened.
    while exc.__context__ is not None and isinstance(exc.__context__, Exception) and str(exc.__context__):
        exc = exc.__context__
    text = str(exc)
    refused = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    return refused.group(0) if refused else text[:200]
