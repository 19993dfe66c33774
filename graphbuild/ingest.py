"""Read, model, write: the ingest pipeline and its report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from pyoxigraph import NamedNode, Quad

from graphbuild.errors import InputError
from graphbuild.model import DocumentGraph, document_graph, provenance_quads, run_iri, run_quads
from graphbuild.offsets import place_links
from graphbuild.readers import InputFormat, read_documents
from graphbuild.records import Document, Skipped
from graphbuild.store import GraphStore
from graphbuild.vocab import DEFAULT_BASE

# New documents are written in batches of about this many quads: one transaction each.
_BATCH_QUADS = 20_000


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

    @property
    def ok(self) -> bool:
        return not self.errors


Progress = Callable[[Document | InputError | Skipped], None]


def ingest(
    paths: Iterable[str | Path],
    *,
    store: GraphStore,
    format: InputFormat | None = None,
    base: str = DEFAULT_BASE,
    progress: Progress | None = None,
) -> IngestReport:
    """Load every document under ``paths`` into ``store``; bad documents are reported, not loaded."""
    writer = _Writer(store, base=base)
    for item in read_documents(paths, format=format):
        if isinstance(item, Document):
            writer.write(item)
        elif isinstance(item, InputError):
            writer.report.failed += 1
            writer.report.errors.append(item)
        else:
            writer.report.empty += 1
            writer.report.notes.append(item)
        if progress is not None:
            progress(item)
    writer.flush()
    return writer.report


class _Writer:
    """Decides per document between skip, add and replace, and batches the adds."""

    def __init__(self, store: GraphStore, *, base: str) -> None:
        self.store = store
        self.base = base
        self.report = IngestReport()
        self.started = datetime.now(timezone.utc)
        self.run = run_iri(self.started)
        self._run_written = False
        self._pending: list[Quad] = []
        self._pending_graphs: set[str] = set()

    def write(self, doc: Document) -> None:
        doc = replace(doc, links=place_links(doc.text, doc.links))
        graph = document_graph(doc, base=self.base)
        if graph.iri.value in self._pending_graphs:
            self.flush()
        stored = self.store.content_hash(graph.iri)
        if stored == graph.content_hash:
            self.report.unchanged += 1
            return
        quads = [*graph.quads, *self._provenance(graph, doc.source)]
        if stored is None:
            self._pending.extend(quads)
            self._pending_graphs.add(graph.iri.value)
            self.report.loaded += 1
        else:
            self.store.replace([graph.iri], quads)
            self.report.replaced += 1
        self.report.mentions += graph.mentions
        self.report.unplaced += graph.unplaced
        if len(self._pending) >= _BATCH_QUADS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.store.add(self._pending)
        self._pending = []
        self._pending_graphs = set()

    def _provenance(self, graph: DocumentGraph, source: str) -> list[Quad]:
        quads = provenance_quads(graph, source=source, run=self.run, at=datetime.now(timezone.utc))
        if not self._run_written:
            quads.extend(run_quads(self.run, started=self.started))
            self._run_written = True
        return quads


def delete(ids: Iterable[str], *, store: GraphStore) -> tuple[list[str], list[str]]:
    """Remove documents by id, each with its metadata; returns (deleted, not found)."""
    ids = list(dict.fromkeys(ids))
    graphs: dict[str, NamedNode] = store.document_graphs(ids)
    if graphs:
        store.replace(list(graphs.values()), [])
    return [i for i in ids if i in graphs], [i for i in ids if i not in graphs]
