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

from graphbuild.model.vocab import (
    AMBIGUOUS_PLACEMENT,
    DBO_ABSTRACT,
    DBO_WIKI_PAGE_REDIRECTS,
    ITS_TA_CLASS_REF,
    ITS_TA_CONFIDENCE,
    ITS_TA_IDENT_REF,
    METADATA_GRAPH,
    NIF_ANCHOR_OF,
    NIF_BEGIN_INDEX,
    NIF_END_INDEX,
    NIF_IS_STRING,
    OFFSETS_INFERRED,
    OWL_SAME_AS,
    PROV_GENERATED_AT_TIME,
    PROV_WAS_DERIVED_FROM,
    RDF_TYPE,
    RDFS_LABEL,
    SURFACE_FORM,
    sparql_prologue,
)
from graphbuild.query.canned import load_query, run
from graphbuild.store.protocol import Row, Store, Term, float_value, int_value, lexical

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
        return sorted(((lexical(graph), lexical(doc_id)) for graph, doc_id in rows), key=lambda row: (row[1], row[0]))

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
                        lexical(doc_id),
                        lexical(surface),
                        lexical(entity),
                        lexical(labels),
                        float_value(confidence),
                        _opt_int(begin),
                        _opt_int(end),
                    )
                )
        return total, shown

    def resource_info(self, resource: str) -> ResourceInfo:
        """Label, abstract, types, sameAs and redirect targets, from any graph."""
        by_predicate: dict[str, list[Term]] = defaultdict(list)
        for quad in self.store.quads(subject=NamedNode(resource)):
            by_predicate[quad.predicate.value].append(quad.object)
        return ResourceInfo(
            resource,
            label=_preferred(by_predicate[RDFS_LABEL.value]),
            abstract=_preferred(by_predicate[DBO_ABSTRACT.value]),
            types=_iris(by_predicate[RDF_TYPE.value]),
            same_as=_iris(by_predicate[OWL_SAME_AS.value]),
            redirects_to=_iris(by_predicate[DBO_WIKI_PAGE_REDIRECTS.value]),
        )

    def document(self, graph: str, doc_id: str, *, provenance: bool = True) -> DocumentView:
        """One document with its mentions, read from its own graph; with ``provenance``
        (for its page) also its text, its source and the quads themselves."""
        graph_node = NamedNode(graph)
        if provenance:
            about = tuple(self.store.quads(METADATA_GRAPH, subject=graph_node))
            quads: tuple[Quad, ...] = (*self.store.quads(graph_node), *about)
        else:
            # Only what the figures need: a third of a document's quads (types, links to the
            # context, schema:mentions) and its text are left unread, and the reading is
            # most of the report's time (each term's text is looked up).
            about = ()
            quads = tuple(self.store.quads(graph_node, predicates=_MENTION_TERMS))
        text, mentions = _read_graph(quads)
        kept = [m for m in mentions if m.confidence is None or m.confidence >= self.min_confidence]
        placed = tuple(sorted((m for m in kept if m.placed), key=lambda m: (m.begin, -(m.end or 0), m.resource)))
        unplaced = tuple(m for m in kept if not m.placed)
        source = generated = None
        for quad in about:
            if quad.predicate == PROV_WAS_DERIVED_FROM:
                source = lexical(quad.object)
            elif quad.predicate == PROV_GENERATED_AT_TIME:
                generated = lexical(quad.object)
        left_out = len(mentions) - len(kept)
        return DocumentView(graph, doc_id, text, placed, unplaced, left_out, source, generated, quads if provenance else ())

    def _rows(self, sparql: str, *, resource: str | None = None) -> Iterator[Row]:
        bindings = {"resource": NamedNode(resource)} if resource is not None else {}
        return self.store.select(sparql, bindings=bindings).rows


def _read_graph(quads: Iterable[Quad]) -> tuple[str, list[Mention]]:
    """The text and the mentions of one document graph (several resources on one span give
    one mention each)."""
    nodes: dict[str, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
    text = ""
    for quad in quads:
        predicate = quad.predicate.value
        if predicate == NIF_IS_STRING.value:
            text = lexical(quad.object)
        elif predicate in _MENTION_PREDICATES:
            nodes[lexical(quad.subject)][predicate].append(quad.object)
    # The store says gb:offsetsInferred once on the context when every phrase has it.
    all_inferred = any(
        _true(flag) for values in nodes.values() if not values.get(ITS_TA_IDENT_REF.value) for flag in values.get(OFFSETS_INFERRED.value, ())
    )
    mentions = []
    for node, values in nodes.items():
        if not values[ITS_TA_IDENT_REF.value]:
            continue
        surface = values[NIF_ANCHOR_OF.value] or values[SURFACE_FORM.value]
        begin, end = _opt_int(_first(values[NIF_BEGIN_INDEX.value])), _opt_int(_first(values[NIF_END_INDEX.value]))
        for resource in values[ITS_TA_IDENT_REF.value]:
            mentions.append(
                Mention(
                    node,
                    lexical(resource),
                    lexical(surface[0]) if surface else "",
                    begin if end is not None else None,
                    end if begin is not None else None,
                    float_value(_first(values[ITS_TA_CONFIDENCE.value])),
                    _true(_first(values[OFFSETS_INFERRED.value])) or (all_inferred and end is not None and begin is not None),
                    _true(_first(values[AMBIGUOUS_PLACEMENT.value])),
                    _iris(values[ITS_TA_CLASS_REF.value]),
                )
            )
    return text, mentions


_MENTION_TERMS = (
    NIF_ANCHOR_OF,
    NIF_BEGIN_INDEX,
    NIF_END_INDEX,
    ITS_TA_IDENT_REF,
    ITS_TA_CONFIDENCE,
    ITS_TA_CLASS_REF,
    SURFACE_FORM,
    OFFSETS_INFERRED,
    AMBIGUOUS_PLACEMENT,
)
_MENTION_PREDICATES = frozenset(term.value for term in _MENTION_TERMS)


def _first(values: list[Term]) -> Term | None:
    return values[0] if values else None


def _opt_int(term: Term | None) -> int | None:
    return None if term is None else int_value(term)


def _true(term: Term | None) -> bool:
    return lexical(term) in ("true", "1")


def _iris(terms: list[Term]) -> tuple[str, ...]:
    return tuple(sorted({t.value for t in terms if isinstance(t, NamedNode)}))


def _preferred(terms: list[Term]) -> str | None:
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
