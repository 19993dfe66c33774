"""Documents to quads: the one place that mints IRIs (MODEL.md).

Every quad of a document lives in the document's own named graph, whose name is the
document IRI; provenance about that graph goes to the metadata graph. Quads are built as
N-Quads text: the store's bulk loader takes it at full speed, and ``DocumentGraph.quads``
parses it back into pyoxigraph terms where objects are wanted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pyoxigraph
from pyoxigraph import NamedNode, Quad

from graphbuild import __version__
from graphbuild.records import Document, Link
from graphbuild.vocab import DCTERMS, ENRICHMENT_GRAPH, GB, ITSRDF, METADATA_GRAPH, NIF, PROV, RDF, SCHEMA, TOOL, XSD
from graphbuild.vocab import SECOND_RANK, SUPPORT

OFFSETS_INFERRED = GB + "offsetsInferred"
AMBIGUOUS = GB + "ambiguousPlacement"
SURFACE_FORM = GB + "surfaceForm"
CONTENT_HASH = GB + "contentHash"
TOOL_VERSION = GB + "toolVersion"
MIN_CONFIDENCE = GB + "minConfidence"

_A = f"<{RDF}type>"
_INT = f"^^<{XSD}nonNegativeInteger>"
_DOUBLE = f"^^<{XSD}double>"
_INTEGER = f"^^<{XSD}integer>"
_DATETIME = f"^^<{XSD}dateTime>"
_TRUE = f'"true"^^<{XSD}boolean>'
_CONTEXT_TYPES = (f"<{NIF}Context>", f"<{NIF}String>", f"<{NIF}RFC5147String>")
_PHRASE_TYPES = (f"<{NIF}Phrase>", f"<{NIF}String>", f"<{NIF}RFC5147String>")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
# What N-Quads forbids inside <…>; readers validate IRIs, this keeps the bulk loader safe.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


@dataclass(frozen=True, slots=True)
class DocumentGraph:
    """A document's graph as N-Quads text, with what the store needs to decide and report."""

    iri: str
    nquads: str
    content_hash: str
    mentions: int
    unplaced: int

    @property
    def quads(self) -> list[Quad]:
        return list(pyoxigraph.parse(self.nquads, pyoxigraph.RdfFormat.N_QUADS))


def document_iri(doc_id: str, base: str) -> NamedNode:
    """The IRI of a document: its id, percent-encoded, under ``base``."""
    return NamedNode(base + quote(doc_id, safe="-._~"))


def run_iri(started: datetime) -> NamedNode:
    """An ingest run, named by its start time so that provenance stays readable."""
    return NamedNode(f"{GB}run-{started.strftime('%Y%m%dT%H%M%S.%fZ')}")


def enrichment_graph(resource: NamedNode) -> NamedNode:
    """The graph holding what was fetched about one linked resource (readable, one per IRI)."""
    return NamedNode(f"{ENRICHMENT_GRAPH.value}?resource={quote(resource.value, safe=':/()!$*+,;=@~')}")


def document_graph(doc: Document, *, base: str) -> DocumentGraph:
    """All quads of one document, in one named graph, and their content hash.

    Raises ValueError when a link's IRI cannot be written (readers validate IRIs).
    """
    iri = document_iri(doc.id, base).value
    text = "".join(_document_lines(doc, iri))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    placed = sum(1 for link in doc.links if link.placed)
    return DocumentGraph(iri, text, f"sha256:{digest}", placed, len(doc.links) - placed)


def provenance_nquads(
    graph: DocumentGraph, *, source: str, run: NamedNode, at: datetime, min_confidence: float | None = None
) -> str:
    """Metadata-graph N-Quads that say where a document graph came from, and how it was filtered."""
    s, g = f"<{graph.iri}>", f"<{METADATA_GRAPH.value}>"
    lines = [
        f"{s} {_A} <{PROV}Entity> {g} .\n",
        f"{s} <{PROV}generatedAtTime> {_datetime(at)} {g} .\n",
        f"{s} <{PROV}wasGeneratedBy> <{run.value}> {g} .\n",
        f"{s} <{CONTENT_HASH}> {_literal(graph.content_hash)} {g} .\n",
    ]
    if source and not source.startswith("<"):
        lines.append(f"{s} <{PROV}wasDerivedFrom> <{Path(source).resolve().as_uri()}> {g} .\n")
    if min_confidence is not None:
        lines.append(f"{s} <{MIN_CONFIDENCE}> \"{min_confidence!r}\"{_DOUBLE} {g} .\n")
    return "".join(lines)


def run_nquads(run: NamedNode, *, started: datetime) -> str:
    """The metadata of one ingest run: when, and which tool at which version."""
    r, g, tool = f"<{run.value}>", f"<{METADATA_GRAPH.value}>", f"<{TOOL.value}>"
    return (
        f"{r} {_A} <{PROV}Activity> {g} .\n"
        f"{r} <{PROV}startedAtTime> {_datetime(started)} {g} .\n"
        f"{r} <{PROV}wasAssociatedWith> {tool} {g} .\n"
        f"{r} <{TOOL_VERSION}> {_literal(__version__)} {g} .\n"
        f"{tool} {_A} <{PROV}SoftwareAgent> {g} .\n"
        f"{tool} <{SCHEMA}name> {_literal('graphbuild')} {g} .\n"
    )


def _document_lines(doc: Document, iri: str) -> Iterator[str]:
    g = f"<{iri}>"
    context = f"<{iri}#char=0,{len(doc.text)}>"
    yield f"{g} {_A} <{SCHEMA}ScholarlyArticle> {g} .\n"
    yield f"{g} <{DCTERMS}identifier> {_literal(doc.id)} {g} .\n"
    for resource in dict.fromkeys(link.resource for link in doc.links):
        yield f"{g} <{SCHEMA}mentions> {_iri(resource)} {g} .\n"
    yield from _context_lines(doc.text, context, g)
    annotator = _iri(doc.annotator) if doc.annotator else None
    unplaced = 0
    for link in doc.links:
        if link.placed:
            yield from _phrase_lines(link, doc.text, iri, context, g, annotator)
        else:
            unplaced += 1
            yield from _annotation_lines(link, f"<{iri}#annotation-{unplaced}>", context, g, annotator)


def _context_lines(text: str, context: str, g: str) -> Iterator[str]:
    for type_iri in _CONTEXT_TYPES:
        yield f"{context} {_A} {type_iri} {g} .\n"
    yield f"{context} <{NIF}isString> {_literal(text)} {g} .\n"
    yield f"{context} <{NIF}beginIndex> \"0\"{_INT} {g} .\n"
    yield f"{context} <{NIF}endIndex> \"{len(text)}\"{_INT} {g} .\n"
    yield f"{context} <{NIF}sourceUrl> {g} {g} .\n"


def _phrase_lines(link: Link, text: str, iri: str, context: str, g: str, annotator: str | None) -> Iterator[str]:
    phrase = f"<{iri}#char={link.begin},{link.end}>"
    for type_iri in _PHRASE_TYPES:
        yield f"{phrase} {_A} {type_iri} {g} .\n"
    yield f"{phrase} <{NIF}referenceContext> {context} {g} .\n"
    # NIF's anchor is the text slice, also where offset recovery matched a surface form
    # that the linker had re-cased ("Eil" over "EIL").
    yield f"{phrase} <{NIF}anchorOf> {_literal(text[link.begin : link.end])} {g} .\n"
    yield f"{phrase} <{NIF}beginIndex> \"{link.begin}\"{_INT} {g} .\n"
    yield f"{phrase} <{NIF}endIndex> \"{link.end}\"{_INT} {g} .\n"
    yield from _link_lines(phrase, link, g, annotator)
    if link.inferred:
        yield f"{phrase} <{OFFSETS_INFERRED}> {_TRUE} {g} .\n"
    if link.ambiguous:
        yield f"{phrase} <{AMBIGUOUS}> {_TRUE} {g} .\n"


def _annotation_lines(link: Link, annotation: str, context: str, g: str, annotator: str | None) -> Iterator[str]:
    # GERBIL's way for a link with no place in the text: a document-level annotation.
    yield f"{context} <{NIF}topic> {annotation} {g} .\n"
    yield f"{annotation} {_A} <{NIF}Annotation> {g} .\n"
    yield f"{annotation} <{SURFACE_FORM}> {_literal(link.surface)} {g} .\n"
    yield from _link_lines(annotation, link, g, annotator)


def _link_lines(node: str, link: Link, g: str, annotator: str | None) -> Iterable[str]:
    yield f"{node} <{ITSRDF}taIdentRef> {_iri(link.resource)} {g} .\n"
    if link.confidence is not None:
        yield f"{node} <{ITSRDF}taConfidence> \"{link.confidence!r}\"{_DOUBLE} {g} .\n"
    if link.annotator is not None:
        annotator = _iri(link.annotator)  # a link's own annotator outranks the document's
    if annotator is not None:
        yield f"{node} <{ITSRDF}taAnnotatorsRef> {annotator} {g} .\n"
    for type_iri in link.types:
        yield f"{node} <{ITSRDF}taClassRef> {_iri(type_iri)} {g} .\n"
    if link.support is not None:
        yield f"{node} <{SUPPORT}> \"{link.support}\"{_INTEGER} {g} .\n"
    if link.second_rank is not None:
        yield f"{node} <{SECOND_RANK}> \"{link.second_rank!r}\"{_DOUBLE} {g} .\n"


def _iri(value: str) -> str:
    if _NOT_IN_IRI.search(value) or ":" not in value:
        raise ValueError(f"not a valid IRI: {value!r}")
    return f"<{value}>"


def _literal(value: str) -> str:
    return f'"{value.translate(_ESCAPES)}"'


def _datetime(at: datetime) -> str:
    return f'"{at.isoformat()}"{_DATETIME}'
