"""Dumping the store, or one document, in the RDF formats linked-data tools read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import pyoxigraph
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple

from graphbuild.errors import GraphbuildError
from graphbuild.files import Folder, written_whole
from graphbuild.model.vocab import (
    DCTERMS_IDENTIFIER,
    ITS_TA_ANNOTATORS_REF,
    ITS_TA_CLASS_REF,
    ITS_TA_CONFIDENCE,
    ITS_TA_IDENT_REF,
    METADATA_GRAPH,
    NIF_ANCHOR_OF,
    NIF_BEGIN_INDEX,
    NIF_END_INDEX,
    NIF_IS_STRING,
    NIF_REFERENCE_CONTEXT,
    NIF_SOURCE_URL,
    PREFIXES,
    RDF_TYPE,
    SCHEMA_MENTIONS,
)
from graphbuild.output.full import full_graph, full_quads, is_document_graph
from graphbuild.output.manifest import Manifest, clear_parts, parts_in, refuse_other_parts, write_manifest
from graphbuild.output.parts import PartWriter
from graphbuild.progress import Progress
from graphbuild.store.protocol import Store, lexical

# A document graph is small: sorted, it reads like docs/model.md (document, context, phrases
# in text order). Larger graphs (metadata of a big corpus) are streamed as stored.
_SORT_LIMIT = 100_000
_PREDICATE_ORDER = {
    iri: rank
    for rank, iri in enumerate(
        [
            RDF_TYPE.value,
            DCTERMS_IDENTIFIER.value,
            SCHEMA_MENTIONS.value,
            NIF_IS_STRING.value,
            NIF_ANCHOR_OF.value,
            NIF_BEGIN_INDEX.value,
            NIF_END_INDEX.value,
            NIF_REFERENCE_CONTEXT.value,
            NIF_SOURCE_URL.value,
            ITS_TA_IDENT_REF.value,
            ITS_TA_CONFIDENCE.value,
            ITS_TA_CLASS_REF.value,
            ITS_TA_ANNOTATORS_REF.value,
        ]
    )
}
_FRAGMENT = re.compile(r"#(?:char=(\d+),(\d+)|annotation-(\d+))$")


class ExportFormat(str, Enum):
    TURTLE = "turtle"
    NTRIPLES = "ntriples"
    NQUADS = "nquads"
    TRIG = "trig"
    JSONLD = "jsonld"

    @property
    def rdf_format(self) -> RdfFormat:
        return _RDF_FORMATS[self]

    @classmethod
    def guess(cls, path: Path) -> ExportFormat | None:
        """The format a file extension stands for (``.ttl``, ``.nq``, ``.jsonld``…), or None."""
        return _EXTENSIONS.get(path.suffix.lower())


_RDF_FORMATS = {
    ExportFormat.TURTLE: RdfFormat.TURTLE,
    ExportFormat.NTRIPLES: RdfFormat.N_TRIPLES,
    ExportFormat.NQUADS: RdfFormat.N_QUADS,
    ExportFormat.TRIG: RdfFormat.TRIG,
    ExportFormat.JSONLD: RdfFormat.JSON_LD,
}
_EXTENSIONS = {
    ".ttl": ExportFormat.TURTLE,
    ".nt": ExportFormat.NTRIPLES,
    ".nq": ExportFormat.NQUADS,
    ".trig": ExportFormat.TRIG,
    ".jsonld": ExportFormat.JSONLD,
}


def export(
    store: Store,
    output: BinaryIO | Path,
    *,
    format: ExportFormat = ExportFormat.TURTLE,
    document: str | None = None,
    as_stored: bool = False,
    progress: Progress | None = None,
) -> None:
    """Write the whole store, or one document's graph and its metadata, to ``output``.

    Document graphs are written in the full NIF 2.1 / ITS 2.0 form that NIF tools read
    (graphbuild.output.full), or with ``as_stored`` as the store holds them (docs/model.md).
    Quad formats keep the named graphs; triple formats (Turtle, N-Triples) merge them. A
    file is written under a temporary name and takes its own once whole. ``progress``
    gets the ``quads`` stage: the store's quads read, out of all of them (counted first).
    """
    if isinstance(output, Path):
        with written_whole(output) as temporary:
            _export(store, str(temporary), format=format, document=document, as_stored=as_stored, progress=progress)
    else:
        _export(store, output, format=format, document=document, as_stored=as_stored, progress=progress)


def _export(
    store: Store, target: BinaryIO | str, *, format: ExportFormat, document: str | None, as_stored: bool,
    progress: Progress | None,
) -> None:
    rdf = format.rdf_format
    read = _QuadsRead(progress, store.quad_count() if progress is not None and document is None else None)
    if document is None and format is ExportFormat.NQUADS:
        # Line-based, nothing to arrange for a reader: the store's own dump is the fastest
        # (and says nothing while it works); in the full form, the store's quads as they
        # come (graph by graph) with each document graph expanded.
        if as_stored:
            store.dump(target, rdf)
            read.read = read.total or 0
        else:
            pyoxigraph.serialize(full_quads(read.through(store.quads())), target, rdf)
        read.end()
        return
    parts = _selected(store, document)
    prefixes = PREFIXES if rdf in (RdfFormat.TURTLE, RdfFormat.TRIG) else None
    quads = (
        q
        for graph, subject in parts
        for q in _readable(_full(graph, subject, read.through(store.quads(graph, subject=subject)), as_stored=as_stored))
    )
    data: Iterator[Quad] | Iterator[Triple] = quads if rdf.supports_datasets else (q.triple for q in quads)
    pyoxigraph.serialize(data, target, rdf, prefixes=prefixes)
    read.end()


class _QuadsRead:
    """Counts the store's quads as an export reads them, for its progress callback (the
    ``quads`` stage, every ``_REPORT_EVERY``: a call per quad would cost more than the quad)."""

    def __init__(self, progress: Progress | None, total: int | None) -> None:
        self.progress, self.total, self.read = progress, total, 0

    def through(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        if self.progress is None:
            yield from quads
            return
        for quad in quads:
            self.read += 1
            if self.read % _REPORT_EVERY == 0:
                self.progress("quads", self.read, self.total)
            yield quad

    def end(self) -> None:
        if self.progress is not None:
            self.progress("quads", self.read, self.read if self.total is None else max(self.total, self.read))


_REPORT_EVERY = 50_000


def export_parts(
    store: Store,
    folder: str | Path,
    *,
    split: int | None = None,
    gzip: bool = False,
    overwrite: bool = False,
    as_stored: bool = False,
    progress: Progress | None = None,
) -> Manifest:
    """The whole store as N-Quads part files for bulk loaders in ``folder`` (a path or an
    fsspec URL), then their manifest: parts of about ``split`` quads, a document graph
    never spanning two, in the full NIF form (or with ``as_stored`` as the store holds
    them). A folder that holds the parts of another run is refused, or with ``overwrite``
    cleared first."""
    target = Folder(folder)
    found = parts_in(target)
    if found and not overwrite:
        refuse_other_parts(target, found)
    clear_parts(target)
    read = _QuadsRead(progress, store.quad_count() if progress is not None else None)
    with PartWriter(target, split=split, gzip=gzip, numbered=True) as writer:
        for graph in store.graphs():
            documents = 1 if is_document_graph(graph) else 0
            for chunk in _batched(_full(graph, None, read.through(store.quads(graph)), as_stored=as_stored), 10_000):
                writer.write("".join(f"{quad} .\n" for quad in chunk), documents=documents)
                documents = 0
    read.end()
    manifest = Manifest(made_by="export", parts=tuple(writer.files))
    write_manifest(target, manifest)
    return manifest


def _selected(store: Store, document: str | None) -> list[tuple[NamedNode, NamedNode | None]]:
    """(graph, subject or None) pairs: one document takes only its own provenance."""
    if document is None:
        return [(graph, None) for graph in store.graphs()]
    found = store.document_graphs([document])
    if document not in found:
        raise GraphbuildError(f"no document with id {document!r} in the store at {store.location}")
    return [(found[document], None), (METADATA_GRAPH, found[document])]


def write_triples(triples: Iterator[Triple], output: BinaryIO, *, format: ExportFormat = ExportFormat.TURTLE) -> None:
    """Serialise CONSTRUCT/DESCRIBE results; quad formats are refused."""
    rdf = format.rdf_format
    if rdf.supports_datasets and rdf is not RdfFormat.JSON_LD:
        raise GraphbuildError(f"{format.value} needs named graphs; a CONSTRUCT result has none: use turtle or ntriples", setting="format")
    prefixes = PREFIXES if rdf is RdfFormat.TURTLE else None
    pyoxigraph.serialize(triples, output, rdf, prefixes=prefixes)


def _full(graph: NamedNode, subject: NamedNode | None, quads: Iterator[Quad], *, as_stored: bool) -> Iterator[Quad]:
    """A whole document graph in the full NIF form (graphbuild.output.full); others as stored."""
    if not as_stored and subject is None and is_document_graph(graph):
        return iter(full_graph(quads))
    return quads


def _readable(quads: Iterator[Quad]) -> Iterator[Quad]:
    head = list(islice(quads, _SORT_LIMIT))
    if len(head) < _SORT_LIMIT:
        yield from sorted(head, key=_quad_order)
        return
    yield from head
    yield from quads


def _quad_order(quad: Quad) -> tuple[object, ...]:
    predicate = quad.predicate.value
    return (_subject_order(lexical(quad.subject)), _PREDICATE_ORDER.get(predicate, 99), predicate, str(quad.object))


def _subject_order(iri: str) -> tuple[object, ...]:
    match = _FRAGMENT.search(iri)
    if match is None:
        return (iri, 0, 0, 0)
    stem = iri[: match.start()]
    if match[3] is not None:
        return (stem, 2, int(match[3]), 0)
    return (stem, 1, int(match[1]), -int(match[2]))


def _batched(quads: Iterator[Quad], size: int) -> Iterator[list[Quad]]:
    while chunk := list(islice(quads, size)):
        yield chunk
