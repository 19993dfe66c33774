"""Ingest: prepared documents into a store, each one whole, and the run's report.

Documents are read, placed and modelled by ``pipeline.prepare`` (in other processes for
large inputs); the store's writing stays in this one, in ``write_prepared``, which
annotate shares. New documents go to the bulk loader in batches, two at a time in
background threads, each batch's metadata after its documents, so a document with
metadata is always whole; a document that replaces an earlier version goes in one
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyoxigraph
from pyoxigraph import NamedNode

from graphbuild.errors import InputError, Interrupted
from graphbuild.model.quads import provenance_nquads, run_iri, run_nquads, source_iri
from graphbuild.model.records import Repair, RepairKind
from graphbuild.model.vocab import DEFAULT_BASE, PROV_WAS_DERIVED_FROM, PROV_WAS_GENERATED_BY
from graphbuild.pipeline.prepare import Advance, Prepared, PreparedItem, RunReport, prepared, stop
from graphbuild.progress import Progress
from graphbuild.readers import DEFAULT_MAX_SIZE, InputFormat, find_sources
from graphbuild.store.figures import FiguresKeeper, stored_shares
from graphbuild.store.protocol import Store, metadata_record
from graphbuild.text import plural
from graphbuild.workers.threads import Background

__all__ = ["IngestReport", "ingest", "write_prepared"]

# New documents are written in batches of about this many characters of N-Quads; with two
# loading at once and one being gathered, ingest peaked at 623-667 MiB on 10k documents and
# 745-764 MiB on 100k (64 MB batches: 980 MiB on 10k, no faster).
_BATCH_CHARS = 32 * 1024 * 1024
# Documents replaced from another file named in the summary line, at most.
_MOVED_SHOWN = 3
@dataclass
class IngestReport(RunReport):
    """What one ingest did: documents loaded, replaced, skipped unchanged, and the rest of
    a run's counts; ``duplicates`` are documents read twice in one run (stored once)."""

    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    duplicates: int = 0
    min_confidence: float | None = None
    # Documents replaced by one read from another file than the stored one: (id, that file).
    moved: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """The one line that sums the run up."""
        extras = [
            plural(count, what)
            for count, what in ((self.duplicates, "duplicate"), (len(self.repairs) - self.duplicates, "repair"))
            if count
        ]
        if self.min_confidence is not None:
            extras.append(f"{plural(self.dropped, 'link')} below {self.min_confidence} left out")
        if self.moved:
            shown = ", ".join(f"{doc_id} (was {before})" for doc_id, before in self.moved[:_MOVED_SHOWN])
            more = len(self.moved) - _MOVED_SHOWN
            extras.append(f"replaced from another file: {shown}" + (f" and {more:,} more" if more > 0 else ""))
        return (
            f"{plural(self.loaded, 'document')} loaded, {self.replaced} replaced, "
            f"{self.unchanged} skipped unchanged, {self.failed} failed, {self.empty} empty; "
            f"{plural(self.mentions, 'mention')}, {self.unplaced} unplaced" + "".join(f"; {e}" for e in extras)
        )



def ingest(
    paths: Iterable[str | Path],
    *,
    store: Store,
    format: InputFormat | None = None,
    base: str = DEFAULT_BASE,
    min_confidence: float | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    progress: Progress | None = None,
    parallel: bool = True,
) -> IngestReport:
    """Load every document under ``paths`` into ``store``; bad documents are reported, not loaded.

    A document larger than ``max_size`` bytes decompressed is an error of its own (for
    formats read whole, the file is the unit; for JSON Lines, the line).

    ``progress`` counts the documents written (stage ``"documents"``), and where their
    number is not known ahead, the input read for them (stage ``"bytes"``): see
    ``pipeline.prepare.Advance``.

    An interrupt (KeyboardInterrupt) stops the reading and the preparing processes, lets
    the documents taken so far finish loading with their metadata, and raises
    ``Interrupted`` saying how many are written; a rerun skips what is stored and loads the rest.
    """
    sources = find_sources(paths, format=format)
    advance = Advance(progress, sources, format)
    items = prepared(
        sources, format=format, base=base, min_confidence=min_confidence, max_size=max_size, parallel=parallel
    )
    # The preparing processes get their share of the list; this one need not hold it while
    # it writes (a million paths: ~400 MiB).
    del sources
    report = IngestReport(min_confidence=min_confidence)
    try:
        return write_prepared(items, store=store, report=report, advance=advance)
    except KeyboardInterrupt:
        raise Interrupted(f"{plural(report.loaded + report.replaced, 'document')} written") from None
    finally:
        stop(items)


def write_prepared(
    items: Iterable[PreparedItem], *, store: Store, report: IngestReport, advance: Advance | None = None
) -> IngestReport:
    """Write prepared documents into ``store`` as ingest does, counting into ``report``:
    each new, changed or unchanged document and each problem, the figures kept current;
    ``advance`` reports the documents as they are written (``pipeline.prepare.Advance``).

    Should ``items`` stop with an error (Ctrl-C, a preparing process that died, a linker
    that is not there), the documents taken so far are first written whole, with their
    metadata and figures; the error goes on from there. An interrupt while a document is
    being taken leaves the figures marked out of date, for the next writer to rebuild.
    """
    advance = advance or Advance(None, [])
    writer = _Writer(store, report, advance)
    iterator = iter(items)
    try:
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                break
            except BaseException:
                writer.finish()
                raise
            writer.take(item)
        writer.finish()
        advance.end()
    except KeyboardInterrupt:
        # An interrupt while a document was being taken: what was taken is loaded with its
        # metadata; the figures stay marked out of date for the next writer to rebuild.
        stop(items)
        writer.flush()
        writer.settle()
        raise
    finally:
        stop(items)
        writer.loads.close()
    return report


@dataclass(frozen=True, slots=True, eq=False)
class _Batch:
    future: Future[object]
    names: set[str]
    metadata: str
    # Its documents, and where in the input the last of them ends (for progress).
    documents: int = 0
    position: int = 0


class _Writer:
    """Decides per document between skip, add and replace, and batches the adds."""

    def __init__(self, store: Store, report: IngestReport, advance: Advance) -> None:
        self.store = store
        self.report = report
        self.advance = advance
        self.started = datetime.now(timezone.utc)
        self.run = run_iri(self.started)
        self.min_confidence = report.min_confidence
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
        # Where the batch being gathered ends in the input, and batches not yet counted done.
        self._position = 0
        self._uncounted: list[_Batch] = []

    def take(self, item: PreparedItem) -> None:
        self._count_loaded()
        position = self.advance.position(item)
        if not isinstance(item, Prepared):
            self.report.count_problem(item)
            self.advance.finished(1, position)
        elif not self._write(item, position):
            self.advance.finished(1, position)

    def _count_loaded(self) -> None:
        """Count the documents of batches loaded so far, in order, as written."""
        while self._uncounted and self._uncounted[0].future.done():
            batch = self._uncounted.pop(0)
            self.advance.finished(batch.documents, batch.position)

    def _write(self, item: Prepared, position: int) -> bool:
        """Store, replace or skip one document; whether it waits in a batch to be loaded."""
        graph = item.graph
        name = NamedNode(graph.iri)
        if graph.iri in self._pending or any(graph.iri in batch.names for batch in self._batches):
            self.flush()
            self.settle()
        asked = not self._fresh or hash(graph.iri) in self._written
        stored = self.store.content_hash(name) if asked else None
        made = metadata_record(self.store, name) if stored is not None else {}
        if stored is not None and self._read_twice(item, made, stored):
            return False
        self.report.repairs.extend(item.repairs)
        self.report.dropped += item.dropped
        # An annotated document comes here only when its text or settings changed: even
        # with the same links, its record of how they were made is new.
        if stored == graph.content_hash and item.annotation is None:
            self.report.unchanged += 1
            return False
        metadata = self._provenance(item)
        # A graph without metadata is what a crashed bulk load leaves: replace it too.
        self.figures.add(item.shares)
        if stored is not None or (asked and self.store.has_graph(name)):
            quads = graph.quads + list(pyoxigraph.parse(metadata, pyoxigraph.RdfFormat.N_QUADS))
            self.figures.changing()
            self.figures.remove(stored_shares(self.store.quads(name)))
            self.store.replace([name], quads)
            self.report.replaced += 1
            before = made.get(PROV_WAS_DERIVED_FROM.value)
            if before is not None and before != source_iri(item.source):
                self.report.moved.append((item.doc_id, _shown(before)))
        else:
            self._documents.append(graph.nquads)
            self._metadata.append(metadata)
            self._pending.add(graph.iri)
            self._written.add(hash(graph.iri))
            self._chars += len(graph.nquads)
            self._position = position
            self.report.loaded += 1
        self.report.mentions += graph.mentions
        self.report.unplaced += graph.unplaced
        batched = stored is None and graph.iri in self._pending
        if self._chars >= _BATCH_CHARS:
            self.flush()
        return batched

    def _read_twice(self, item: Prepared, made: dict[str, str], stored: str) -> bool:
        """Whether this run stored the document already (the same abstract under two
        fields, say): identical, it is noted and stored once; different, it is an error,
        since two documents cannot share an id."""
        if made.get(PROV_WAS_GENERATED_BY.value) != self.run.value:
            return False
        first = _shown(made.get(PROV_WAS_DERIVED_FROM.value))
        if stored == item.graph.content_hash:
            self.report.duplicates += 1
            message = f"document {item.doc_id!r} is identical to the one read from {first}; stored once"
            self.report.repairs.append(Repair(RepairKind.DUPLICATE_DOCUMENT, message, item.source))
        else:
            self.report.failed += 1
            message = f"document {item.doc_id!r} was read from {first} earlier in this run, with other content; not loaded"
            self.report.errors.append(InputError(item.source, None, message))
        return True

    def finish(self) -> None:
        """Load what is gathered, wait for every load, and write the figures."""
        self.flush()
        self.figures.commit(ready=self.settle)

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
            batch = _Batch(future, self._pending, "".join(self._metadata), len(self._documents), self._position)
            self._batches = [b for b in self._batches if b not in loaded] + [batch]
            self._uncounted.append(batch)
            self._count_loaded()
        self._documents, self._metadata, self._pending, self._chars = [], [], set(), 0

    def settle(self) -> None:
        """Return once every batch is in the store with its metadata."""
        self.loads.wait()
        self._count_loaded()
        metadata = "".join(batch.metadata for batch in self._batches)
        if metadata:
            self.store.bulk_add(metadata)
        self._batches = []

    def _provenance(self, item: Prepared) -> str:
        text = provenance_nquads(
            item.graph,
            source=item.source,
            run=self.run,
            at=datetime.now(timezone.utc),
            min_confidence=self.min_confidence,
            annotation=item.annotation,
        )
        if not self._run_written:
            text += run_nquads(self.run, started=self.started)
            self._run_written = True
        return text


def _shown(derived_from: str | None) -> str:
    if derived_from is None:
        return "an earlier source"
    return unquote(urlsplit(derived_from).path) if derived_from.startswith("file:") else derived_from


