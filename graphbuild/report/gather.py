"""What the report shows, read from the store: SPARQL aggregates and one document at a time.

Everything here reads the union of all graphs through ``GraphStore``'s public methods, so
enrichment (labels, types, abstracts in their own graph) shows when it is there and is
simply absent otherwise. The minimum confidence reaches every query as a bound term; a
mention with no confidence at all is never left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad

from graphbuild.store import GraphStore, Solutions
from graphbuild.vocab import DBO, DCTERMS, GB, ITSRDF, METADATA_GRAPH, NIF, OWL, PROV, RDF, RDFS, XSD, sparql_prologue

_DOUBLE = NamedNode(XSD + "double")
_LANGUAGES = ("en", "")
HISTOGRAM_BINS = 20


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
class RankedResource:
    iri: str
    mentions: int
    documents: int
    max_confidence: float | None


@dataclass(frozen=True, slots=True)
class Overview:
    documents: int
    mentions: int
    unplaced: int
    left_out: int
    inferred: int
    ambiguous: int
    resources: int
    quads: int
    labelled: int


@dataclass(frozen=True, slots=True)
class TypeCount:
    type: str
    resources: int
    mentions: int


@dataclass(frozen=True, slots=True)
class SuspiciousLink:
    document: str
    surface: str
    resource: str
    label: str
    confidence: float | None
    begin: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class Count:
    key: str
    count: int


class Reader:
    """Report queries over one store, with the minimum confidence bound once."""

    def __init__(self, store: GraphStore, *, min_confidence: float = 0.0) -> None:
        self.store = store
        self.min_confidence = min_confidence
        self._min = Literal(repr(float(min_confidence)), datatype=_DOUBLE)

    def overview(self) -> Overview:
        stats = self.store.stats()
        row = next(self._rows(_OVERVIEW), None)
        figures = [_int(term) for term in row[1:]] if row else [0] * 6
        labelled = next(self._rows(_LABELLED, bind=False), (None,))[0]
        return Overview(stats.documents, *figures, quads=stats.quads, labelled=_int(labelled))

    def documents(self) -> Iterator[tuple[str, str]]:
        """(graph IRI, id) of every document, by id."""
        for graph, doc_id in self._rows(_DOCUMENTS, bind=False):
            yield graph.value, doc_id.value

    def ranking(self) -> Iterator[RankedResource]:
        """Every linked resource, most mentioned first (placed and unplaced links count)."""
        for _, resource, mentions, documents, best in self._rows(_RANKING):
            yield RankedResource(resource.value, _int(mentions), _int(documents), _float(best))

    def confidence_histogram(self) -> list[int]:
        """Counts of links per confidence bin: HISTOGRAM_BINS equal bins from the minimum to 1."""
        counts = [0] * HISTOGRAM_BINS
        width = Literal(repr(max(1.0 - self.min_confidence, 1e-12) / HISTOGRAM_BINS), datatype=_DOUBLE)
        for _, _, bin_term, count in self._rows(_HISTOGRAM, extra={"width": width}):
            index = min(max(_int(bin_term), 0), HISTOGRAM_BINS - 1)
            counts[index] += _int(count)
        return counts

    def top_types(self, limit: int) -> list[TypeCount]:
        rows = self._rows(_TYPES)
        found = [TypeCount(t.value, _int(r), _int(m)) for _, t, r, m in rows if t.value != OWL + "Thing"]
        return found[:limit]

    def suspicious_links(self, limit: int) -> tuple[int, list[SuspiciousLink]]:
        """Links whose surface form matches no label of the resource nor of a page redirecting
        to it (either containing the other, ignoring case), most confident first."""
        total = 0
        shown: list[SuspiciousLink] = []
        for _, doc_id, surface, resource, label, confidence, begin, end in self._rows(_SUSPICIOUS):
            total += 1
            if len(shown) < limit:
                link = SuspiciousLink(
                    doc_id.value, surface.value, resource.value, label.value, _float(confidence), _opt_int(begin), _opt_int(end)
                )
                shown.append(link)
        return total, shown

    def surface_forms(self, resource: str) -> list[Count]:
        rows = self._rows(_SURFACE_FORMS, resource=resource)
        return [Count(surface.value, _int(count)) for _, _, surface, count in rows]

    def documents_mentioning(self, resource: str) -> Iterator[tuple[str, int]]:
        for _, _, doc_id, count in self._rows(_DOCUMENTS_MENTIONING, resource=resource):
            yield doc_id.value, _int(count)

    def co_mentions(self, resource: str) -> Iterator[Count]:
        """Resources linked in the same documents, by number of shared documents."""
        for _, _, other, shared in self._rows(_CO_MENTIONS, resource=resource):
            yield Count(other.value, _int(shared))

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
        text, mentions = _read_graph(self.store.quads(graph_node))
        kept = [m for m in mentions if m.confidence is None or m.confidence >= self.min_confidence]
        placed = tuple(sorted((m for m in kept if m.placed), key=lambda m: (m.begin, -(m.end or 0), m.resource)))
        unplaced = tuple(m for m in kept if not m.placed)
        source = generated = None
        for quad in self.store.quads(METADATA_GRAPH, subject=graph_node):
            if quad.predicate.value == PROV + "wasDerivedFrom":
                source = quad.object.value
            elif quad.predicate.value == PROV + "generatedAtTime":
                generated = quad.object.value
        return DocumentView(graph, doc_id, text, placed, unplaced, len(mentions) - len(kept), source, generated)

    def _rows(
        self, sparql: str, *, bind: bool = True, resource: str | None = None, extra: dict[str, object] | None = None
    ) -> Iterator[tuple]:
        bindings: dict[str, object] = {"min": self._min} if bind else {}
        bindings.update(extra or {})
        if resource is not None:
            bindings["resource"] = NamedNode(resource)
        result = self.store.query(sparql, bindings=bindings)
        assert isinstance(result, Solutions)
        return result.rows


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


def _int(term: object | None) -> int:
    return int(term.value) if term is not None else 0  # type: ignore[attr-defined]


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
_KEPT = "OPTIONAL { ?m itsrdf:taConfidence ?c } FILTER (!BOUND(?c) || ?c >= ?min)"

_OVERVIEW = _PROLOGUE + f"""
SELECT ?min
  (SUM(IF(?placed && ?kept, 1, 0)) AS ?mentions)
  (SUM(IF(!?placed && ?kept, 1, 0)) AS ?unplaced)
  (SUM(IF(?kept, 0, 1)) AS ?left_out)
  (SUM(IF(?kept && BOUND(?inferred), 1, 0)) AS ?inferred)
  (SUM(IF(?kept && BOUND(?ambiguous), 1, 0)) AS ?ambiguous)
  (COUNT(DISTINCT ?kept_resource) AS ?resources)
WHERE {{
  {{ ?m a nif:Phrase BIND (true AS ?placed) }} UNION {{ ?m a nif:Annotation BIND (false AS ?placed) }}
  ?m itsrdf:taIdentRef ?e .
  OPTIONAL {{ ?m itsrdf:taConfidence ?c }}
  OPTIONAL {{ ?m gb:offsetsInferred true BIND (true AS ?inferred) }}
  OPTIONAL {{ ?m gb:ambiguousPlacement true BIND (true AS ?ambiguous) }}
  BIND (!BOUND(?c) || ?c >= ?min AS ?kept)
  BIND (IF(?kept, ?e, ?none) AS ?kept_resource)
}}
GROUP BY ?min
"""

_LABELLED = _PROLOGUE + """
SELECT (COUNT(DISTINCT ?e) AS ?labelled)
WHERE { ?e rdfs:label ?label FILTER EXISTS { ?m itsrdf:taIdentRef ?e } }
"""

_DOCUMENTS = _PROLOGUE + """
SELECT ?doc ?id WHERE { GRAPH ?doc { ?doc dcterms:identifier ?id } } ORDER BY ?id ?doc
"""

_RANKING = _PROLOGUE + f"""
SELECT ?min ?e (COUNT(?m) AS ?mentions) (COUNT(DISTINCT ?doc) AS ?documents) (MAX(?c) AS ?best)
WHERE {{ GRAPH ?doc {{ ?m itsrdf:taIdentRef ?e {_KEPT} }} }}
GROUP BY ?min ?e
ORDER BY DESC(?mentions) DESC(?documents) ?e
"""

_HISTOGRAM = _PROLOGUE + f"""
SELECT ?min ?width ?bin (COUNT(?m) AS ?count)
WHERE {{ ?m itsrdf:taIdentRef ?e ; itsrdf:taConfidence ?c FILTER (?c >= ?min) BIND (FLOOR((?c - ?min) / ?width) AS ?bin) }}
GROUP BY ?min ?width ?bin
"""

_TYPES = _PROLOGUE + f"""
SELECT ?min ?type (COUNT(DISTINCT ?e) AS ?resources) (COUNT(DISTINCT ?m) AS ?mentions)
WHERE {{
  ?m itsrdf:taIdentRef ?e {_KEPT}
  {{ ?e rdf:type ?type }} UNION {{ ?m itsrdf:taClassRef ?type }}
}}
GROUP BY ?min ?type
ORDER BY DESC(?mentions) ?type
"""

# A link is judged only where the resource has a label; "matches" is loose (either string
# contains the other, ignoring case) so that plurals and longer names are not flagged.
_SUSPICIOUS = _PROLOGUE + f"""
SELECT ?min ?id ?surface ?e (SAMPLE(?shown) AS ?label) (SAMPLE(?c) AS ?confidence) (SAMPLE(?begin) AS ?start)
       (SAMPLE(?end) AS ?stop)
WHERE {{
  GRAPH ?doc {{
    ?m itsrdf:taIdentRef ?e ; nif:anchorOf|gb:surfaceForm ?surface {_KEPT}
    OPTIONAL {{ ?m nif:beginIndex ?begin ; nif:endIndex ?end }}
  }}
  ?doc dcterms:identifier ?id .
  ?e rdfs:label ?shown .
  FILTER NOT EXISTS {{
    {{ ?e rdfs:label ?label }} UNION {{ ?page dbo:wikiPageRedirects ?e ; rdfs:label ?label }}
    FILTER (CONTAINS(LCASE(STR(?label)), LCASE(STR(?surface))) || CONTAINS(LCASE(STR(?surface)), LCASE(STR(?label))))
  }}
}}
GROUP BY ?min ?m ?id ?surface ?e
ORDER BY DESC(?confidence) ?id ?start
"""

_SURFACE_FORMS = _PROLOGUE + f"""
SELECT ?min ?resource ?surface (COUNT(?m) AS ?count)
WHERE {{ ?m itsrdf:taIdentRef ?resource ; nif:anchorOf|gb:surfaceForm ?surface {_KEPT} }}
GROUP BY ?min ?resource ?surface
ORDER BY DESC(?count) ?surface
"""

_DOCUMENTS_MENTIONING = _PROLOGUE + f"""
SELECT ?min ?resource ?id (COUNT(?m) AS ?count)
WHERE {{
  GRAPH ?doc {{ ?m itsrdf:taIdentRef ?resource {_KEPT} }}
  ?doc dcterms:identifier ?id .
}}
GROUP BY ?min ?resource ?doc ?id
ORDER BY DESC(?count) ?id
"""

_CO_MENTIONS = _PROLOGUE + f"""
SELECT ?min ?resource ?other (COUNT(DISTINCT ?doc) AS ?shared)
WHERE {{
  {{ SELECT DISTINCT ?min ?resource ?doc WHERE {{ GRAPH ?doc {{ ?m itsrdf:taIdentRef ?resource {_KEPT} }} }} }}
  GRAPH ?doc {{ ?o itsrdf:taIdentRef ?other OPTIONAL {{ ?o itsrdf:taConfidence ?oc }} }}
  FILTER (?other != ?resource && (!BOUND(?oc) || ?oc >= ?min))
}}
GROUP BY ?min ?resource ?other
ORDER BY DESC(?shared) ?other
"""
