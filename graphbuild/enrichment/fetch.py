"""A SPARQL endpoint as public endpoints really behave, through SPARQLWrapper.

Each request is a POST (form-encoded, so that Virtuoso, Oxigraph and Fuseki all take it)
with a total deadline from connect to last byte, not only a socket timeout: a server that
accepts and never answers, or trickles, is cut off. Connection failures, HTTP 429/500/502/
503/504 and answers that are not SPARQL JSON are retried with exponential backoff, honouring
``Retry-After`` (``graphbuild.retry``, shared with annotation). An answer that says it is incomplete (Virtuoso's ``X-SQL-State`` on an
anytime timeout, ``X-SPARQL-MaxRows`` when cut at its row cap, or as many rows as the cap)
comes back marked incomplete, for the caller to ask again in smaller pieces.

Redirects are followed only within the endpoint's own scheme and host, and the query is
sent again with them (urllib alone follows a 302 anywhere, ``ftp://`` too, as a GET that
drops the query, so another host's empty answer would read as "nothing known"). A
redirect elsewhere is a refusal, never an answer.
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import IO
from urllib.parse import urlencode, urlsplit

from pyoxigraph import NamedNode
from SPARQLWrapper.SPARQLExceptions import (
    EndPointNotFound,
    QueryBadFormed,
    SPARQLWrapperException,
    Unauthorized,
    URITooLong,
)

from graphbuild import __version__, retry
from graphbuild.enrichment.query import Row
from graphbuild.errors import EnrichError
from graphbuild.retry import RETRY_STATUS, GaveUp, Transient, bounded, read_until, retrying
from graphbuild.store.sparql_json import decode_term

DEFAULT_ENDPOINT = "https://dbpedia.org/sparql"
# Refusals not worth retrying, named as SPARQLWrapper names them.
_REFUSALS: dict[int, type[SPARQLWrapperException]] = {
    400: QueryBadFormed,
    401: Unauthorized,
    404: EndPointNotFound,
    414: URITooLong,
}
_HEADERS = {
    "Accept": "application/sparql-results+json",
    "Content-Type": "application/x-www-form-urlencoded",
    "User-Agent": f"graphbuild/{__version__}",
}


@dataclass(frozen=True, slots=True)
class RetryPolicy(retry.RetryPolicy):
    """How hard to try (``graphbuild.retry``), and the endpoint's row cap. The defaults suit
    dbpedia.org/sparql (10,000-row cap, busy at times)."""

    row_cap: int = 10_000


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Answer:
    """The rows of a SELECT; ``complete`` is False when the server says (or shows) it cut them."""

    rows: Sequence[Row]
    complete: bool = True
    reason: str = ""


class FetchError(EnrichError):
    """An endpoint that failed a request for good: out of retries, or a refusal not worth retrying."""


@dataclass(frozen=True, slots=True)
class _Response:
    headers: Mapping[str, str]
    body: bytes


class Endpoint:
    """A remote SPARQL endpoint; ``select`` retries per ``policy`` and counts its requests."""

    def __init__(self, url: str, *, policy: RetryPolicy | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise EnrichError(f"{url!r} is not an http(s) URL", setting="endpoint")
        try:
            self.source = NamedNode(url)
        except ValueError:
            raise EnrichError(f"{url!r} is not a valid URL", setting="endpoint") from None
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
        try:
            return retrying(lambda: self._answer(self._bounded(query)), self.policy)
        except GaveUp as exc:
            raise FetchError(f"{self.url}: {exc}") from None

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
        self.requests += 1
        return bounded(lambda deadline: self._request(query, deadline), self.policy.timeout, name="graphbuild-sparql")

    def _request(self, query: str, deadline: float) -> _Response:
        data = urlencode({"query": query}).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, headers=_HEADERS, method="POST")
        try:
            response = _OPENER.open(request, timeout=max(1, math.ceil(self.policy.timeout)))
            headers = dict(response.headers.items())
            return _Response(headers, read_until(response, deadline))
        except urllib.error.HTTPError as exc:
            said = _first_line(exc)
            if exc.code == 500:
                raise Transient(f"HTTP 500{said}") from None
            if exc.code in RETRY_STATUS:
                raise Transient(f"HTTP {exc.code} {exc.reason}", retry.retry_after(exc.headers.get("Retry-After"))) from None
            refusal = _REFUSALS.get(exc.code)
            if refusal is not None:
                raise FetchError(f"{self.url}: {refusal.__name__}: {refusal.msg}{said}") from None
            raise FetchError(f"{self.url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise Transient(f"cannot reach it ({reason})") from None


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme and host, sending the same request
    again; refuses any other (module docstring)."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Message, newurl: str
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if (old.scheme, old.netloc.lower()) != (new.scheme, new.netloc.lower()):
            fp.close()
            raise FetchError(
                f"{req.full_url}: redirected (HTTP {code}) to {newurl}; graphbuild follows redirects only "
                f"within {old.scheme}://{old.netloc}: give that endpoint itself if it is the one meant"
            )
        return urllib.request.Request(newurl, data=req.data, headers=dict(req.header_items()), method=req.get_method())


# The default handlers (proxies from the environment and all), but for redirects.
_OPENER = urllib.request.build_opener(_SameOrigin())


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
        raise Transient(f"answered something that is not SPARQL JSON results ({exc}): {preview!r}") from None
    rows: list[Row] = []
    for binding in bindings:
        try:
            rows.append({name: decode_term(value) for name, value in binding.items()})
        except (ValueError, KeyError, TypeError):
            continue
    return rows


def _first_line(exc: urllib.error.HTTPError) -> str:
    """The first line the server wrote with an error status, as ``: …`` (or nothing)."""
    try:
        body = exc.read(4096)
    except (OSError, http.client.HTTPException):
        return ""
    lines = [line.strip() for line in body.decode("utf-8", "replace").splitlines() if line.strip()]
    return f": {lines[0][:200]}" if lines else ""
