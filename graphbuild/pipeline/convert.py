"""Documents straight to N-Quads files, with no store: input for other stores' bulk loaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from pyoxigraph import NamedNode

from graphbuild.store.figures import Totals
from graphbuild.export.parts import PartWriter
from graphbuild.pipeline.ingest import IngestReport, Prepared, Progress, prepared
from graphbuild.model.quads import DocumentGraph, provenance_nquads, run_iri, run_nquads
from graphbuild.readers import InputFormat
from graphbuild.model.vocab import DEFAULT_BASE

# Preparing processes: with no store to feed, reading and quad building take both cores
# (this process only writes, at a small fraction of one).
PROCESSES = 2


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
    split: int | None = None,
    gzip: bool = False,
    progress: Progress | None = None,
) -> tuple[IngestReport, list[Path]]:
    """Write every document's graph and its provenance as N-Quads files under ``output``.

    Reading and quad building run in two other processes, on alternate runs of sources,
    while this one writes; the files are the same as with one. Returns the report
    (``loaded`` counts documents written) and the files written.
    """
    started = datetime.now(timezone.utc)
    run = run_iri(started)
    report = IngestReport()
    totals = Totals()
    encode = partial(_encoded, run=run, started=started, min_confidence=min_confidence, count=split is not None)
    with PartWriter(output, split=split, gzip=gzip) as writer:
        writer.write(run_nquads(run, started=started))
        items = prepared(
            paths, format=format, base=base, min_confidence=min_confidence, processes=PROCESSES, then=encode
        )
        for item in items:
            if isinstance(item, _Encoded):
                writer.write_bytes(item.nquads, quads=item.quads)
                done = item.prepared
                report.loaded += 1
                report.mentions += done.graph.mentions
                report.unplaced += done.graph.unplaced
                report.repairs.extend(done.repairs)
                report.dropped += done.dropped
                totals.add(done.tally)
            else:
                done = item
                report.count_problem(item)
            if progress is not None:
                progress(done)
        # The per-resource figures ingest would keep, so a store bulk-loaded from these files answers top-entities.
        writer.write(totals.nquads())
    return report, writer.paths


def _encoded(item: Prepared, *, run: NamedNode, started: datetime, min_confidence: float | None, count: bool) -> _Encoded:
    """In a preparing process: all that is written for one document, ready to write
    (its lines are counted only where files are split)."""
    graph = item.graph
    metadata = provenance_nquads(graph, source=item.source, run=run, at=started, min_confidence=min_confidence)
    nquads = graph.nquads + metadata
    quads = nquads.count("\n") if count else 0
    text_free = DocumentGraph(graph.iri, "", graph.content_hash, graph.mentions, graph.unplaced)
    return _Encoded(replace(item, graph=text_free), nquads.encode("utf-8"), quads)
