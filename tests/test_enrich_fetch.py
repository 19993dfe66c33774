"""The endpoint client against real servers and against servers that fail on purpose."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode
from servers import Close, FaultServer, Hang, OxigraphServer, Partial, Reply, Trickle, VirtuosoServer, free_port

from graphbuild.enrichment.fetch import Answer, Endpoint, FetchError, RetryPolicy, parse_results
from graphbuild.enrichment.query import Selection, batch_query, triples_by_resource
from graphbuild.errors import EnrichError

DATA = Path(__file__).resolve().parent / "data" / "dbpedia"
DBR = "http://dbpedia.org/resource/"
XSD = "http://www.w3.org/2001/XMLSchema#"
FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, max_retry_after=5, timeout=1.5)
PAIN = NamedNode(DBR + "Pain")
QUERY = batch_query([PAIN], Selection(languages=("en", "de")))
Faults = Callable[..., FaultServer]


@pytest.fixture
def upstream(oxigraph_server: OxigraphServer) -> str:
    oxigraph_server.ensure_loaded(DATA / "seed-resources.ttl")
    return oxigraph_server.query_url


def _pain(answer: Answer) -> int:
    return len(triples_by_resource(answer.rows, [PAIN])[PAIN])


def test_real_servers_answer_the_batch_query_alike(upstream: str, virtuoso_server: VirtuosoServer) -> None:
    virtuoso_server.ensure_loaded(DATA / "seed-resources.ttl", "http://dbpedia.org")
    answers = [Endpoint(url, policy=FAST).select(QUERY) for url in (upstream, virtuoso_server.query_url)]
    assert all(a.complete for a in answers)
    oxigraph, virtuoso = (triples_by_resource(a.rows, [PAIN])[PAIN] for a in answers)
    assert len(oxigraph) == 11 and set(oxigraph) == set(virtuoso)


def test_virtuoso_typed_literals_become_typed_terms(virtuoso_server: VirtuosoServer) -> None:
    answer = Endpoint(virtuoso_server.query_url, policy=FAST).select("SELECT (COUNT(*) AS ?n) WHERE { VALUES ?x { 1 2 3 } }")
    assert answer.rows == [{"n": Literal("3", datatype=NamedNode(XSD + "integer"))}]


def test_parse_results_reads_every_term_kind() -> None:
    body = b"""{"head": {"vars": ["a", "b", "c", "d", "e"]}, "results": {"bindings": [
      {"a": {"type": "uri", "value": "http://dbpedia.org/resource/Pain"},
       "b": {"type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#double", "value": "0.5"},
       "c": {"type": "literal", "xml:lang": "de", "value": "Schmerz"},
       "d": {"type": "literal", "value": "plain"},
       "e": {"type": "literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "7"}},
      {"a": {"type": "uri", "value": "http://dbpedia.org/resource/Bad IRI"}},
      {"a": {"type": "literal", "xml:lang": "not a tag", "value": "x"}}
    ]}}"""
    assert parse_results(body) == [
        {
            "a": PAIN,
            "b": Literal("0.5", datatype=NamedNode(XSD + "double")),
            "c": Literal("Schmerz", language="de"),
            "d": Literal("plain"),
            "e": Literal("7", datatype=NamedNode(XSD + "integer")),
        }
    ]


def test_http_500_is_retried_until_an_answer(fault_server: Faults, upstream: str) -> None:
    server = fault_server([Reply(500, body=b"Virtuoso 42000 Error SR483: Stack overflow"), Reply(502)], upstream)
    endpoint = Endpoint(server.url, policy=FAST)
    answer = endpoint.select(QUERY)
    assert answer.complete and _pain(answer) == 11
    assert [seen.answered for seen in server.requests] == ["Reply", "Reply", "Proxy"]
    assert endpoint.requests == 3


def test_out_of_tries_says_what_the_server_did(fault_server: Faults) -> None:
    server = fault_server([Reply(500, body=b"Virtuoso 42000 Error SR483: Stack overflow\nmore")] + [Reply(503)] * 5)
    with pytest.raises(FetchError) as info:
        Endpoint(server.url, policy=FAST).select(QUERY)
    assert str(info.value) == f"{server.url}: gave up after 3 tries: HTTP 503 Service Unavailable"
    assert len(server.requests) == 3
    server = fault_server([Reply(500, body=b"Virtuoso 42000 Error SR483: Stack overflow\nmore")] * 3)
    with pytest.raises(FetchError) as info:
        Endpoint(server.url, policy=FAST).select(QUERY)
    assert str(info.value) == f"{server.url}: gave up after 3 tries: HTTP 500: Virtuoso 42000 Error SR483: Stack overflow"


def test_429_waits_as_long_as_retry_after_says(fault_server: Faults, upstream: str) -> None:
    server = fault_server([Reply(429, {"Retry-After": "1"})], upstream)
    answer = Endpoint(server.url, policy=FAST).select(QUERY)
    assert answer.complete
    first, second = server.requests
    assert second.at - first.at >= 1.0  # the backoff alone would have waited 0.01 s


def test_retry_after_as_an_http_date(fault_server: Faults, upstream: str) -> None:
    server = fault_server([Reply(503, {"Retry-After": formatdate(time.time() + 2, usegmt=True)})], upstream)
    assert Endpoint(server.url, policy=FAST).select(QUERY).complete
    first, second = server.requests
    assert second.at - first.at >= 0.9  # HTTP dates have whole seconds


def test_a_retry_after_too_long_fails_at_once(fault_server: Faults) -> None:
    server = fault_server([Reply(429, {"Retry-After": "3600"}, b"Rate limit exceeded")])
    with pytest.raises(FetchError) as info:
        Endpoint(server.url, policy=FAST).select(QUERY)
    assert str(info.value) == (
        f"{server.url}: HTTP 429 Too Many Requests; it asks to wait 3600 s, longer than the 5 s graphbuild waits"
    )
    assert len(server.requests) == 1


@pytest.mark.parametrize("behaviour", [Hang(), Trickle(0.2)], ids=["never-answers", "trickles"])
def test_a_total_deadline_cuts_off_silent_and_trickling_servers(fault_server: Faults, behaviour: object) -> None:
    # The trickling server sends a byte every 0.2 s: a socket timeout alone would wait for ever.
    server = fault_server([behaviour] * 2)
    policy = RetryPolicy(attempts=2, backoff=0.01, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        Endpoint(server.url, policy=policy).select(QUERY)
    elapsed = time.monotonic() - started
    assert str(info.value) == f"{server.url}: gave up after 2 tries: no complete answer within 1 s"
    assert 2.0 <= elapsed < 8.0  # two tries of 1 s each; without a total deadline a trickle never ends
    assert len(server.requests) == 2


def test_a_dropped_connection_is_retried(fault_server: Faults, upstream: str) -> None:
    server = fault_server([Close()], upstream)
    assert Endpoint(server.url, policy=FAST).select(QUERY).complete
    assert [seen.answered for seen in server.requests] == ["Close", "Proxy"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html><body>Service Temporarily Unavailable</body></html>", "'<html><body>Service Temporarily Unavailable</body></html>'"),
        (b'{"head": {"vars": []}}', "'{\"head\": {\"vars\": []}}'"),
        (b'{"head": {}, "results": {"bindings": {}}}', "'{\"head\": {}, \"results\": {\"bindings\": {}}}'"),
    ],
    ids=["html", "no-results", "bindings-not-a-list"],
)
def test_garbage_is_retried_then_reported(fault_server: Faults, body: bytes, detail: str) -> None:
    server = fault_server([Reply(200, {"Content-Type": "application/sparql-results+json"}, body)] * 3)
    with pytest.raises(FetchError) as info:
        Endpoint(server.url, policy=FAST).select(QUERY)
    message = str(info.value)
    assert message.startswith(f"{server.url}: gave up after 3 tries: answered something that is not SPARQL JSON results (")
    assert message.endswith(f"): {detail}")


def test_garbage_once_then_an_answer(fault_server: Faults, upstream: str) -> None:
    server = fault_server([Reply(200, {}, b"\x00\xff garbage")], upstream)
    assert _pain(Endpoint(server.url, policy=FAST).select(QUERY)) == 11


def test_virtuoso_partial_answers_come_back_incomplete(fault_server: Faults, upstream: str) -> None:
    server = fault_server([Partial(0.5)], upstream)
    answer = Endpoint(server.url, policy=FAST).select(QUERY)
    assert not answer.complete
    assert answer.reason == (
        "partial answer (X-SQL-State S1TAT: RC...: Returning incomplete results, query interrupted by result timeout.  Activity:  1.2M rnd)"
    )
    assert _pain(answer) == 5


def test_as_many_rows_as_the_cap_counts_as_cut(upstream: str) -> None:
    answer = Endpoint(upstream, policy=RetryPolicy(row_cap=11)).select(QUERY)
    assert (answer.complete, answer.reason) == (False, "11 rows, the row cap")
    assert Endpoint(upstream, policy=RetryPolicy(row_cap=12)).select(QUERY).complete


def test_connection_refused(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(FetchError) as info:
        Endpoint(url, policy=FAST).select(QUERY)
    assert str(info.value) == f"{url}: gave up after 3 tries: cannot reach it ([Errno 111] Connection refused)"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(400, body=b"Virtuoso 37000 Error SP030: SPARQL compiler, line 1: syntax error"),
         ("QueryBadFormed: A bad request has been sent to the endpoint: probably the SPARQL query is badly formed: "
          "Virtuoso 37000 Error SP030: SPARQL compiler, line 1: syntax error")),
        (Reply(404), "EndPointNotFound: It was not possible to connect to the given endpoint: check it is correct"),
        (Reply(403), "HTTP 403 Forbidden"),
    ],
    ids=["400", "404", "403"],
)
def test_refusals_are_not_retried(fault_server: Faults, reply: Reply, message: str) -> None:
    server = fault_server([reply] * 3)
    with pytest.raises(FetchError) as info:
        Endpoint(server.url, policy=FAST).select(QUERY)
    assert str(info.value) == f"{server.url}: {message}"
    assert len(server.requests) == 1


def test_the_query_goes_by_post_as_a_form(fault_server: Faults, upstream: str) -> None:
    server = fault_server([], upstream)
    Endpoint(server.url, policy=FAST).select(QUERY)
    (seen,) = server.requests
    assert seen.query == QUERY and seen.resources == 1


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/sparql", "http://exa mple.org/"])
def test_bad_endpoint_urls(url: str) -> None:
    with pytest.raises(EnrichError, match=r"^endpoint: "):
        Endpoint(url)


def _empty_results() -> Reply:
    return Reply(200, {"Content-Type": "application/sparql-results+json"}, b'{"head": {"vars": []}, "results": {"bindings": []}}')


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_is_refused_not_followed(fault_server: Faults, status: int) -> None:
    """urllib followed a 302 to any host as a GET without the query, and the other host's
    empty answer read as "DBpedia knows nothing of these resources"."""
    elsewhere = fault_server([_empty_results()] * 3)
    server = fault_server([Reply(status, {"Location": elsewhere.url})] * 3)
    with pytest.raises(FetchError) as info:
        Endpoint(server.url, policy=FAST).select(QUERY)
    assert str(info.value) == (
        f"{server.url}: redirected (HTTP {status}) to {elsewhere.url}; graphbuild follows redirects only "
        f"within {server.url.rsplit('/', 1)[0]}: give that endpoint itself if it is the one meant"
    )
    assert (len(server.requests), elsewhere.requests) == (1, [])


def test_a_redirect_to_another_scheme_is_refused(fault_server: Faults) -> None:
    server = fault_server([Reply(302, {"Location": "ftp://127.0.0.1/sparql"})] * 3)
    with pytest.raises(FetchError, match=r"redirected \(HTTP 302\) to ftp://127\.0\.0\.1/sparql; graphbuild follows"):
        Endpoint(server.url, policy=FAST).select(QUERY)
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_on_the_same_host_sends_the_query_again(fault_server: Faults, upstream: str, status: int) -> None:
    server = fault_server([Reply(status, {"Location": "/sparql-moved"})], upstream)
    answer = Endpoint(server.url, policy=FAST).select(QUERY)
    assert answer.complete and _pain(answer) == 11
    first, second = server.requests
    assert (first.path, second.path) == ("/sparql", "/sparql-moved")
    assert first.query == second.query == QUERY
