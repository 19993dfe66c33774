"""Per-resource figures, kept current by every write so that ranking resources is cheap.

The figures graph holds, for each linked resource, how many mention nodes link it, in how
many documents, and the count, sum and maximum of those mentions' confidences::

    dbr:Pain gb:mentionCount 2 ; gb:documentCount 1 ;
             gb:confidenceCount 2 ; gb:confidenceSum 1.87 ; gb:maxConfidence 0.935 .

They always equal the aggregate over the mentions in the store (``rebuild`` computes it),
but are maintained from each document's tally as documents come and go, so that
``top-entities`` reads a few triples per resource instead of every mention.

Crashes: the graph carries ``<figures> gb:upToDate true``. An ingest removes it before its
first change and puts it back in the same transaction as its last, so a run that stops
half-way leaves it absent, and the next writer rebuilds the figures from the mentions. A
delete changes the figures in the same transaction as the removal they follow
(``after_removal``), so it leaves them current wherever it stops. Readers of the figures
(``top-entities``, stats, the report) call ``require_current`` first: with the mark
absent they rebuild the figures where they may write, and refuse where they may not.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from graphbuild.errors import StoreError
from graphbuild.model.records import Document, Link
from graphbuild.model.vocab import (
    CONFIDENCE_COUNT,
    CONFIDENCE_SUM,
    DOCUMENT_COUNT,
    FIGURES_GRAPH,
    ITS_TA_CONFIDENCE,
    ITS_TA_IDENT_REF,
    MAX_CONFIDENCE,
    MENTION_COUNT,
    SCHEMA,
    UP_TO_DATE,
    XSD_DOUBLE,
    XSD_INTEGER,
)
from graphbuild.store.protocol import Row, Store, Term, float_value, int_value, lexical

_MARKER = Quad(FIGURES_GRAPH, UP_TO_DATE, Literal(True), FIGURES_GRAPH)
# Past this many touched resources, one read of the whole graph beats one read per resource.
_READ_ALL_ABOVE = 1000
# Past this many quads of resources new to the graph, the bulk loader beats a transaction.
_BULK_ABOVE = 1000

_MENTIONS_QUERY = f"""
SELECT ?e (COUNT(DISTINCT ?m) AS ?mentions) (COUNT(?c) AS ?confidences) (SUM(?c) AS ?sum) (MAX(?c) AS ?max)
WHERE {{ ?m <{ITS_TA_IDENT_REF.value}> ?e OPTIONAL {{ ?m <{ITS_TA_CONFIDENCE.value}> ?c }} }}
GROUP BY ?e
"""
_DOCUMENTS_QUERY = f"SELECT ?e (COUNT(DISTINCT ?d) AS ?documents) WHERE {{ ?d <{SCHEMA}mentions> ?e }} GROUP BY ?e"
_MAX_QUERY = f"""
SELECT ?e (MAX(?c) AS ?max)
WHERE {{ ?m <{ITS_TA_IDENT_REF.value}> ?e ; <{ITS_TA_CONFIDENCE.value}> ?c }}
GROUP BY ?e
"""
_CONFIDENCES_QUERY = f"""
SELECT ?e ?g ?c
WHERE {{ GRAPH ?g {{ ?m <{ITS_TA_IDENT_REF.value}> ?e ; <{ITS_TA_CONFIDENCE.value}> ?c }} }}
"""


# One resource's share of one document: (resource IRI, its mention nodes, how many of them
# carry a confidence, their sum, their maximum). A plain tuple rather than a record: the
# documents' tallies cross between processes by the hundred thousand, and tuples pickle
# and unpickle ~7x faster (10k documents' tallies: 0.83 s as records, 0.12 s as tuples).
ResourceShare = tuple[str, int, int, float, "float | None"]
# One resource's totals: (IRI, mentions, documents, confidences, their sum, their maximum).
FigureRow = tuple[str, int, int, int, float, "float | None"]


@dataclass(slots=True)
class _Figures:
    mentions: int = 0
    documents: int = 0
    confidences: int = 0
    confidence_sum: float = 0.0
    max_confidence: float | None = None
    # The largest confidence taken away: at or above the stored maximum, it must be re-read.
    removed_max: float | None = None


def shares(doc: Document) -> tuple[ResourceShare, ...]:
    """What ``doc`` adds to the figures, node by node as the model writes it."""
    spans = [(link.begin, link.end) for link in doc.links if link.placed]
    if len(set(spans)) == len(spans):
        return _one_node_per_link(doc.links)
    nodes: dict[object, tuple[set[str], set[float]]] = {}
    unplaced = 0
    for link in doc.links:
        if link.placed:
            key: object = (link.begin, link.end)
        else:
            unplaced += 1
            key = unplaced
        resources, confidences = nodes.setdefault(key, (set(), set()))
        resources.add(link.resource)
        if link.confidence is not None:
            confidences.add(link.confidence)
    return _shares(nodes.values())


def _one_node_per_link(links: Iterable[Link]) -> tuple[ResourceShare, ...]:
    # The usual case (no two links on one span), counted without the general case's sets:
    # a third of the cost, for every document of a corpus. Same sums, in the same order.
    figures: dict[str, list] = {}
    for link in links:
        confidence = link.confidence
        f = figures.get(link.resource)
        if f is None:
            figures[link.resource] = [1, 0, 0.0, None] if confidence is None else [1, 1, 0.0 + confidence, confidence]
            continue
        f[0] += 1
        if confidence is not None:
            f[1] += 1
            f[2] += confidence
            if f[3] is None or confidence > f[3]:
                f[3] = confidence
    return tuple((resource, *f) for resource, f in figures.items())


def stored_shares(quads: Iterable[Quad]) -> tuple[ResourceShare, ...]:
    """What a stored document graph adds to the figures, from its quads."""
    nodes: dict[object, tuple[set[str], set[float]]] = {}
    for quad in quads:
        if quad.predicate == ITS_TA_IDENT_REF:
            nodes.setdefault(quad.subject, (set(), set()))[0].add(lexical(quad.object))
        elif quad.predicate == ITS_TA_CONFIDENCE:
            nodes.setdefault(quad.subject, (set(), set()))[1].add(float(lexical(quad.object)))
    return _shares(nodes.values())


def _shares(nodes: Iterable[tuple[set[str], set[float]]]) -> tuple[ResourceShare, ...]:
    totals: dict[str, _Figures] = {}
    for resources, confidences in nodes:
        for resource in resources:
            figures = totals.setdefault(resource, _Figures())
            figures.mentions += 1
            figures.confidences += len(confidences)
            figures.confidence_sum += sum(confidences)
            figures.max_confidence = _max(figures.max_confidence, max(confidences, default=None))
    return tuple((resource, f.mentions, f.confidences, f.confidence_sum, f.max_confidence) for resource, f in totals.items())


def is_current(store: Store) -> bool:
    """Whether the figures graph was left complete by the last writer."""
    return any(quad.predicate == UP_TO_DATE for quad in store.quads(FIGURES_GRAPH, subject=FIGURES_GRAPH))


def require_current(store: Store) -> None:
    """Make sure the figures can be read: rebuilt when the mark is absent, or, where the
    store is open read-only, a StoreError that says why and what rebuilds them."""
    if is_current(store):
        return
    if not store.read_only:
        rebuild(store)
        return
    raise StoreError(
        f"the per-resource figures in the store at {store.location} are not up to date: a write to the "
        "store is under way, or one stopped part-way; once no write runs, `graphbuild optimize` "
        "rebuilds them (so does any ingest or delete)"
    )


def after_removal(store: Store, graphs: Sequence[NamedNode]) -> tuple[list[NamedNode], list[Quad]]:
    """What the figures become once ``graphs`` are removed: the subjects to replace in the
    figures graph and their new quads, for a writer to apply with the removal itself."""
    delta = Totals()
    for graph in graphs:
        delta.remove(stored_shares(store.quads(graph)))
    current = _current(store, list(delta.by_resource))
    removed = {graph.value for graph in graphs}
    combined = []
    for entity, change in delta.by_resource.items():
        if entity not in current:
            continue
        figures = _combined(current[entity], change)
        if figures.removed_max is not None and figures.mentions > 0:
            figures.max_confidence = _stored_max(store, entity, excluding=removed)
        combined.append((entity, figures))
    return [NamedNode(entity) for entity, _ in combined], _quads(combined)


def rebuild(store: Store, *, mark_current: bool = True) -> int:
    """Recompute every resource's figures from the mentions in the store; returns how many."""
    figures: dict[str, _Figures] = {}
    for entity, mentions, confidences, total, highest in _rows(store, _MENTIONS_QUERY):
        figures[_iri(entity)] = _Figures(
            int_value(mentions), 0, int_value(confidences), float_value(total) or 0.0, float_value(highest)
        )
    for entity, documents in _rows(store, _DOCUMENTS_QUERY):
        figures.setdefault(_iri(entity), _Figures()).documents = int_value(documents)
    old = [quad.subject for quad in store.quads(FIGURES_GRAPH) if isinstance(quad.subject, NamedNode)]
    quads = _quads(figures.items())
    store.replace_subjects(FIGURES_GRAPH, list(dict.fromkeys(old)), quads + ([_MARKER] if mark_current else []))
    return len(figures)


class Totals:
    """Figures summed over documents' tallies: a run's change, or a whole converted corpus."""

    def __init__(self) -> None:
        self.by_resource: dict[str, _Figures] = {}

    def add(self, tallies: Iterable[ResourceShare]) -> None:
        for resource, mentions, confidences, confidence_sum, max_confidence in tallies:
            figures = self.by_resource.setdefault(resource, _Figures())
            figures.mentions += mentions
            figures.documents += 1
            figures.confidences += confidences
            figures.confidence_sum += confidence_sum
            figures.max_confidence = _max(figures.max_confidence, max_confidence)

    def remove(self, tallies: Iterable[ResourceShare]) -> None:
        for resource, mentions, confidences, confidence_sum, max_confidence in tallies:
            figures = self.by_resource.setdefault(resource, _Figures())
            figures.mentions -= mentions
            figures.documents -= 1
            figures.confidences -= confidences
            figures.confidence_sum -= confidence_sum
            figures.removed_max = _max(figures.removed_max, max_confidence)

    def merge(self, other: Totals) -> None:
        """Add the totals of other documents (another partition's, say)."""
        for resource, theirs in other.by_resource.items():
            figures = self.by_resource.setdefault(resource, _Figures())
            figures.mentions += theirs.mentions
            figures.documents += theirs.documents
            figures.confidences += theirs.confidences
            figures.confidence_sum += theirs.confidence_sum
            figures.max_confidence = _max(figures.max_confidence, theirs.max_confidence)

    def rows(self) -> list[FigureRow]:
        """The totals as plain rows, to keep in JSON and read back with ``from_rows``."""
        return [
            (resource, f.mentions, f.documents, f.confidences, f.confidence_sum, f.max_confidence)
            for resource, f in self.by_resource.items()
        ]

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> Totals:
        totals = cls()
        for resource, mentions, documents, confidences, confidence_sum, max_confidence in rows:
            totals.by_resource[str(resource)] = _Figures(
                int(mentions), int(documents), int(confidences), float(confidence_sum),
                None if max_confidence is None else float(max_confidence),
            )
        return totals

    def nquads(self) -> str:
        """The figures graph these totals make on their own, marked complete."""
        return _nquads(self.by_resource.items()) + f"{_MARKER} .\n"


class FiguresKeeper:
    """Keeps the figures current through one run of writes.

    ``changing()`` before each write to the store; ``add`` and ``remove`` the tallies of
    the documents written and replaced; ``commit()`` once they are all in the store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._delta = Totals()
        self._open = False

    def changing(self) -> None:
        if self._open:
            return
        if not is_current(self.store):
            rebuild(self.store, mark_current=False)
        else:
            self.store.replace_subjects(FIGURES_GRAPH, [FIGURES_GRAPH], [])
        self._open = True

    def add(self, tallies: Iterable[ResourceShare]) -> None:
        self._delta.add(tallies)

    def remove(self, tallies: Iterable[ResourceShare]) -> None:
        self._delta.remove(tallies)

    def commit(self, *, ready: Callable[[], object] | None = None) -> None:
        """Write the changed figures, and the mark that they are complete, in one go.

        ``ready`` returns once every document written is in the store: the figures of
        resources new to the graph are written before calling it (they need no reading of
        the documents), so a writer's last loads and they overlap.
        """
        if not self._open:
            return
        delta_by_resource = self._delta.by_resource
        current = _current(self.store, list(delta_by_resource))
        new = _quads((e, delta) for e, delta in delta_by_resource.items() if e not in current)
        if len(new) > _BULK_ABOVE:
            # Resources the graph has no figures for yet (a first ingest, say) go the fast,
            # non-transactional way: until the mark below is back, they count as incomplete.
            self.store.replace_subjects(FIGURES_GRAPH, [], new, atomic=False)
            new = []
        if ready is not None:
            ready()
        known = [entity for entity in delta_by_resource if entity in current]
        combined: list[tuple[str, _Figures]] = []
        for entity in known:
            figures = _combined(current[entity], delta_by_resource[entity])
            if figures.removed_max is not None and figures.mentions > 0:
                figures.max_confidence = _stored_max(self.store, entity)
            combined.append((entity, figures))
        changed = _quads(combined)
        subjects = [*map(NamedNode, known), FIGURES_GRAPH]
        self.store.replace_subjects(FIGURES_GRAPH, subjects, [*changed, *new, _MARKER])
        self._delta, self._open = Totals(), False


def _current(store: Store, entities: list[str]) -> dict[str, _Figures]:
    """The stored figures of ``entities`` (those the graph has)."""
    if len(entities) > _READ_ALL_ABOVE:
        quads: Iterable[Quad] = store.quads(FIGURES_GRAPH)
    else:
        quads = (q for e in entities for q in store.quads(FIGURES_GRAPH, subject=NamedNode(e)))
    current: dict[str, _Figures] = {}
    for quad in quads:
        if quad.subject != FIGURES_GRAPH and isinstance(quad.subject, NamedNode):
            _set(current.setdefault(quad.subject.value, _Figures()), quad.predicate, lexical(quad.object))
    return current


def _stored_max(store: Store, entity: str, *, excluding: Collection[str] = ()) -> float | None:
    """The highest confidence of ``entity``'s mentions, leaving out the graphs ``excluding``."""
    if not excluding:
        rows = _rows(store, _MAX_QUERY, e=NamedNode(entity))
        return float_value(rows[0][1]) if rows else None
    values = [
        float_value(confidence)
        for _, graph, confidence in _rows(store, _CONFIDENCES_QUERY, e=NamedNode(entity))
        if isinstance(graph, NamedNode) and graph.value not in excluding
    ]
    return max((value for value in values if value is not None), default=None)


def _combined(current: _Figures, delta: _Figures) -> _Figures:
    removed = delta.removed_max
    # A maximum can only be kept if nothing at or above it went away.
    needs_reading = removed is not None and current.max_confidence is not None and removed >= current.max_confidence
    return _Figures(
        current.mentions + delta.mentions,
        current.documents + delta.documents,
        current.confidences + delta.confidences,
        current.confidence_sum + delta.confidence_sum,
        _max(current.max_confidence, delta.max_confidence),
        removed if needs_reading else None,
    )


def _quads(figures: Iterable[tuple[str, _Figures]]) -> list[Quad]:
    # Parsed from text: building Quad objects in Python costs ~3x as much.
    return list(parse(_nquads(figures), RdfFormat.N_QUADS))


def _nquads(figures: Iterable[tuple[str, _Figures]]) -> str:
    g = f" <{FIGURES_GRAPH.value}> .\n"
    lines = []
    for entity, f in figures:
        if f.mentions <= 0:
            continue
        s = f"<{entity}>"
        lines.append(
            f'{s} <{MENTION_COUNT.value}> "{f.mentions}"^^<{XSD_INTEGER.value}>{g}'
            f'{s} <{DOCUMENT_COUNT.value}> "{f.documents}"^^<{XSD_INTEGER.value}>{g}'
            f'{s} <{CONFIDENCE_COUNT.value}> "{f.confidences}"^^<{XSD_INTEGER.value}>{g}'
            f'{s} <{CONFIDENCE_SUM.value}> "{f.confidence_sum if f.confidences else 0.0!r}"^^<{XSD_DOUBLE.value}>{g}'
        )
        if f.confidences and f.max_confidence is not None:
            lines.append(f'{s} <{MAX_CONFIDENCE.value}> "{f.max_confidence!r}"^^<{XSD_DOUBLE.value}>{g}')
    return "".join(lines)


def _set(figures: _Figures, predicate: NamedNode, value: str) -> None:
    if predicate == MENTION_COUNT:
        figures.mentions = int(value)
    elif predicate == DOCUMENT_COUNT:
        figures.documents = int(value)
    elif predicate == CONFIDENCE_COUNT:
        figures.confidences = int(value)
    elif predicate == CONFIDENCE_SUM:
        figures.confidence_sum = float(value)
    elif predicate == MAX_CONFIDENCE:
        figures.max_confidence = float(value)


def _rows(store: Store, sparql: str, **bindings: NamedNode) -> list[Row]:
    # An aggregate over no mention still gives one row, unbound.
    return [row for row in store.select(sparql, bindings=bindings) if row[0] is not None]


def _iri(term: Term | None) -> str:
    if not isinstance(term, NamedNode):
        raise TypeError(f"expected an IRI, got {term!r}")
    return term.value


def _max(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
