"""Documents to quads: the one place that mints IRIs (docs/model.md).

Every quad of a document lives in the document's own named graph, whose name is the
document IRI; provenance about that graph goes to the metadata graph. Quads are built as
N-Quads text: the store's bulk loader takes it at full speed, and ``DocumentQuads.quads``
parses it back into pyoxigraph terms where objects are wanted.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pyoxigraph
from pyoxigraph import NamedNode, Quad

from graphbuild import __version__
from graphbuild.files import is_remote
from graphbuild.model.records import Annotation, Document, Link
from graphbuild.model.vocab import (
    AMBIGUOUS_PLACEMENT,
    ANNOTATION_CONFIDENCE,
    ANNOTATION_ENDPOINT,
    ANNOTATION_KEY,
    ANNOTATION_LANGUAGE,
    ANNOTATION_SECONDS,
    ANNOTATION_SUPPORT,
    CONTENT_HASH,
    DCTERMS_IDENTIFIER,
    ENRICHMENT_GRAPH,
    GB,
    ITS_TA_ANNOTATORS_REF,
    ITS_TA_CLASS_REF,
    ITS_TA_CONFIDENCE,
    ITS_TA_IDENT_REF,
    METADATA_GRAPH,
    MIN_CONFIDENCE,
    NIF_ANCHOR_OF,
    NIF_ANNOTATION,
    NIF_BEGIN_INDEX,
    NIF_CONTEXT,
    NIF_END_INDEX,
    NIF_IS_STRING,
    NIF_PHRASE,
    NIF_REFERENCE_CONTEXT,
    NIF_RFC5147_STRING,
    NIF_SOURCE_URL,
    NIF_STRING,
    NIF_TOPIC,
    OFFSETS_INFERRED,
    PROV_ACTIVITY,
    PROV_ENTITY,
    PROV_GENERATED_AT_TIME,
    PROV_SOFTWARE_AGENT,
    PROV_STARTED_AT_TIME,
    PROV_WAS_ASSOCIATED_WITH,
    PROV_WAS_DERIVED_FROM,
    PROV_WAS_GENERATED_BY,
    RDF_TYPE,
    SCHEMA_MENTIONS,
    SCHEMA_NAME,
    SCHEMA_SCHOLARLY_ARTICLE,
    SECOND_RANK,
    SUPPORT,
    SURFACE_FORM,
    TOOL,
    TOOL_VERSION,
    XSD_BOOLEAN,
    XSD_DATE_TIME,
    XSD_DOUBLE,
    XSD_INTEGER,
    XSD_NON_NEGATIVE_INTEGER,
)

# N-Quads text of the terms (str() of a NamedNode is its <IRI>).
_A = str(RDF_TYPE)
_INT = f"^^{XSD_NON_NEGATIVE_INTEGER}"
_DOUBLE = f"^^{XSD_DOUBLE}"
_INTEGER = f"^^{XSD_INTEGER}"
_DATETIME = f"^^{XSD_DATE_TIME}"
_TRUE = f'"true"^^{XSD_BOOLEAN}'
# Fixed middles of lines, " predicate object " or " predicate ": a line is node + middle
# (+ object) + " <graph> .\n".
_ARTICLE = f" {_A} {SCHEMA_SCHOLARLY_ARTICLE}"
_IDENTIFIER = f" {DCTERMS_IDENTIFIER} "
_MENTIONS = f" {SCHEMA_MENTIONS} "
_CONTEXT_A = f" {_A} {NIF_CONTEXT}"
_PHRASE_A = f" {_A} {NIF_PHRASE}"
_STRING_A = f" {_A} {NIF_STRING}"
_RFC5147_A = f" {_A} {NIF_RFC5147_STRING}"
_ANNOTATION_A = f" {_A} {NIF_ANNOTATION}"
_IS_STRING = f" {NIF_IS_STRING} "
_BEGIN = f" {NIF_BEGIN_INDEX} "
_END = f" {NIF_END_INDEX} "
_SOURCE_URL = f" {NIF_SOURCE_URL} "
_REFERENCE_CONTEXT = f" {NIF_REFERENCE_CONTEXT} "
_ANCHOR_OF = f" {NIF_ANCHOR_OF} "
_TOPIC = f" {NIF_TOPIC} "
_SURFACE_FORM = f" {SURFACE_FORM} "
_INFERRED = f" {OFFSETS_INFERRED} {_TRUE}"
_AMBIGUOUS = f" {AMBIGUOUS_PLACEMENT} {_TRUE}"
_IDENT_REF = f" {ITS_TA_IDENT_REF} "
_CONFIDENCE = f" {ITS_TA_CONFIDENCE} "
_ANNOTATORS_REF = f" {ITS_TA_ANNOTATORS_REF} "
_CLASS_REF = f" {ITS_TA_CLASS_REF} "
_SUPPORT = f" {SUPPORT} "
_SECOND_RANK = f" {SECOND_RANK} "
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
# What N-Quads forbids inside <…>; readers validate IRIs, this keeps the bulk loader safe.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


@dataclass(frozen=True, slots=True)
class DocumentQuads:
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


@lru_cache(maxsize=1 << 17)
def form_figure_iri(resource: str, form: str) -> str:
    """The figures node of one resource's surface form: a digest of the pair, so that it
    is short and the same in every store (a corpus repeats a few thousand pairs)."""
    digest = hashlib.sha256(f"{resource}\n{form}".encode()).hexdigest()[:32]
    return f"{GB}form-{digest}"


def enrichment_graph(resource: NamedNode) -> NamedNode:
    """The graph holding what was fetched about one linked resource (readable, one per IRI)."""
    return NamedNode(f"{ENRICHMENT_GRAPH.value}?resource={quote(resource.value, safe=':/()!$*+,;=@~')}")


def document_quads(doc: Document, *, base: str) -> DocumentQuads:
    """All quads of one document, in one named graph, and their content hash.

    Raises ValueError when a link's IRI cannot be written (readers validate IRIs).
    """
    iri = document_iri(doc.id, base).value
    lines, placed = _document_lines(doc, iri)
    text = "".join(lines)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return DocumentQuads(iri, text, f"sha256:{digest}", placed, len(doc.links) - placed)


def provenance_nquads(
    graph: DocumentQuads,
    *,
    source: str,
    run: NamedNode,
    at: datetime,
    min_confidence: float | None = None,
    annotation: Annotation | None = None,
) -> str:
    """Metadata-graph N-Quads that say where a document graph came from, how it was
    filtered, and how its links were made when graphbuild asked a linker for them.

    Every quad is about the document graph itself, so that replacing or deleting the
    document takes its whole record along.
    """
    s, g = f"<{graph.iri}>", f"<{METADATA_GRAPH.value}>"
    lines = [
        f"{s} {_A} {PROV_ENTITY} {g} .\n",
        f"{s} {PROV_GENERATED_AT_TIME} {_datetime(at)} {g} .\n",
        f"{s} {PROV_WAS_GENERATED_BY} {run} {g} .\n",
        f"{s} {CONTENT_HASH} {_literal(graph.content_hash)} {g} .\n",
    ]
    derived_from = source_iri(source)
    if derived_from is not None:
        lines.append(f"{s} {PROV_WAS_DERIVED_FROM} <{derived_from}> {g} .\n")
    if min_confidence is not None:
        lines.append(f"{s} {MIN_CONFIDENCE} \"{min_confidence!r}\"{_DOUBLE} {g} .\n")
    if annotation is not None:
        lines += [
            f"{s} {ANNOTATION_ENDPOINT} {_iri(annotation.endpoint)} {g} .\n",
            f"{s} {ANNOTATION_CONFIDENCE} \"{annotation.confidence!r}\"{_DOUBLE} {g} .\n",
            f"{s} {ANNOTATION_SUPPORT} \"{annotation.support}\"{_INTEGER} {g} .\n",
            f"{s} {ANNOTATION_LANGUAGE} {_literal(annotation.language)} {g} .\n",
            f"{s} {ANNOTATION_SECONDS} \"{annotation.seconds!r}\"{_DOUBLE} {g} .\n",
            f"{s} {ANNOTATION_KEY} {_literal(annotation.key)} {g} .\n",
            f"{s} {TOOL_VERSION} {_literal(__version__)} {g} .\n",
        ]
    return "".join(lines)


def run_nquads(run: NamedNode, *, started: datetime) -> str:
    """The metadata of one ingest run: when, and which tool at which version."""
    r, g, tool = str(run), str(METADATA_GRAPH), str(TOOL)
    return (
        f"{r} {_A} {PROV_ACTIVITY} {g} .\n"
        f"{r} {PROV_STARTED_AT_TIME} {_datetime(started)} {g} .\n"
        f"{r} {PROV_WAS_ASSOCIATED_WITH} {tool} {g} .\n"
        f"{r} {TOOL_VERSION} {_literal(__version__)} {g} .\n"
        f"{tool} {_A} {PROV_SOFTWARE_AGENT} {g} .\n"
        f"{tool} {SCHEMA_NAME} {_literal('graphbuild')} {g} .\n"
    )


def _document_lines(doc: Document, iri: str) -> tuple[list[str], int]:
    """The document's N-Quads lines (a few lines per list item) and how many links are placed.

    Built from preformatted fragments, one string per mention where possible: this runs
    for every document of a corpus and is most of the cost of preparing one.

    The store's form is lean (docs/model.md): a phrase is typed ``nif:Phrase`` only, and
    what every link of the document shares is said once, on its context: the annotator,
    and ``gb:offsetsInferred`` when every placed link was placed by offset recovery. A
    link keeps its own annotator, and a phrase its own flag, only where they differ from
    the context's. ``graphbuild export`` writes the full NIF form back (``output.rdf``).
    """
    g = f"<{iri}>"
    end = f" {g} .\n"  # what every line ends with
    context = f"<{iri}#char=0,{len(doc.text)}>"
    text = doc.text
    links = doc.links
    shared = _shared_annotator(doc)
    annotator = _iri(doc.annotator) if doc.annotator else None
    shared_iri = _iri(shared) if shared is not None else None
    placed = [link for link in links if link.begin is not None and link.end is not None]
    all_inferred = bool(placed) and all(link.inferred for link in placed)
    lines = [f"{g}{_ARTICLE}{end}{g}{_IDENTIFIER}{_literal(doc.id)}{end}"]
    lines.extend(f"{g}{_MENTIONS}{_iri(resource)}{end}" for resource in dict.fromkeys(link.resource for link in links))
    lines.append(
        f"{context}{_CONTEXT_A}{end}{context}{_STRING_A}{end}{context}{_RFC5147_A}{end}"
        f"{context}{_IS_STRING}{_literal(text)}{end}{context}{_BEGIN}\"0\"{_INT}{end}"
        f"{context}{_END}\"{len(text)}\"{_INT}{end}{context}{_SOURCE_URL}{g}{end}"
    )
    if shared_iri is not None:
        lines.append(f"{context}{_ANNOTATORS_REF}{shared_iri}{end}")
    if all_inferred:
        lines.append(f"{context}{_INFERRED}{end}")
    unplaced = 0
    for link in links:
        begin, stop = link.begin, link.end
        if begin is not None and stop is not None:
            node = f"<{iri}#char={begin},{stop}>"
            lines.append(
                f"{node}{_PHRASE_A}{end}{node}{_REFERENCE_CONTEXT}{context}{end}"
                # NIF's anchor is the text slice, also where offset recovery matched a surface
                # form that the linker had re-cased ("Eil" over "EIL").
                f"{node}{_ANCHOR_OF}{_literal(text[begin:stop])}{end}"
                f"{node}{_BEGIN}\"{begin}\"{_INT}{end}{node}{_END}\"{stop}\"{_INT}{end}"
            )
            _link_lines(lines, node, link, end, annotator, shared_iri)
            if link.inferred and not all_inferred:
                lines.append(f"{node}{_INFERRED}{end}")
            if link.ambiguous:
                lines.append(f"{node}{_AMBIGUOUS}{end}")
        else:
            # GERBIL's way for a link with no place in the text: a document-level annotation.
            unplaced += 1
            node = f"<{iri}#annotation-{unplaced}>"
            lines.append(
                f"{context}{_TOPIC}{node}{end}{node}{_ANNOTATION_A}{end}{node}{_SURFACE_FORM}{_literal(link.surface)}{end}"
            )
            _link_lines(lines, node, link, end, annotator, shared_iri)
    return lines, len(links) - unplaced


def _shared_annotator(doc: Document) -> str | None:
    """The annotator said once on the document's context: the document's own when a link
    uses it, else the one every link uses; None when the links have none in common."""
    if not doc.links:
        return None
    if doc.annotator is not None and any(link.annotator in (None, doc.annotator) for link in doc.links):
        return doc.annotator
    annotators = {link.annotator or doc.annotator for link in doc.links}
    if len(annotators) == 1:
        return annotators.pop()
    return None


def _link_lines(lines: list[str], node: str, link: Link, end: str, annotator: str | None, shared: str | None) -> None:
    line = f"{node}{_IDENT_REF}{_iri(link.resource)}{end}"
    if link.confidence is not None:
        line += f"{node}{_CONFIDENCE}\"{link.confidence!r}\"{_DOUBLE}{end}"
    if link.annotator is not None:
        annotator = _iri(link.annotator)  # a link's own annotator outranks the document's
    if annotator is not None and annotator != shared:
        line += f"{node}{_ANNOTATORS_REF}{annotator}{end}"
    lines.append(line)
    for type_iri in link.types:
        lines.append(f"{node}{_CLASS_REF}{_iri(type_iri)}{end}")
    if link.support is not None:
        lines.append(f"{node}{_SUPPORT}\"{link.support}\"{_INTEGER}{end}")
    if link.second_rank is not None:
        lines.append(f"{node}{_SECOND_RANK}\"{link.second_rank!r}\"{_DOUBLE}{end}")


def source_iri(source: str) -> str | None:
    """What ``prov:wasDerivedFrom`` records for a source: its file URI, or its fsspec URL
    (``s3://…``) as it is (none for standard input)."""
    if not source or source.startswith("<"):
        return None
    return quote(source, safe=":/@!$&'()*+,;=~%") if is_remote(source) else _file_uri(source)


def _file_uri(source: str) -> str:
    """``Path(source).resolve().as_uri()``, resolving each folder once: resolving costs
    a system call per path component, for every document of a run."""
    path = os.path.abspath(source)
    if os.name != "posix" or ".." in source or os.path.islink(path):
        return Path(source).resolve().as_uri()
    folder, name = os.path.split(path)
    return f"{_real_folder(folder)}/{quote_from_bytes(os.fsencode(name))}"


@lru_cache(maxsize=1 << 12)
def _real_folder(folder: str) -> str:
    # Folders are taken not to move during a run.
    return "file://" + quote_from_bytes(os.fsencode(os.path.realpath(folder))).rstrip("/")


# A corpus links the same few thousand resources over and over: each is checked once.
@lru_cache(maxsize=1 << 17)
def _iri(value: str) -> str:
    if _NOT_IN_IRI.search(value) or ":" not in value:
        raise ValueError(f"not a valid IRI: {value!r}")
    return f"<{value}>"


def _literal(value: str) -> str:
    # Most values need no escape; four C-level scans beat a translate table per character.
    if "\\" in value or '"' in value or "\n" in value or "\r" in value:
        value = value.translate(_ESCAPES)
    return f'"{value}"'


def _datetime(at: datetime) -> str:
    return f'"{at.isoformat()}"{_DATETIME}'
