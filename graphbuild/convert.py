"""Documents straight to N-Quads files, with no store: input for other stores' bulk loaders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from graphbuild.figures import Totals
from graphbuild.files import PartWriter
from graphbuild.ingest import IngestReport, Prepared, Progress, prepared
from graphbuild.model import provenance_nquads, run_iri, run_nquads
from graphbuild.readers import InputFormat
from graphbuild.vocab import DEFAULT_BASE


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

    Reading and quad building run in a second process while this one writes. Returns the
    report (``loaded`` counts documents written) and the files written.
    """
    started = datetime.now(timezone.utc)
    run = run_iri(started)
    report = IngestReport()
    totals = Totals()
    with PartWriter(output, split=split, gzip=gzip) as writer:
        writer.write(run_nquads(run, started=started))
        items = prepared(paths, format=format, base=base, min_confidence=min_confidence)
        for item in items:
            if isinstance(item, Prepared):
                metadata = provenance_nquads(item.graph, source=item.source, run=run, at=started, min_confidence=min_confidence)
                writer.write(item.graph.nquads + metadata)
                report.loaded += 1
                report.mentions += item.graph.mentions
                report.unplaced += item.graph.unplaced
                report.repairs.extend(item.repairs)
                report.dropped += item.dropped
                totals.add(item.tally)
            else:
                report.count_problem(item)
            if progress is not None:
                progress(item)
        # The per-resource figures ingest would keep, so a store bulk-loaded from these files answers top-entities.
        writer.write(totals.nquads())
    return report, writer.paths
