"""What the store already knows, and what one fetched batch adds to it.

Each resource's answer goes into its own graph (``model.enrichment_graph``) and its fetch
record (when, from where, which aspects and languages, found or not) into the metadata
graph, so one ``store.add`` or ``store.replace`` writes a batch all or nothing, and a
refresh of a resource replaces exactly what an earlier fetch wrote for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pyoxigraph import Literal, NamedNode, Quad, Triple

from graphbuild.enrichment.query import Selection
from graphbuild.model.quads import enrichment_graph
from graphbuild.model.vocab import (
    DBO,
    ENRICHED_ASPECT,
    ENRICHED_LANGUAGE,
    ENRICHMENT_OF,
    FOUND,
    GB,
    METADATA_GRAPH,
    PROV_ENTITY,
    PROV_GENERATED_AT_TIME,
    PROV_WAS_DERIVED_FROM,
    RDF_TYPE,
    SCHEMA,
    XSD_BOOLEAN,
    XSD_DATE_TIME,
)
from graphbuild.store.protocol import Row, Store, lexical

_META = f"<{METADATA_GRAPH.value}>"
# A stored document says schema:mentions for every resource it links to (graphbuild.model.quads),
# a tenth as many triples as its mentions' itsrdf:taIdentRef (100k documents: 8 s, not 43).
_LINKED = f"""
SELECT DISTINCT ?r WHERE {{
  GRAPH {_META} {{ ?doc <{GB}contentHash> ?hash }}
  GRAPH ?doc {{ ?doc <{SCHEMA}mentions> ?r }}
  FILTER (isIRI(?r))
}}
"""
_RECORDS = f"""
SELECT ?r ?p ?o WHERE {{ GRAPH {_META} {{ ?g {ENRICHMENT_OF} ?r ; ?p ?o }} }}
"""
_TARGETS = f"""
SELECT DISTINCT ?t WHERE {{
  GRAPH {_META} {{ ?g {ENRICHMENT_OF} ?r }}
  GRAPH ?g {{ ?r <{DBO}wikiPageRedirects> ?t }}
  FILTER (isIRI(?t))
}}
"""


@dataclass(frozen=True, slots=True)
class Record:
    """The fetch record of one resource."""

    aspects: frozenset[str]
    languages: frozenset[str]
    found: bool


def linked_resources(store: Store) -> list[NamedNode]:
    """Every resource a stored document links to, in IRI order."""
    return _sorted_iris(_rows(store, _LINKED))


def records(store: Store) -> dict[NamedNode, Record]:
    """The fetch record of every enriched resource."""
    aspects: dict[NamedNode, set[str]] = {}
    languages: dict[NamedNode, set[str]] = {}
    found: dict[NamedNode, bool] = {}
    for resource, predicate, obj in _rows(store, _RECORDS):
        if not isinstance(resource, NamedNode):
            continue
        aspects.setdefault(resource, set())
        languages.setdefault(resource, set())
        if predicate == ENRICHED_ASPECT:
            aspects[resource].add(lexical(obj))
        elif predicate == ENRICHED_LANGUAGE:
            languages[resource].add(lexical(obj))
        elif predicate == FOUND:
            found[resource] = lexical(obj) == "true"
    return {r: Record(frozenset(aspects[r]), frozenset(languages[r]), found.get(r, False)) for r in aspects}


def redirect_targets(store: Store) -> list[NamedNode]:
    """Pages that enriched resources redirect to (a link to a redirect gains its target), in IRI order."""
    return _sorted_iris(_rows(store, _TARGETS))


def _sorted_iris(rows: Iterable[Sequence[object]]) -> list[NamedNode]:
    # Sorted here, not by ORDER BY: Oxigraph sorts before DISTINCT, every mention's row
    # with two IRIs decoded per comparison (10k documents: 28.6 s against 2.3 s).
    return sorted((row[0] for row in rows if isinstance(row[0], NamedNode)), key=lambda iri: iri.value)


def batch_quads(
    fetched: Mapping[NamedNode, Sequence[Triple]],
    *,
    selection: Selection,
    sources: Iterable[NamedNode],
    at: datetime,
) -> list[Quad]:
    """The quads of a fetched batch: each resource's triples in its graph, and its record."""
    sources = list(sources)
    quads: list[Quad] = []
    for resource, triples in fetched.items():
        graph = enrichment_graph(resource)
        quads.extend(Quad(t.subject, t.predicate, t.object, graph) for t in triples)
        quads.extend(_record(graph, resource, bool(triples), selection, sources, at))
    return quads


def write_batch(store: Store, quads: list[Quad], resources: Sequence[NamedNode], *, replacing: bool) -> None:
    """One transaction: ``replace`` when earlier fetches of these resources are to go, else ``add``."""
    if replacing:
        store.replace([enrichment_graph(r) for r in resources], quads)
    else:
        store.add(quads)


def _record(
    graph: NamedNode, resource: NamedNode, found: bool, selection: Selection, sources: list[NamedNode], at: datetime
) -> Iterable[Quad]:
    meta = METADATA_GRAPH
    yield Quad(graph, RDF_TYPE, PROV_ENTITY, meta)
    yield Quad(graph, ENRICHMENT_OF, resource, meta)
    yield Quad(graph, PROV_GENERATED_AT_TIME, Literal(at.isoformat(), datatype=XSD_DATE_TIME), meta)
    for source in sources:
        yield Quad(graph, PROV_WAS_DERIVED_FROM, source, meta)
    for aspect in sorted(a.value for a in selection.aspects):
        yield Quad(graph, ENRICHED_ASPECT, Literal(aspect), meta)
    for language in selection.languages:
        yield Quad(graph, ENRICHED_LANGUAGE, Literal(language), meta)
    yield Quad(graph, FOUND, Literal("true" if found else "false", datatype=XSD_BOOLEAN), meta)


def _rows(store: Store, sparql: str) -> list[Row]:
    return list(store.select(sparql))
