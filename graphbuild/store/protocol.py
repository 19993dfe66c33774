"""What every store is: the ``Store`` protocol, and the backend-neutral types it answers in.

The embedded Oxigraph store (``store.embedded``) and a SPARQL 1.1 server
(``store.remote``) both implement ``Store``; the library takes a ``Store`` everywhere and
never asks which one it has. Each kind of query has its own typed call: ``select`` gives
``Rows``, ``ask`` a bool, ``construct`` triples (CONSTRUCT and DESCRIBE alike).
``query_form`` tells which one an ad-hoc query text is.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol
from typing import Literal as Choice

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple

from graphbuild.errors import QueryError
from graphbuild.model.vocab import METADATA_GRAPH, sparql_prologue

__all__ = [
    "STATS_QUERY",
    "Bindings",
    "QueryForm",
    "Row",
    "Rows",
    "Stats",
    "Store",
    "Term",
    "float_value",
    "int_value",
    "lexical",
    "metadata_record",
    "keywords_only",
    "query_form",
]

Term = NamedNode | BlankNode | Literal | Triple
Row = tuple[Term | None, ...]
# Values bound to query variables as RDF terms (never spliced into the query text).
Bindings = Mapping[str, NamedNode | Literal]
QueryForm = Choice["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]


@dataclass(frozen=True, slots=True)
class Rows:
    """SELECT results: the variable names, then rows of terms (None where unbound).

    ``rows`` is read once, as it streams from the store.
    """

    variables: tuple[str, ...]
    rows: Iterator[Row]

    def __iter__(self) -> Iterator[Row]:
        return self.rows

    def without(self, names: Iterable[str]) -> Rows:
        """The same rows without the columns of ``names`` (bound parameters, say)."""
        dropped = set(names)
        keep = [i for i, name in enumerate(self.variables) if name not in dropped]
        if len(keep) == len(self.variables):
            return self
        variables = tuple(self.variables[i] for i in keep)
        if len(keep) == 1:
            only = keep[0]
            return Rows(variables, ((row[only],) for row in self.rows))
        return Rows(variables, map(operator.itemgetter(*keep), self.rows))

    def page(self, *, limit: int | None, offset: int = 0) -> Rows:
        """``limit`` rows from ``offset`` on (to the end when ``limit`` is None), as they stream.

        For a query whose text cannot take ``LIMIT``/``OFFSET`` (ad-hoc SPARQL): the rows
        before ``offset`` are still read, then dropped.
        """
        stop = None if limit is None else offset + limit
        return Rows(self.variables, itertools.islice(self.rows, offset, stop))


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts over a whole store."""

    documents: int
    mentions: int
    unplaced: int
    resources: int
    quads: int
    graphs: int

    @classmethod
    def from_row(cls, row: Row | None, *, quads: int, graphs: int) -> Stats:
        """Stats from a row of ``STATS_QUERY`` and the counts it does not give."""
        documents, mentions, unplaced, resources = (int_value(term) for term in (row or (None,) * 4)[:4])
        return cls(documents, mentions, unplaced, resources, quads, graphs)


class Store(Protocol):
    """A graphbuild store: typed queries over the union of its graphs, and the writes that
    keep every document whole.

    ``location`` names it in messages (a folder or an endpoint URL); ``bulk_threads`` is
    how many ``bulk_add`` calls may run at once in background threads (0: in the caller's).
    """

    location: str
    read_only: bool
    bulk_threads: int

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...

    def close(self) -> None: ...

    # Queries, over the union of all graphs; ``bindings`` as bound terms.
    def select(self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None) -> Rows:
        """Rows of a SELECT query; any other form is a QueryError."""
        ...

    def ask(self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None) -> bool:
        """The answer of an ASK query; any other form is a QueryError."""
        ...

    def construct(
        self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None
    ) -> Iterator[Triple]:
        """The triples of a CONSTRUCT or DESCRIBE query; any other form is a QueryError."""
        ...

    def update(self, sparql: str) -> None:
        """Run a SPARQL update (one transaction on the embedded store, one request on a server)."""
        ...

    # Reads by pattern.
    def quads(
        self,
        graph: NamedNode | None = None,
        *,
        subject: NamedNode | None = None,
        predicates: Sequence[NamedNode] | None = None,
    ) -> Iterator[Quad]:
        """Quads by pattern; with no graph, every graph's quads together, graph after graph
        (export expands each document graph as it comes: graphbuild.output.full); with
        ``predicates``, only quads with one of them (grouped by predicate on the embedded
        store)."""
        ...

    def graphs(self) -> list[NamedNode]:
        """graphbuild's named graphs, sorted by IRI."""
        ...

    def content_hash(self, graph: NamedNode) -> str | None:
        """The content hash recorded for a document graph, or None if it is not stored."""
        ...

    def has_graph(self, graph: NamedNode) -> bool: ...

    def is_empty(self) -> bool:
        """Whether the store is known to hold no graph (a server never is: others write too)."""
        ...

    def document_graphs(self, ids: Iterable[str]) -> dict[str, NamedNode]:
        """The graph of each stored document id (ids not stored are left out)."""
        ...

    # Writes.
    def add(self, quads: Iterable[Quad]) -> None:
        """Add quads of graphs not yet in the store."""
        ...

    def bulk_add(self, nquads: str) -> None:
        """Add N-Quads text the fastest way the store has (not one transaction)."""
        ...

    def replace(
        self, graphs: Sequence[NamedNode], quads: Sequence[Quad], *, subjects: Mapping[NamedNode, Sequence[NamedNode]] | None = None
    ) -> None:
        """Remove ``graphs`` with their metadata, and what each graph of ``subjects`` says
        about its subjects, and add ``quads``: each document whole, and on the embedded store
        all in one transaction (on a server, graphs that go away and ``subjects`` change in
        one update request)."""
        ...

    def replace_subjects(
        self, graph: NamedNode, subjects: Sequence[NamedNode], quads: Sequence[Quad], *, atomic: bool = True
    ) -> None:
        """Remove what ``graph`` says about ``subjects`` and add ``quads``."""
        ...

    # The whole store.
    def dump(self, output: BinaryIO | str, format: RdfFormat) -> None:
        """Every quad in a quad format."""
        ...

    def stats(self) -> Stats: ...

    def quad_count(self) -> int: ...

    def optimize(self) -> None:
        """Compact the storage after large loads (a StoreError where the server manages its own)."""
        ...


STATS_QUERY = sparql_prologue() + f"""
SELECT
  (COUNT(DISTINCT ?doc) AS ?documents)
  (COUNT(DISTINCT ?phrase) AS ?mentions)
  (COUNT(DISTINCT ?annotation) AS ?unplaced)
  (COUNT(DISTINCT ?resource) AS ?resources)
WHERE {{
  {{ GRAPH <{METADATA_GRAPH.value}> {{ ?doc gb:contentHash ?hash }} }}
  UNION {{ ?phrase a nif:Phrase ; itsrdf:taIdentRef ?resource }}
  UNION {{ ?annotation a nif:Annotation ; itsrdf:taIdentRef ?resource }}
}}
"""


def lexical(term: Term | None) -> str:
    """A term's lexical value (an IRI, a literal's text, a blank node's id); "" when unbound."""
    if term is None:
        return ""
    if isinstance(term, Triple):
        return str(term)
    return term.value


def metadata_record(store: Store, graph: NamedNode) -> dict[str, str]:
    """What the metadata graph says about a document graph: each predicate IRI's lexical value."""
    return {quad.predicate.value: lexical(quad.object) for quad in store.quads(METADATA_GRAPH, subject=graph)}


def int_value(term: Term | None, default: int = 0) -> int:
    """A numeric literal's value as an int (``default`` when unbound)."""
    if term is None or isinstance(term, Triple):
        return default
    try:
        return int(term.value)
    except ValueError:
        return int(float(term.value))


def float_value(term: Term | None) -> float | None:
    """A numeric literal's value as a float, or None (unbound, or not a number)."""
    if term is None or isinstance(term, Triple):
        return None
    try:
        return float(term.value)
    except ValueError:
        return None


# What may hide a form keyword: IRIs (a namespace ending in '#'), strings, comments.
_SKIPPED = re.compile(r'<[^<>"{}|^`\\\s]*>|"""(?:[^"\\]|\\.|"(?!""))*"""|' r"'''(?:[^'\\]|\\.|'(?!''))*'''|" r'"(?:[^"\\\n]|\\.)*"|' r"'(?:[^'\\\n]|\\.)*'|#[^\n]*")
_FORM = re.compile(r"(?i)\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b")


def keywords_only(sparql: str) -> str:
    """``sparql`` with its IRIs, strings and comments blanked: what is left to search for
    keywords."""
    return _SKIPPED.sub(" ", sparql)


def query_form(sparql: str) -> QueryForm:
    """Which form a SPARQL query is, read past its prologue, comments, IRIs and strings.

    A text with none of the four keywords is taken as SELECT (the store then says what is wrong).
    """
    match = _FORM.search(keywords_only(sparql))
    form = match.group(1).upper() if match else "SELECT"
    if form == "ASK":
        return "ASK"
    if form == "CONSTRUCT":
        return "CONSTRUCT"
    if form == "DESCRIBE":
        return "DESCRIBE"
    return "SELECT"


def wrong_form(expected: str, sparql: str) -> QueryError:
    """The error for a query of another form than the call asked for."""
    return QueryError(f"expected a {expected} query, got a {query_form(sparql)} query")
