"""What the report reads from the store: the document list, one document at a time, and
what is known about each resource.

Everything here goes through ``Store``'s public methods over the union of all graphs,
so enrichment (labels, types, abstracts, redirects in graphs of their own) shows when it is
there and is simply absent otherwise. Values reach SPARQL as bound terms only. A mention
below the minimum confidence is left out; one with no confidence at all is kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad

from graphbuild.model.vocab import DBO, GB, ITSRDF, METADATA_GRAPH, NIF, OWL, PROV, RDF, RDFS, sparql_prologue
from graphbuild.query.canned import load_query, run
from graphbuild.store.protocol import Store

_LANGUAGES = ("en", "")


@dataclass(frozen=True, slots=True)
class Mention:
    """One link of a document: placed (with offsets) or document-level (unplaced)."""

    node: str
    resource: str
    surface: str
    begin: int | None
    end: int | None
    confidence: float | None
    inferred: bool = False
    ambiguous: bool = False
    classes: tuple[str, ...] = ()

    @property
    def placed(self) -> bool:
        return self.begin is not None and self.end is not None


@dataclass(frozen=True, slots=True)
class DocumentView:
    iri: str
    id: str
    text: str
    mentions: tuple[Mention, ...]
    unplaced: tuple[Mention, ...]
    left_out: int
    source: str | None
    generated: str | None
    quads: tuple[Quad, ...] = ()  # the document's graph and its provenance, as stored


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """What the store knows about a resource beyond the links: enrichment, when present."""

    iri: str
    label: str | None = None
    abstract: str | None = None
    types: tuple[str, ...] = ()
    same_as: tuple[str, ...] = ()
    redirects_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SuspiciousLink:
    document: str
    surface: str
    resource: str
    labels: str
    confidence: float | None
    begin: int | None
    end: int | None


class Reader:
    """The report's reads from one store, with the minimum confidence applied to mentions."""

    def __init__(self, store: Store, *, min_confidence: float = 0.0) -> None:
        self.store = store
        self.min_confidence = min_confidence

    def documents(self) -> list[tuple[str, str]]:
        """(graph IRI, id) of every document, sorted by id (sorted here: Oxigraph compares
        strings slowly)."""
        rows = self._rows(_DOCUMENTS)
        return sorted(((graph.value, doc_id.value) for graph, doc_id in rows), key=lambda row: (row[1], row[0]))

    def suspicious_links(self, limit: int) -> tuple[int, list[SuspiciousLink]]:
        """How many links the canned ``suspicious-links`` query finds (surface form matching
        no label of the resource or of a page redirecting to it), and the first ``limit``,
        most confident first."""
        result = run(load_query("suspicious-links"), {"threshold": repr(self.min_confidence)}, store=self.store)
        total = 0
        shown: list[SuspiciousLink] = []
        for doc_id, begin, end, surface, entity, labels, confidence in result.rows:
            total += 1
            if len(shown) < limit:
                shown.append(
                    SuspiciousLink(
                        doc_id.value,
                        surface.value,
                        entity.value,
                        labels.value if labels is not None else "",
                        _float(confidence),
                        _opt_int(begin),
                        _opt_int(end),
                    )
                )
        return total, shown

    def resource_info(self, resource: str) -> ResourceInfo:
        """Label, abstract, types, sameAs and redirect targets, from any graph."""
        by_predicate: dict[str, list[object]] = defaultdict(list)
        for quad in self.store.quads(subject=NamedNode(resource)):
            by_predicate[quad.predicate.value].append(quad.object)
        return ResourceInfo(
            resource,
            label=_preferred(by_predicate[RDFS + "label"]),
            abstract=_preferred(by_predicate[DBO + "abstract"]),
            types=_iris(by_predicate[RDF + "type"]),
            same_as=_iris(by_predicate[OWL + "sameAs"]),
            redirects_to=_iris(by_predicate[DBO + "wikiPageRedirects"]),
        )

    def document(self, graph: str, doc_id: str) -> DocumentView:
        """One document with its mentions, read from its own graph."""
        graph_node = NamedNode(graph)
        provenance = tuple(self.store.quads(METADATA_GRAPH, subject=graph_node))
        quads = (*self.store.quads(graph_node), *provenance)
        text, mentions = _read_graph(quads)
        kept = [m for m in mentions if m.confidence is None or m.confidence >= self.min_confidence]
        placed = tuple(sorted((m for m in kept if m.placed), key=lambda m: (m.begin, -(m.end or 0), m.resource)))
        unplaced = tuple(m for m in kept if not m.placed)
        source = generated = None
        for quad in provenance:
            if quad.predicate.value == PROV + "wasDerivedFrom":
                source = quad.object.value
            elif quad.predicate.value == PROV + "generatedAtTime":
                generated = quad.object.value
        return DocumentView(graph, doc_id, text, placed, unplaced, len(mentions) - len(kept), source, generated, quads)

    def _rows(self, sparql: str, *, resource: str | None = None) -> Iterator[tuple]:
        bindings = {"resource": NamedNode(resource)} if resource is not None else {}
        return self.store.select(sparql, bindings=bindings).rows


def _read_graph(quads: Iterable[Quad]) -> tuple[str, list[Mention]]:
    """The text and the mentions of one document graph (several resources on one span give
    one mention each)."""
    nodes: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
    text = ""
    for quad in quads:
        predicate = quad.predicate.value
        if predicate == _IS_STRING:
            text = quad.object.value
        elif predicate in _MENTION_PREDICATES:
            nodes[quad.subject.value][predicate].append(quad.object)
    mentions = []
    for node, values in nodes.items():
        if not values[_IDENT_REF]:
            continue
        surface = values[_ANCHOR_OF] or values[_SURFACE_FORM]
        begin, end = _opt_int(_first(values[_BEGIN])), _opt_int(_first(values[_END]))
        for resource in values[_IDENT_REF]:
            mentions.append(
                Mention(
                    node,
                    resource.value,
                    surface[0].value if surface else "",
                    begin if end is not None else None,
                    end if begin is not None else None,
                    _float(_first(values[_CONFIDENCE])),
                    _true(_first(values[_INFERRED])),
                    _true(_first(values[_AMBIGUOUS])),
                    _iris(values[_CLASS_REF]),
                )
            )
    return text, mentions


_IS_STRING = NIF + "isString"
_ANCHOR_OF = NIF + "anchorOf"
_BEGIN = NIF + "beginIndex"
_END = NIF + "endIndex"
_IDENT_REF = ITSRDF + "taIdentRef"
_CONFIDENCE = ITSRDF + "taConfidence"
_CLASS_REF = ITSRDF + "taClassRef"
_SURFACE_FORM = GB + "surfaceForm"
_INFERRED = GB + "offsetsInferred"
_AMBIGUOUS = GB + "ambiguousPlacement"
_MENTION_PREDICATES = frozenset(
    {_ANCHOR_OF, _BEGIN, _END, _IDENT_REF, _CONFIDENCE, _CLASS_REF, _SURFACE_FORM, _INFERRED, _AMBIGUOUS}
)


def _first(values: list[object]) -> object | None:
    return values[0] if values else None


def _opt_int(term: object | None) -> int | None:
    return int(term.value) if term is not None else None  # type: ignore[attr-defined]


def _float(term: object | None) -> float | None:
    if term is None:
        return None
    try:
        return float(term.value)  # type: ignore[attr-defined]
    except ValueError:
        return None


def _true(term: object | None) -> bool:
    return term is not None and term.value in ("true", "1")  # type: ignore[attr-defined]


def _iris(terms: list[object]) -> tuple[str, ...]:
    return tuple(sorted({t.value for t in terms if isinstance(t, NamedNode)}))


def _preferred(terms: list[object]) -> str | None:
    """The English literal, else one with no language, else the first by language."""
    literals = sorted((t for t in terms if isinstance(t, Literal)), key=lambda t: (t.language or "", t.value))
    for language in _LANGUAGES:
        for literal in literals:
            if (literal.language or "") == language:
                return literal.value
    return literals[0].value if literals else None


_PROLOGUE = sparql_prologue()

_DOCUMENTS = _PROLOGUE + "SELECT ?doc ?id WHERE { GRAPH ?doc { ?doc dcterms:identifier ?id } }"

_REDIRECT_LABELS = (
    _PROLOGUE + "SELECT ?resource ?label WHERE { ?page dbo:wikiPageRedirects ?resource ; rdfs:label ?label }"
)
