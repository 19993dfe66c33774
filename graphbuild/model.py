"""Documents to quads: the one place that mints IRIs (MODEL.md).

Every quad of a document lives in the document's own named graph, whose name is the
document IRI; provenance about that graph goes to the metadata graph.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from pyoxigraph import Literal, NamedNode, Quad

from graphbuild import __version__
from graphbuild.records import Document, Link
from graphbuild.vocab import DCTERMS, GB, ITSRDF, METADATA_GRAPH, NIF, PROV, RDF, SCHEMA, TOOL, XSD

_TYPE = NamedNode(RDF + "type")
_INT = NamedNode(XSD + "nonNegativeInteger")
_DOUBLE = NamedNode(XSD + "double")
_BOOLEAN = NamedNode(XSD + "boolean")
_DATETIME = NamedNode(XSD + "dateTime")
_TRUE = Literal("true", datatype=_BOOLEAN)

_NIF_CONTEXT = NamedNode(NIF + "Context")
_NIF_STRING = NamedNode(NIF + "String")
_NIF_RFC5147 = NamedNode(NIF + "RFC5147String")
_NIF_PHRASE = NamedNode(NIF + "Phrase")
_NIF_ANNOTATION = NamedNode(NIF + "Annotation")
_IS_STRING = NamedNode(NIF + "isString")
_BEGIN = NamedNode(NIF + "beginIndex")
_END = NamedNode(NIF + "endIndex")
_SOURCE_URL = NamedNode(NIF + "sourceUrl")
_REFERENCE_CONTEXT = NamedNode(NIF + "referenceContext")
_ANCHOR_OF = NamedNode(NIF + "anchorOf")
_TOPIC = NamedNode(NIF + "topic")
_IDENT_REF = NamedNode(ITSRDF + "taIdentRef")
_CONFIDENCE = NamedNode(ITSRDF + "taConfidence")
_ANNOTATORS_REF = NamedNode(ITSRDF + "taAnnotatorsRef")
_CLASS_REF = NamedNode(ITSRDF + "taClassRef")
_ARTICLE = NamedNode(SCHEMA + "ScholarlyArticle")
_MENTIONS = NamedNode(SCHEMA + "mentions")
_IDENTIFIER = NamedNode(DCTERMS + "identifier")

OFFSETS_INFERRED = NamedNode(GB + "offsetsInferred")
AMBIGUOUS = NamedNode(GB + "ambiguousPlacement")
SURFACE_FORM = NamedNode(GB + "surfaceForm")
CONTENT_HASH = NamedNode(GB + "contentHash")
TOOL_VERSION = NamedNode(GB + "toolVersion")


@dataclass(frozen=True, slots=True)
class DocumentGraph:
    """A document's quads with what the store needs to decide and report."""

    iri: NamedNode
    quads: tuple[Quad, ...]
    content_hash: str
    mentions: int
    unplaced: int


def document_iri(doc_id: str, base: str) -> NamedNode:
    """The IRI of a document: its id, percent-encoded, under ``base``."""
    return NamedNode(base + quote(doc_id, safe="-._~"))


def run_iri(started: datetime) -> NamedNode:
    """An ingest run, named by its start time so that provenance stays readable."""
    return NamedNode(f"{GB}run-{started.strftime('%Y%m%dT%H%M%S.%fZ')}")


def document_graph(doc: Document, *, base: str) -> DocumentGraph:
    """All quads of one document, in one named graph, and their content hash."""
    iri = document_iri(doc.id, base)
    quads = tuple(_document_quads(doc, iri))
    digest = hashlib.sha256("\n".join(map(str, quads)).encode("utf-8")).hexdigest()
    placed = sum(1 for link in doc.links if link.placed)
    return DocumentGraph(iri, quads, f"sha256:{digest}", placed, len(doc.links) - placed)


def provenance_quads(graph: DocumentGraph, *, source: str, run: NamedNode, at: datetime) -> list[Quad]:
    """Metadata-graph quads that say where a document graph came from."""
    g = METADATA_GRAPH
    quads = [
        Quad(graph.iri, _TYPE, NamedNode(PROV + "Entity"), g),
        Quad(graph.iri, NamedNode(PROV + "generatedAtTime"), _datetime(at), g),
        Quad(graph.iri, NamedNode(PROV + "wasGeneratedBy"), run, g),
        Quad(graph.iri, CONTENT_HASH, Literal(graph.content_hash), g),
    ]
    if source and not source.startswith("<"):
        quads.append(Quad(graph.iri, NamedNode(PROV + "wasDerivedFrom"), NamedNode(Path(source).resolve().as_uri()), g))
    return quads


def run_quads(run: NamedNode, *, started: datetime) -> list[Quad]:
    """The metadata of one ingest run: when, and which tool at which version."""
    g = METADATA_GRAPH
    return [
        Quad(run, _TYPE, NamedNode(PROV + "Activity"), g),
        Quad(run, NamedNode(PROV + "startedAtTime"), _datetime(started), g),
        Quad(run, NamedNode(PROV + "wasAssociatedWith"), TOOL, g),
        Quad(run, TOOL_VERSION, Literal(__version__), g),
        Quad(TOOL, _TYPE, NamedNode(PROV + "SoftwareAgent"), g),
        Quad(TOOL, NamedNode(SCHEMA + "name"), Literal("graphbuild"), g),
    ]


def _document_quads(doc: Document, iri: NamedNode) -> Iterable[Quad]:
    context = NamedNode(f"{iri.value}#char=0,{len(doc.text)}")
    yield Quad(iri, _TYPE, _ARTICLE, iri)
    yield Quad(iri, _IDENTIFIER, Literal(doc.id), iri)
    for resource in dict.fromkeys(link.resource for link in doc.links):
        yield Quad(iri, _MENTIONS, NamedNode(resource), iri)
    yield from _context_quads(doc.text, context, iri)
    annotator = NamedNode(doc.annotator) if doc.annotator else None
    unplaced = 0
    for link in doc.links:
        if link.placed:
            yield from _phrase_quads(link, context, iri, annotator)
        else:
            unplaced += 1
            yield from _annotation_quads(link, context, iri, annotator, unplaced)


def _context_quads(text: str, context: NamedNode, g: NamedNode) -> Iterable[Quad]:
    yield Quad(context, _TYPE, _NIF_CONTEXT, g)
    yield Quad(context, _TYPE, _NIF_STRING, g)
    yield Quad(context, _TYPE, _NIF_RFC5147, g)
    yield Quad(context, _IS_STRING, Literal(text), g)
    yield Quad(context, _BEGIN, _index(0), g)
    yield Quad(context, _END, _index(len(text)), g)
    yield Quad(context, _SOURCE_URL, g, g)


def _phrase_quads(link: Link, context: NamedNode, g: NamedNode, annotator: NamedNode | None) -> Iterable[Quad]:
    assert link.begin is not None and link.end is not None
    phrase = NamedNode(f"{g.value}#char={link.begin},{link.end}")
    yield Quad(phrase, _TYPE, _NIF_PHRASE, g)
    yield Quad(phrase, _TYPE, _NIF_STRING, g)
    yield Quad(phrase, _TYPE, _NIF_RFC5147, g)
    yield Quad(phrase, _REFERENCE_CONTEXT, context, g)
    yield Quad(phrase, _ANCHOR_OF, Literal(link.surface), g)
    yield Quad(phrase, _BEGIN, _index(link.begin), g)
    yield Quad(phrase, _END, _index(link.end), g)
    yield from _link_quads(phrase, link, g, annotator)
    if link.inferred:
        yield Quad(phrase, OFFSETS_INFERRED, _TRUE, g)
    if link.ambiguous:
        yield Quad(phrase, AMBIGUOUS, _TRUE, g)


def _annotation_quads(
    link: Link, context: NamedNode, g: NamedNode, annotator: NamedNode | None, number: int
) -> Iterable[Quad]:
    # GERBIL's way for a link with no place in the text: a document-level annotation.
    annotation = NamedNode(f"{g.value}#annotation-{number}")
    yield Quad(context, _TOPIC, annotation, g)
    yield Quad(annotation, _TYPE, _NIF_ANNOTATION, g)
    yield Quad(annotation, SURFACE_FORM, Literal(link.surface), g)
    yield from _link_quads(annotation, link, g, annotator)


def _link_quads(node: NamedNode, link: Link, g: NamedNode, annotator: NamedNode | None) -> Iterable[Quad]:
    yield Quad(node, _IDENT_REF, NamedNode(link.resource), g)
    if link.confidence is not None:
        yield Quad(node, _CONFIDENCE, Literal(repr(link.confidence), datatype=_DOUBLE), g)
    if annotator is not None:
        yield Quad(node, _ANNOTATORS_REF, annotator, g)
    for type_iri in link.types:
        yield Quad(node, _CLASS_REF, NamedNode(type_iri), g)


def _index(value: int) -> Literal:
    return Literal(str(value), datatype=_INT)


def _datetime(at: datetime) -> Literal:
    return Literal(at.isoformat(), datatype=_DATETIME)


def graph_names(graphs: Sequence[DocumentGraph]) -> list[NamedNode]:
    return [graph.iri for graph in graphs]
