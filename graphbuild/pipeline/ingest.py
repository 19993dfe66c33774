"""Read, model, write: the ingest pipeline and its report.

Reading, offset recovery and quad building run in a second process (a bounded queue
between them keeps memory flat); the store's writing stays in this one. New documents go
to the bulk loader in batches, two at a time in background threads, each batch's metadata
after its documents, so a document with metadata is always whole; a document that
replaces an earlier version goes in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyoxigraph
from pyoxigraph import NamedNode

from graphbuild.workers.threads import Background
from graphbuild.errors import InputError
from graphbuild.store.figures import FiguresKeeper, Tally, graph_tally, tally
from graphbuild.model.quads import DocumentGraph, document_graph, provenance_nquads, run_iri, run_nquads
from graphbuild.pipeline.offsets import place_links
from graphbuild.workers.processes import in_order, runs_of_files
from graphbuild.readers import STDIN, InputFormat, find_sources, read_source
from graphbuild.model.records import Document, Repair, RepairKind, Skipped
from graphbuild.store.protocol import Store
from graphbuild.model.vocab import DEFAULT_BASE, METADATA_GRAPH, PROV

# New documents are written in batches of about this many characters of N-Quads; with two
# loading at once and one being gathered, ingest peaked at 623-667 MiB on 10k documents and
# 745-764 MiB on 100k (64 MB batches: 980 MiB on 10k, no faster).
_BATCH_CHARS = 32 * 1024 * 1024
# Documents per message from a preparing process, and messages in flight at most (per
# process; one message holds ~10 MiB of N-Quads for abstracts).
_CHUNK = 256
_QUEUE_CHUNKS = 8
_PROCESS_BYTES = 1 << 20
# With several preparing processes, each takes every n-th run of consecutive sources: at
# most this many files, or about this many bytes of input, per run.
_RUN_FILES = _CHUNK
_RUN_BYTES = 4 << 20


@dataclass
class IngestReport:
    """What one ingest did; ``errors`` and ``notes`` are per source, in reading order."""

    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    failed: int = 0
    empty: int = 0
    mentions: int = 0
    unplaced: int = 0
    errors: list[InputError] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)
    # What the readers repaired, and documents read twice in one run (stored once).
    repairs: list[Repair] = field(default_factory=list)
    duplicates: int = 0
    # Links left out for a confidence below ``min_confidence``.
    dropped: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def count_problem(self, item: InputError | Skipped) -> None:
        """Count a document that could not be read, or a source that held none."""
        if isinstance(item, InputError):
            self.failed += 1
            self.errors.append(item)
        else:
            self.empty += 1
            self.notes.append(item)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document ready to store: its graph as N-Quads, and where it came from."""

    doc_id: str
    source: str
    graph: DocumentGraph
    repairs: tuple[Repair, ...] = ()
    dropped: int = 0
    # What the document adds to the per-resource figures (graphbuild.store.figures).
    tally: tuple[Tally, ...] = ()


Item = Prepared | InputError | Skipped
Progress = Callable[[Item], None]


def ingest(
    paths: Iterable[str | Path],
    *,
    store: Store,
    format: InputFormat | None = None,
    base: str = DEFAULT_BASE,
    min_confidence: float | None = None,
    progress: Progress | None = None,
    parallel: bool = True,
) -> IngestReport:
    """Load every document under ``paths`` into ``store``; bad documents are reported, not loaded."""
    items = prepared(paths, format=format, base=base, min_confidence=min_confidence, parallel=parallel)
    writer = _Writer(store, min_confidence=min_confidence)
    try:
        for item in items:
            writer.take(item)
            if progress is not None:
                progress(item)
        writer.flush()
        writer.figures.commit(ready=writer.settle)
    finally:
        writer.loads.close()
    return writer.report


def prepared(
    paths: Iterable[str | Path],
    *,
    format: InputFormat | None = None,
    base: str = DEFAULT_BASE,
    min_confidence: float | None = None,
    parallel: bool = True,
    processes: int = 1,
    then: Callable[[Prepared], Any] | None = None,
) -> Iterator[Item]:
    """Every document under ``paths`` read, placed and modelled, in reading order.

    With ``parallel`` the work runs in ``processes`` other processes (not for standard
    input), so that the caller's writing overlaps it; the items come in the same order
    whatever the number. ``then`` (picklable: a module-level function or a partial of
    one) turns each prepared document into what is yielded instead, in those processes.
    """
    paths = list(paths)
    options = _Options(format=format, base=base, min_confidence=min_confidence, then=then)
    if parallel and _worth_a_process(paths):
        return _prepared_in_process(paths, options, processes=processes)
    return prepare(find_sources(paths, format=format), options)


def _worth_a_process(paths: list[str | Path]) -> bool:
    # Starting a process costs a fraction of a second: not worth it for one small file.
    # Standard input is read here (a process could not share it).
    if any(str(path) == STDIN for path in paths):
        return False
    return len(paths) > 1 or any(
        Path(p).is_dir() or (Path(p).is_file() and Path(p).stat().st_size > _PROCESS_BYTES) for p in paths
    )


@dataclass(frozen=True, slots=True)
class _Options:
    format: InputFormat | None
    base: str
    min_confidence: float | None
    then: Callable[[Prepared], Any] | None = None


def prepare(sources: Iterable[Path | str], options: _Options) -> Iterator[Item]:
    """Read, place and model: everything before the store, one item per document.

    ``sources`` are files (or ``-``) as ``find_sources`` lists them.
    """
    for source in sources:
        for item in read_source(source, format=options.format):
            if not isinstance(item, Document):
                yield item
                continue
            links = item.links
            if options.min_confidence is not None:
                links = tuple(link for link in links if link.confidence is None or link.confidence >= options.min_confidence)
            doc = replace(item, links=place_links(item.text, links))
            try:
                graph = document_graph(doc, base=options.base)
            except ValueError as exc:
                yield InputError(doc.source, None, f"document {doc.id!r}: {exc}")
                continue
            done = Prepared(doc.id, doc.source, graph, item.repairs, len(item.links) - len(links), tally(doc))
            yield done if options.then is None else options.then(done)


def _prepared_in_process(paths: list[str | Path], options: _Options, *, processes: int = 1) -> Iterator[Item]:
    def runs() -> list[list[Path | str]]:
        sources = find_sources(paths, format=options.format)
        return runs_of_files(sources, processes, files=_RUN_FILES, size=_RUN_BYTES)

    return in_order(
        partial(prepare, options=options),
        runs,
        processes=processes,
        chunk=_CHUNK,
        queued=_QUEUE_CHUNKS,
        name="preparing documents",
        hint="rerun, or ingest with parallel=False",
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Batch:
    future: Future[object]
    names: set[str]
    metadata: str


class _Writer:
    """Decides per document between skip, add and replace, and batches the adds."""

    def __init__(self, store: Store, *, min_confidence: float | None) -> None:
        self.store = store
        self.report = IngestReport()
        self.started = datetime.now(timezone.utc)
        self.run = run_iri(self.started)
        self.min_confidence = min_confidence
        self.figures = FiguresKeeper(store)
        self._run_written = False
        self.loads = Background(threads=store.bulk_threads)
        # In a store that held no graph when the run began, only graphs this run wrote can
        # be there: the store is asked about those alone (kept as hashes, ~60 bytes each).
        self._fresh = store.is_empty()
        self._written: set[int] = set()
        self._documents: list[str] = []
        self._metadata: list[str] = []
        # Graphs of the batch being gathered, and the batches whose metadata is not written yet.
        self._pending: set[str] = set()
        self._batches: list[_Batch] = []
        self._chars = 0

    def take(self, item: Item) -> None:
        if isinstance(item, Prepared):
            self._write(item)
        else:
            self.report.count_problem(item)

    def _write(self, item: Prepared) -> None:
        graph = item.graph
        name = NamedNode(graph.iri)
        if graph.iri in self._pending or any(graph.iri in batch.names for batch in self._batches):
            self.flush()
            self.settle()
        asked = not self._fresh or hash(graph.iri) in self._written
        stored = self.store.content_hash(name) if asked else None
        if stored is not None and self._read_twice(item, name, stored):
            return
        self.report.repairs.extend(item.repairs)
        self.report.dropped += item.dropped
        if stored == graph.content_hash:
            self.report.unchanged += 1
            return
        metadata = self._provenance(graph, item.source)
        # A graph without metadata is what a crashed bulk load leaves: replace it too.
        self.figures.add(item.tally)
        if stored is not None or (asked and self.store.has_graph(name)):
            quads = graph.quads + list(pyoxigraph.parse(metadata, pyoxigraph.RdfFormat.N_QUADS))
            self.figures.changing()
            self.figures.remove(graph_tally(self.store.quads(name)))
            self.store.replace([name], quads)
            self.report.replaced += 1
        else:
            self._documents.append(graph.nquads)
            self._metadata.append(metadata)
            self._pending.add(graph.iri)
            self._written.add(hash(graph.iri))
            self._chars += len(graph.nquads)
            self.report.loaded += 1
        self.report.mentions += graph.mentions
        self.report.unplaced += graph.unplaced
        if self._chars >= _BATCH_CHARS:
            self.flush()

    def _read_twice(self, item: Prepared, name: NamedNode, stored: str) -> bool:
        """Whether this run stored the document already (the same abstract under two
        fields, say): identical, it is noted and stored once; different, it is an error,
        since two documents cannot share an id."""
        made = {q.predicate.value: q.object.value for q in self.store.quads(METADATA_GRAPH, subject=name)}
        if made.get(PROV + "wasGeneratedBy") != self.run.value:
            return False
        first = _shown(made.get(PROV + "wasDerivedFrom"))
        if stored == item.graph.content_hash:
            self.report.duplicates += 1
            message = f"document {item.doc_id!r} is identical to the one read from {first}; stored once"
            self.report.repairs.append(Repair(RepairKind.DUPLICATE_DOCUMENT, message, item.source))
        else:
            self.report.failed += 1
            message = f"document {item.doc_id!r} was read from {first} earlier in this run, with other content; not loaded"
            self.report.errors.append(InputError(item.source, None, message))
        return True

    def flush(self) -> None:
        """Start loading the batch gathered so far, with the metadata of batches loaded.

        Metadata goes in only once its documents are whole in the store (a crash in
        between leaves graphs without metadata, which the next run replaces), and rides
        with the next batch rather than in a load of its own: every load adds files that
        RocksDB compacts later, small ones too.
        """
        if self._documents:
            self.figures.changing()
            loaded = [batch for batch in self._batches if batch.future.done()]
            for batch in loaded:
                batch.future.result()  # a failed load raises here, before its metadata goes in
            text = "".join(self._documents) + "".join(batch.metadata for batch in loaded)
            future = self.loads.submit(partial(self.store.bulk_add, text))
            self._batches = [b for b in self._batches if b not in loaded] + [_Batch(future, self._pending, "".join(self._metadata))]
        self._documents, self._metadata, self._pending, self._chars = [], [], set(), 0

    def settle(self) -> None:
        """Return once every batch is in the store with its metadata."""
        self.loads.wait()
        metadata = "".join(batch.metadata for batch in self._batches)
        if metadata:
            self.store.bulk_add(metadata)
        self._batches = []

    def _provenance(self, graph: DocumentGraph, source: str) -> str:
        text = provenance_nquads(
            graph, source=source, run=self.run, at=datetime.now(timezone.utc), min_confidence=self.min_confidence
        )
        if not self._run_written:
            text += run_nquads(self.run, started=self.started)
            self._run_written = True
        return text


def _shown(derived_from: str | None) -> str:
    if derived_from is None:
        return "an earlier source"
    return unquote(urlsplit(derived_from).path) if derived_from.startswith("file:") else derived_from


def delete(ids: Iterable[str], *, store: Store) -> tuple[list[str], list[str]]:
    """Remove documents by id, each with its metadata; returns (deleted, not found)."""
    ids = list(dict.fromkeys(ids))
    graphs: dict[str, NamedNode] = store.document_graphs(ids)
    if graphs:
        figures = FiguresKeeper(store)
        figures.changing()
        for graph in graphs.values():
            figures.remove(graph_tally(store.quads(graph)))
        store.replace(list(graphs.values()), [])
        figures.commit()
    return [i for i in ids if i in graphs], [i for i in ids if i not in graphs]
