"""A SPARQL 1.1 store over HTTP (an Oxigraph server, Virtuoso, Jena Fuseki…) as a graphbuild store.

Document graphs are written with Graph Store Protocol PUTs: each is an atomic, idempotent
replace of one graph (never POST, which appends). Metadata goes in SPARQL updates, one per
batch. Queries go over the SPARQL protocol with SPARQLWrapper; the server's default graph
must be the union of its graphs (Virtuoso's is; start Oxigraph with
``--union-default-graph``; Fuseki needs ``tdb2:unionDefaultGraph true``).

The protocol has no way to bind values, so bound terms travel in a ``VALUES`` block at
the top of the query's WHERE clause, written by pyoxigraph's own term serialiser: an IRI
there has been validated and a literal escaped, so a value can never become syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import pyoxigraph
import requests
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from graphbuild.errors import QueryError, StoreError
from graphbuild.model.vocab import DCTERMS, GB, METADATA_GRAPH
from graphbuild.store.protocol import STATS_QUERY, Bindings, Row, Rows, Stats, int_value, query_form, wrong_form
from graphbuild.store.sparql_json import decode_ask, decode_select

_TIMEOUT = 120
NOT_OPTIMIZED = "optimize works on an embedded store; a SPARQL server manages its own storage"
# Subjects per update request when replacing many (the figures graph): servers cap a request.
_SUBJECTS_PER_UPDATE = 200


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a remote store answers: SPARQL query, SPARQL update, Graph Store Protocol."""

    query: str
    update: str
    graph_store: str
    user: str | None = None
    password: str | None = None

    @classmethod
    def guess(
        cls,
        url: str,
        *,
        query: str | None = None,
        update: str | None = None,
        graph_store: str | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> Endpoints:
        """Endpoints from one URL: ``…/sparql`` is Virtuoso's layout (``/sparql`` and
        ``/sparql-graph-crud``); anything else Oxigraph's (``/query``, ``/update``, ``/store``).
        Each can be named outright instead."""
        url = url.rstrip("/")
        if url.endswith("/sparql"):
            guessed = (url, url, url + "-graph-crud")
        else:
            guessed = (url + "/query", url + "/update", url + "/store")
        return cls(query or guessed[0], update or guessed[1], graph_store or guessed[2], user, password)


def is_url(location: object) -> bool:
    return isinstance(location, str) and urlsplit(location).scheme in ("http", "https")


class RemoteStore:
    """The methods of ``EmbeddedStore``, over the SPARQL protocol and the Graph Store Protocol."""

    read_only = False
    # Graph Store PUTs go one after another, in the caller's thread.
    bulk_threads = 0

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.location = endpoints.query
        self._http = requests.Session()
        if endpoints.user is not None:
            self._http.auth = (endpoints.user, endpoints.password or "")

    @classmethod
    def open(cls, endpoints: Endpoints) -> RemoteStore:
        store = cls(endpoints)
        store.ask("ASK { }")  # fail early, with the endpoint's own words, if it is not there
        return store

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def content_hash(self, graph: NamedNode) -> str | None:
        rows = self._rows(f"SELECT ?h WHERE {{ GRAPH <{METADATA_GRAPH.value}> {{ ?g <{GB}contentHash> ?h }} }}", g=graph)
        return rows[0][0].value if rows and isinstance(rows[0][0], Literal) else None

    def has_graph(self, graph: NamedNode) -> bool:
        return self.ask("ASK { GRAPH ?g { ?s ?p ?o } }", bindings={"g": graph})

    def is_empty(self) -> bool:
        # Other clients may write to a server while we do: never assume it empty.
        return False

    def add(self, quads: Iterable[Quad]) -> None:
        self._put_all(list(quads))

    def bulk_add(self, nquads: str) -> None:
        self._put_all(list(pyoxigraph.parse(nquads, RdfFormat.N_QUADS)))

    def replace(
        self, graphs: Sequence[NamedNode], quads: Sequence[Quad], *, subjects: Mapping[NamedNode, Sequence[NamedNode]] | None = None
    ) -> None:
        """PUT each document graph that has quads whole, then one update request that drops
        the graphs that go away, replaces the metadata of all, and replaces ``subjects`` in
        their graphs with their new quads: a delete is that one request, which a server
        applies whole (Oxigraph as one transaction)."""
        by_graph = _by_graph(quads)
        metadata = by_graph.pop(METADATA_GRAPH.value, [])
        dropped = [graph for graph in graphs if graph.value not in by_graph]
        for graph in graphs:
            if graph.value in by_graph:
                self._put(graph.value, by_graph.pop(graph.value))
        parts = [f"DROP SILENT GRAPH {graph}" for graph in dropped]
        for graph, named in (subjects or {}).items():
            parts += [f"DELETE WHERE {{ GRAPH {graph} {{ {subject} ?p ?o }} }}" for subject in named]
            triples = by_graph.pop(graph.value, [])
            if triples:
                parts.append(f"INSERT DATA {{ GRAPH {graph} {{ {_ntriples(triples)} }} }}")
        for graph_name, triples in by_graph.items():
            self._put(graph_name, triples)
        self._replace_metadata(graphs, metadata, before=parts)

    def replace_subjects(
        self, graph: NamedNode, subjects: Sequence[NamedNode], quads: Sequence[Quad], *, atomic: bool = True
    ) -> None:
        """Remove what ``graph`` says about ``subjects`` and add ``quads`` (``atomic`` or not:
        a server's update requests are each atomic, many subjects take several).

        One update request per few hundred subjects (servers cap a request's size), each
        replacing its subjects whole; the last request carries the last subjects' quads.
        """
        by_subject: dict[str, list[Triple]] = {}
        for quad in quads:
            by_subject.setdefault(str(quad.subject), []).append(quad.triple)
        names = list(dict.fromkeys([str(s) for s in subjects] + list(by_subject)))
        for start in range(0, len(names), _SUBJECTS_PER_UPDATE):
            batch = names[start : start + _SUBJECTS_PER_UPDATE]
            parts = [f"DELETE WHERE {{ GRAPH <{graph.value}> {{ {name} ?p ?o }} }}" for name in batch]
            triples = [t for name in batch for t in by_subject.get(name, [])]
            if triples:
                parts.append(f"INSERT DATA {{ GRAPH <{graph.value}> {{ {_ntriples(triples)} }} }}")
            self._update(" ;\n".join(parts))

    def document_graphs(self, ids: Iterable[str]) -> dict[str, NamedNode]:
        found: dict[str, NamedNode] = {}
        for doc_id in ids:
            rows = self._rows(f"SELECT ?g WHERE {{ GRAPH ?g {{ ?g <{DCTERMS}identifier> ?id }} }}", id=Literal(doc_id))
            if rows and isinstance(rows[0][0], NamedNode):
                found[doc_id] = rows[0][0]
        return found

    def select(self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None) -> Rows:
        text = self._text(sparql, bindings, prefixes)
        if query_form(text) != "SELECT":
            raise wrong_form("SELECT", text)
        return decode_select(self._request(text))

    def ask(self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None) -> bool:
        text = self._text(sparql, bindings, prefixes)
        if query_form(text) != "ASK":
            raise wrong_form("ASK", text)
        return decode_ask(self._request(text))

    def construct(
        self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None
    ) -> Iterator[Triple]:
        text = self._text(sparql, bindings, prefixes)
        if query_form(text) not in ("CONSTRUCT", "DESCRIBE"):
            raise wrong_form("CONSTRUCT or DESCRIBE", text)
        return iter(self._triples(text))

    def update(self, sparql: str) -> None:
        self._update(sparql)

    @staticmethod
    def _text(sparql: str, bindings: Bindings | None, prefixes: Mapping[str, str] | None) -> str:
        text = with_values(sparql, bindings or {})
        if prefixes:
            text = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items()) + text
        return text

    def quads(
        self,
        graph: NamedNode | None = None,
        *,
        subject: NamedNode | None = None,
        predicates: Sequence[NamedNode] | None = None,
    ) -> Iterator[Quad]:
        # A graph comes whole (one request) and is filtered here: a request per predicate
        # would cost more than the quads left out.
        wanted = None if predicates is None else set(predicates)
        if graph is not None and subject is not None:
            rows = self._rows("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", g=graph, s=subject)
            yield from (
                Quad(subject, p, o, graph)
                for _, p, o in rows
                if isinstance(p, NamedNode) and o is not None and (wanted is None or p in wanted)
            )
            return
        graphs = [graph] if graph is not None else self.graphs()
        for name in graphs:
            for triple in self._get(name.value):
                if (subject is None or triple.subject == subject) and (wanted is None or triple.predicate in wanted):
                    yield Quad(triple.subject, triple.predicate, triple.object, name)

    def graphs(self) -> list[NamedNode]:
        """graphbuild's graphs: the documents the metadata knows, and the project's own.

        A server's other graphs (Virtuoso's system graphs, say) are not ours to export.
        """
        rows = self._rows(f"SELECT DISTINCT ?g WHERE {{ GRAPH <{METADATA_GRAPH.value}> {{ ?g <{GB}contentHash> ?h }} }}")
        names = {row[0].value for row in rows if isinstance(row[0], NamedNode)}
        project = self._rows("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), ?ns)) }", ns=Literal("https://w3id.org/graphbuild/graph/"))
        names |= {row[0].value for row in project if isinstance(row[0], NamedNode)}
        return [NamedNode(name) for name in sorted(names)]

    def dump(self, output: BinaryIO | str, format: RdfFormat) -> None:
        pyoxigraph.serialize(self.quads(), output, format)

    def stats(self) -> Stats:
        rows = self._rows(STATS_QUERY)
        graphs = self.graphs()
        quads = 0
        for graph in graphs:
            counted = self._rows("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", g=graph)
            quads += int_value(counted[0][0])
        return Stats.from_row(rows[0] if rows else None, quads=quads, graphs=len(graphs))

    def quad_count(self) -> int:
        return self.stats().quads

    def optimize(self) -> None:
        raise StoreError(NOT_OPTIMIZED)

    def _rows(self, sparql: str, **bindings: NamedNode | Literal) -> list[Row]:
        return list(self.select(sparql, bindings=bindings))

    def _request(self, text: str) -> dict[str, Any]:
        client = SPARQLWrapper(self.endpoints.query)
        client.setMethod(POST)
        client.setReturnFormat(JSON)
        client.setTimeout(_TIMEOUT)
        if self.endpoints.user is not None:
            client.setCredentials(self.endpoints.user, self.endpoints.password or "")
        client.setQuery(text)
        try:
            answer = client.queryAndConvert()
        except SPARQLWrapperException as exc:
            raise QueryError(f"{self.endpoints.query} refused the query: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot reach {self.endpoints.query}: {exc}") from exc
        except ValueError as exc:
            # A server that fails once it has begun to answer (a SERVICE call failing, say)
            # can only cut its answer short, often with its error inside.
            raise QueryError(f"the query failed while {self.endpoints.query} sent its results (the answer is cut short: {exc})") from exc
        if not isinstance(answer, dict):
            raise StoreError(f"{self.endpoints.query} did not answer in SPARQL JSON results")
        return answer

    def _triples(self, text: str) -> list[Triple]:
        response = self._post(self.endpoints.query, data={"query": text}, headers={"Accept": "application/n-triples"})
        try:
            return list(pyoxigraph.parse(response.content, RdfFormat.N_TRIPLES))
        except SyntaxError as exc:
            raise QueryError(f"the query failed while {self.endpoints.query} sent its results (the answer is cut short: {exc})") from exc

    def _update(self, text: str) -> None:
        self._post(self.endpoints.update, data={"update": text})

    def _get(self, graph: str) -> list[Triple]:
        response = self._send("GET", graph, headers={"Accept": "application/n-triples"})
        if response.status_code == 404:
            return []
        return list(pyoxigraph.parse(response.content, RdfFormat.N_TRIPLES))

    def _put(self, graph: str, triples: list[Triple]) -> None:
        body = pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES) or b""
        self._send("PUT", graph, data=body, headers={"Content-Type": "application/n-triples"})

    def _put_all(self, quads: list[Quad]) -> None:
        by_graph = _by_graph(quads)
        metadata = by_graph.pop(METADATA_GRAPH.value, [])
        for graph, triples in by_graph.items():
            self._put(graph, triples)
        if metadata:
            self._update(f"INSERT DATA {{ GRAPH <{METADATA_GRAPH.value}> {{ {_ntriples(metadata)} }} }}")

    def _replace_metadata(self, graphs: Sequence[NamedNode], metadata: list[Triple], *, before: Sequence[str] = ()) -> None:
        # One update request: the old records go and the new come in the same transaction.
        parts = [*before] + [
            f"DELETE WHERE {{ GRAPH <{METADATA_GRAPH.value}> {{ {graph} ?p ?o }} }}" for graph in graphs
        ]
        if metadata:
            parts.append(f"INSERT DATA {{ GRAPH <{METADATA_GRAPH.value}> {{ {_ntriples(metadata)} }} }}")
        self._update(" ;\n".join(parts))

    def _send(
        self, method: str, graph: str, *, data: bytes | None = None, headers: dict[str, str] | None = None, allow_missing: bool = False
    ) -> requests.Response:
        try:
            response = self._http.request(
                method, self.endpoints.graph_store, params={"graph": graph}, data=data, headers=headers, timeout=_TIMEOUT
            )
        except requests.RequestException as exc:
            raise StoreError(f"cannot reach {self.endpoints.graph_store}: {exc}") from exc
        if response.status_code >= 400 and not (response.status_code == 404 and (allow_missing or method == "GET")):
            raise StoreError(f"{method} {graph} at {self.endpoints.graph_store}: HTTP {response.status_code} {response.text[:300].strip()}")
        return response

    def _post(self, url: str, *, data: dict[str, str], headers: dict[str, str] | None = None) -> requests.Response:
        try:
            response = self._http.post(url, data=data, headers=headers, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            raise StoreError(f"cannot reach {url}: {exc}") from exc
        if response.status_code >= 400:
            raise StoreError(f"{url}: HTTP {response.status_code} {response.text[:300].strip()}")
        return response


def with_values(sparql: str, bindings: Bindings) -> str:
    """``sparql`` with ``bindings`` as a VALUES block at the top of its first WHERE group, and
    of every subquery's WHERE group that projects one of them.

    A subquery is evaluated on its own before it is joined (SPARQL's bottom-up semantics), so
    one that takes a page (``LIMIT``) of, say, an entity's documents must see the entity
    bound inside it, as Oxigraph binds projected variables.
    """
    if not bindings:
        return sparql
    # Comment lines are blanked (same length) so that a '# WHERE {' in a header cannot match.
    searchable = re.sub(r"(?m)^\s*#.*$", lambda m: " " * len(m.group(0)), sparql)
    first = re.search(r"(?i)\bWHERE\s*\{", searchable) or re.search(r"\{", searchable)
    if first is None:
        raise QueryError("the query has no WHERE clause to bind parameters in")
    blocks = {first.end(): list(bindings)}
    for select in _SELECT_WHERE.finditer(searchable):
        projected = select["projection"]
        names = [name for name in bindings if "*" in projected or re.search(rf"[?$]{name}\b", projected)]
        if names and select.end() not in blocks:
            blocks[select.end()] = names
    for at in sorted(blocks, reverse=True):
        names = blocks[at]
        block = f" VALUES ({' '.join(f'?{name}' for name in names)}) {{ ({' '.join(_serialised(bindings[name]) for name in names)}) }} "
        sparql = sparql[:at] + block + sparql[at:]
    return sparql


# A (sub)query's SELECT clause up to its WHERE group: what it projects.
_SELECT_WHERE = re.compile(r"(?is)\bSELECT\b(?P<projection>[^{}]*?)\bWHERE\s*\{")


def _serialised(term: NamedNode | Literal) -> str:
    if not isinstance(term, (NamedNode, Literal)):
        raise QueryError(f"cannot bind {term!r}: only IRIs and literals")
    return str(term)


def _by_graph(quads: Iterable[Quad]) -> dict[str, list[Triple]]:
    grouped: dict[str, list[Triple]] = {}
    for quad in quads:
        graph = quad.graph_name
        if not isinstance(graph, NamedNode):
            raise StoreError("a remote store takes quads in named graphs only")
        grouped.setdefault(graph.value, []).append(quad.triple)
    return grouped


def _ntriples(triples: list[Triple]) -> str:
    return " ".join(f"{triple} ." for triple in triples)
