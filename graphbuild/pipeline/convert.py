"""Documents straight to N-Quads files, with no store: input for other stores' bulk loaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from pyoxigraph import NamedNode

from graphbuild.errors import InputError
from graphbuild.model.quads import DocumentQuads, provenance_nquads, run_iri, run_nquads
from graphbuild.model.records import Skipped
from graphbuild.model.vocab import DEFAULT_BASE
from graphbuild.output.parts import PartWriter
from graphbuild.pipeline.prepare import Advance, Prepared, RunReport, prepared
from graphbuild.progress import Progress
from graphbuild.readers import DEFAULT_MAX_SIZE, InputFormat, find_sources
from graphbuild.store.figures import Totals
from graphbuild.text import plural

__all__ = ["ConvertReport", "convert"]

# Preparing processes: with no store to feed, reading and quad building take both cores
# (this process only writes, at a small fraction of one).
PROCESSES = 2


@dataclass
class ConvertReport(RunReport):
    """What one convert did: documents written, the files they went to, and a run's counts."""

    written: int = 0
    files: list[Path] = field(default_factory=list)
    output: str = ""

    def summary(self) -> str:
        """The one line that sums the run up."""
        return (
            f"{plural(self.written, 'document')} written to {plural(len(self.files), 'file')} in {self.output}, "
            f"{self.failed} failed, {self.empty} empty; {plural(self.mentions, 'mention')}, {self.unplaced} unplaced"
        )


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A document as a preparing process hands it over: its graph and provenance as
    UTF-8 N-Quads (a memoryview once here, see graphbuild.workers.transfer), ``quads`` lines of
    them, and the rest of the prepared document, without its text, for the report."""

    prepared: Prepared
    nquads: bytes | memoryview
    quads: int


def convert(
    paths: Iterable[str | Path],
    *,
    output: Path,
    format: InputFormat | None = None,
    base: str = DEFAULT_BASE,
    min_confidence: float | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    split: int | None = None,
    gzip: bool = False,
    progress: Progress | None = None,
) -> ConvertReport:
    """Write every document's graph and its provenance as N-Quads files under ``output``.

    Reading and quad building run in two other processes, on alternate runs of sources,
    while this one writes; the files are the same as with one. ``progress`` counts the
    documents written, as for ingest (``pipeline.prepare.Advance``).
    """
    started = datetime.now(timezone.utc)
    run = run_iri(started)
    report = ConvertReport(output=str(output))
    sources = find_sources(paths, format=format)
    advance = Advance(progress, sources, format)
    totals = Totals()
    encode = partial(_encoded, run=run, started=started, min_confidence=min_confidence, count=split is not None)
    with PartWriter(output, split=split, gzip=gzip) as writer:
        writer.write(run_nquads(run, started=started))
        items = prepared(
            sources,
            format=format,
            base=base,
            min_confidence=min_confidence,
            max_size=max_size,
            processes=PROCESSES,
            then=encode,
        )
        for item in items:
            if isinstance(item, _Encoded):
                writer.write_bytes(item.nquads, quads=item.quads)
                report.written += 1
                report.count_prepared(item.prepared)
                totals.add(item.prepared.shares)
                advance.finished(1, advance.position(item.prepared))
            elif isinstance(item, (InputError, Skipped)):
                report.count_problem(item)
                advance.finished(1, advance.position(item))
        # The per-resource figures ingest would keep, so a store bulk-loaded from these files answers top-entities.
        writer.write(totals.nquads())
    advance.end()
    report.files = writer.paths
    return report


def _encoded(item: Prepared, *, run: NamedNode, started: datetime, min_confidence: float | None, count: bool) -> _Encoded:
    """In a preparing process: all that is written for one document, ready to write
    (its lines are counted only where files are split)."""
    graph = item.graph
    metadata = provenance_nquads(graph, source=item.source, run=run, at=started, min_confidence=min_confidence)
    nquads = graph.nquads + metadata
    quads = nquads.count("\n") if count else 0
    text_free = DocumentQuads(graph.iri, "", graph.content_hash, graph.mentions, graph.unplaced)
    return _Encoded(replace(item, graph=text_free), nquads.encode("utf-8"), quads)
