"""A SPARQL endpoint as public endpoints really behave, through SPARQLWrapper.

Each request is a POST (form-encoded, so that Virtuoso, Oxigraph and Fuseki all take it)
with a total deadline from connect to last byte, not only a socket timeout: a server that
accepts and never answers, or trickles, is cut off. Connection failures, HTTP 429/500/502/
503/504 and answers that are not SPARQL JSON are retried with exponential backoff, honouring
``Retry-After``. An answer that says it is incomplete (Virtuoso's ``X-SQL-State`` on an
anytime timeout, ``X-SPARQL-MaxRows`` when cut at its row cap, or as many rows as the cap)
comes back marked incomplete, for the caller to ask again in smaller pieces.
"""

from __future__ import annotations

import ast
import email.utils
import http.client
import json
import math
import threading
import time
import urllib.error
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from pyoxigraph import NamedNode
from SPARQLWrapper import JSON, POST, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, SPARQLWrapperException

from graphbuild.enrichment.query import Row
from graphbuild.errors import EnrichError
from graphbuild.store.sparql_json import decode_term

DEFAULT_ENDPOINT = "https://dbpedia.org/sparql"
_RETRY_STATUS = {429, 500, 502, 503, 504}
_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. The defaults suit dbpedia.org/sparql (10,000-row cap, busy at times)."""

    attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    timeout: float = 60.0
    row_cap: int = 10_000

    def wait(self, attempt: int) -> float:
        """The pause before try number ``attempt + 2``: backoff, doubled each time, capped."""
        return min(self.backoff * 2.0**attempt, self.max_backoff)


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Answer:
    """The rows of a SELECT; ``complete`` is False when the server says (or shows) it cut them."""

    rows: Sequence[Row]
    complete: bool = True
    reason: str = ""


class FetchError(EnrichError):
    """An endpoint that failed a request for good: out of retries, or a refusal not worth retrying."""


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class _Response:
    headers: Mapping[str, str]
    body: bytes


class Endpoint:
    """A remote SPARQL endpoint; ``select`` retries per ``policy`` and counts its requests."""

    def __init__(self, url: str, *, policy: RetryPolicy | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise EnrichError(f"--endpoint: {url!r} is not an http(s) URL")
        try:
            self.source = NamedNode(url)
        except ValueError:
            raise EnrichError(f"--endpoint: {url!r} is not a valid URL") from None
        self.url = url
        self.policy = policy or DEFAULT_POLICY
        self.requests = 0

    @property
    def sources(self) -> list[NamedNode]:
        return [self.source]

    @property
    def page_size(self) -> int:
        return max(1, self.policy.row_cap // 2)

    def describe(self) -> str:
        return self.url

    def prepare(self, resources: Sequence[NamedNode]) -> None:
        """Nothing to prepare: the endpoint holds all of DBpedia."""

    def select(self, query: str) -> Answer:
        """Run a SELECT; retried on transient failures, FetchError when out of tries."""
        policy = self.policy
        for attempt in range(policy.attempts):
            try:
                return self._answer(self._bounded(query))
            except _Retry as problem:
                if attempt + 1 == policy.attempts:
                    raise FetchError(f"{self.url}: gave up after {policy.attempts} tries: {problem.reason}") from None
                pause = policy.wait(attempt)
                if problem.retry_after is not None:
                    if problem.retry_after > policy.max_retry_after:
                        raise FetchError(
                            f"{self.url}: {problem.reason}; it asks to wait {problem.retry_after:g} s, "
                            f"longer than the {policy.max_retry_after:g} s graphbuild waits"
                        ) from None
                    pause = max(pause, problem.retry_after)
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _answer(self, response: _Response) -> Answer:
        rows = parse_results(response.body)
        headers = {k.lower(): v for k, v in response.headers.items()}
        if "x-sql-state" in headers:
            message = headers.get("x-sql-message", "").strip()
            return Answer(rows, False, f"partial answer (X-SQL-State {headers['x-sql-state']}: {message})")
        if "x-sparql-maxrows" in headers:
            return Answer(rows, False, f"answer cut at {headers['x-sparql-maxrows']} rows (X-SPARQL-MaxRows)")
        if len(rows) >= self.policy.row_cap:
            return Answer(rows, False, f"{len(rows)} rows, the row cap")
        return Answer(rows)

    def _bounded(self, query: str) -> _Response:
        """One request within ``policy.timeout`` seconds in all, whatever the server does."""
        deadline = time.monotonic() + self.policy.timeout
        responses: list[_Response] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                responses.append(self._request(query, deadline))
            except BaseException as exc:  # handed over to the calling thread
                errors.append(exc)

        self.requests += 1
        worker = threading.Thread(target=work, name="graphbuild-sparql", daemon=True)
        worker.start()
        worker.join(self.policy.timeout)
        if worker.is_alive() or any(isinstance(error, _Deadline) for error in errors):
            raise _Retry(f"no complete answer within {self.policy.timeout:g} s")
        if errors:
            raise errors[0]
        return responses[0]

    def _request(self, query: str, deadline: float) -> _Response:
        wrapper = SPARQLWrapper(self.url)
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setReturnFormat(JSON)
        wrapper.setTimeout(max(1, math.ceil(self.policy.timeout)))
        wrapper.setQuery(query)
        try:
            result = wrapper.query()
            response = result.response
            headers = dict(response.headers.items())
            return _Response(headers, _read_until(response, deadline))
        except EndPointInternalError as exc:
            raise _Retry(f"HTTP 500{_server_said(exc)}") from None
        except urllib.error.HTTPError as exc:
            if exc.code in _RETRY_STATUS:
                raise _Retry(f"HTTP {exc.code} {exc.reason}", _retry_after(exc.headers.get("Retry-After"))) from None
            raise FetchError(f"{self.url}: HTTP {exc.code} {exc.reason}") from None
        except SPARQLWrapperException as exc:
            raise FetchError(f"{self.url}: {type(exc).__name__}: {exc.msg}{_server_said(exc)}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise _Retry(f"cannot reach it ({reason})") from None


class _Deadline(Exception):
    pass


def _read_until(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """The body, one socket read at a time, so that a trickling server cannot outlast the deadline."""
    chunks = []
    try:
        while chunk := response.read1(_CHUNK):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise _Deadline()
    finally:
        response.close()
    return b"".join(chunks)


def parse_results(body: bytes) -> list[Row]:
    """SPARQL 1.1 JSON results as rows of pyoxigraph terms, Virtuoso's ``typed-literal`` too.

    A row with a term that is not valid RDF (an IRI with a space, a bad language tag) is
    dropped: DBpedia has a few, and none of them can be stored.
    """
    try:
        data = json.loads(body)
        bindings = data["results"]["bindings"]
        if not isinstance(bindings, list):
            raise TypeError("bindings is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        preview = body[:60].decode("utf-8", "replace").replace("\n", " ")
        raise _Retry(f"answered something that is not SPARQL JSON results ({exc}): {preview!r}") from None
    rows: list[Row] = []
    for binding in bindings:
        try:
            rows.append({name: decode_term(value) for name, value in binding.items()})
        except (ValueError, KeyError, TypeError):
            continue
    return rows


def _retry_after(value: str | None) -> float | None:
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


def _server_said(exc: SPARQLWrapperException) -> str:
    """What the server answered, from the message SPARQLWrapper makes of it (it keeps nothing else)."""
    _, sep, said = str(exc).partition("Response:\n")
    if not sep:
        return ""
    try:
        body = ast.literal_eval(said)
    except (ValueError, SyntaxError):
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f": {lines[0][:200]}" if lines else ""
