"""Build the report site: documents, then resources, then the network and the index.

Pages are written as they are read, one document (or resource) at a time; what stays in
memory is per resource (its rank, label and types) and per document id, never the texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from graphbuild.errors import ReportError
from graphbuild.model.vocab import OWL_THING, compact
from graphbuild.progress import Progress
from graphbuild.report import charts, network
from graphbuild.report.documents import write_documents
from graphbuild.report.gather import Reader
from graphbuild.report.site import PAGE_SIZE, Site, chunks, list_path, resource_path, staged
from graphbuild.report.tally import RankedResource, Tally
from graphbuild.report.tips import Tips
from graphbuild.store.figures import require_current
from graphbuild.store.protocol import Store

DEFAULT_TOP = 50
# Above this many documents, a page per document only when asked (``document_pages=True``):
# a million documents would otherwise be two million files.
DOCUMENT_PAGES_UP_TO = 10_000
DOCUMENTS_PER_RESOURCE = 500
CO_MENTIONS_SHOWN = 20
SUSPICIOUS_SHOWN = 50
TYPES_SHOWN = 20
EDGES_SHOWN = 100



@dataclass(frozen=True, slots=True)
class ReportSummary:
    output: Path
    documents: int
    resources: int
    mentions: int
    pages: int
    document_pages: bool = True


def build_report(
    store: Store,
    output: Path,
    *,
    top: int = DEFAULT_TOP,
    min_confidence: float = 0.0,
    progress: Progress | None = None,
    workers: int | None = None,
    document_pages: bool | None = None,
) -> ReportSummary:
    """Write the static report site for ``store`` into the folder ``output`` (replaced whole).

    ``document_pages``: a page (and a Turtle file) per document; by default only for a store
    of at most ``DOCUMENT_PAGES_UP_TO`` documents. The paged document list is always written.
    ``workers``: processes reading the documents (and writing their pages); by default two
    for a large corpus in a read-only store, else one.
    """
    if not 1 <= top <= network.MAX_TOP:
        raise ReportError(f"must be between 1 and {network.MAX_TOP}, got {top}", setting="top")
    if not 0.0 <= min_confidence <= 1.0:
        raise ReportError(f"must be between 0 and 1, got {min_confidence}", setting="min_confidence")
    require_current(store)  # the index page counts the figures' quads
    reader = Reader(store, min_confidence=min_confidence)
    report = progress or (lambda stage, done, total: None)
    listed = reader.documents()  # (graph, id) pairs only: the texts are read one at a time
    with_pages = len(listed) <= DOCUMENT_PAGES_UP_TO if document_pages is None else document_pages
    with staged(output) as folder:
        site = Site(folder, store=Path(store.location).name, document_pages=with_pages)
        site.write_assets()
        tips = Tips(reader)
        tally = Tally(min_confidence=min_confidence)
        write_documents(site, reader, listed, tips, tally, report, workers=workers)
        ranking = tally.ranking()
        leaders = ranking[:top]
        _write_resources(site, reader, tally, ranking, report)
        edges = network.edges_among(tally.edges_among(r.iri for r in leaders))
        _write_network(site, leaders, edges, tips)
        _write_index(site, reader, tally, ranking, leaders, tips)
        pages = site.pages
        figures = tally.figures()
    return ReportSummary(output, figures.documents, figures.resources, figures.mentions, pages, with_pages)


def _write_resources(
    site: Site, reader: Reader, tally: Tally, ranking: Sequence[RankedResource], report: Progress
) -> None:
    pages = max(1, -(-len(ranking) // PAGE_SIZE))
    for number, chunk in enumerate(chunks(ranking, PAGE_SIZE), start=1):
        rows = []
        for rank, resource in enumerate(chunk, start=(number - 1) * PAGE_SIZE + 1):
            info = reader.resource_info(resource.iri)
            co, co_total = tally.co_mentions(resource.iri, CO_MENTIONS_SHOWN)
            site.write(
                "resource.html",
                resource_path(resource.iri),
                info=info,
                rank=resource,
                forms=tally.surface_forms(resource.iri),
                documents=tally.documents_of(resource.iri, DOCUMENTS_PER_RESOURCE),
                co=co,
                co_total=co_total,
            )
            rows.append(
                _ListedResource(
                    rank, resource.iri, info.label, resource.mentions, resource.documents, resource.max_confidence
                )
            )
            report("resources", rank, len(ranking))
        site.write(
            "resources.html", list_path("resources", number), rows=rows, page=number, pages=pages, total=len(ranking)
        )
    if not ranking:
        site.write("resources.html", list_path("resources", 1), rows=[], page=1, pages=1, total=0)


@dataclass(frozen=True, slots=True)
class _ListedResource:
    rank: int
    iri: str
    label: str | None
    mentions: int
    documents: int
    best: float | None


def _write_network(site: Site, leaders: Sequence[RankedResource], edges: Sequence[network.Edge], tips: Tips) -> None:
    chart = network.figure(leaders, edges, name=compact, label=tips.label, url=resource_path)
    site.write(
        "network.html",
        "network.html",
        nodes=len(leaders),
        chart=chart,
        edges=edges[:EDGES_SHOWN],
        edge_total=len(edges),
        per_node=network.DRAWN_PER_NODE,
    )


def _write_index(
    site: Site,
    reader: Reader,
    tally: Tally,
    ranking: Sequence[RankedResource],
    leaders: Sequence[RankedResource],
    tips: Tips,
) -> None:
    minimum = reader.min_confidence
    figures = tally.figures()
    types = tally.top_types(TYPES_SHOWN, skip=[OWL_THING.value])
    labelled = sum(1 for resource in ranking if tips.label(resource.iri))
    # The query starts from every mention: with no label in the store it can only find nothing.
    suspicious_total, suspicious = reader.suspicious_links(SUSPICIOUS_SHOWN) if labelled else (0, [])
    site.write(
        "index.html",
        "index.html",
        overview=figures,
        quads=reader.store.quad_count(),
        labelled=labelled,
        min_confidence=minimum,
        top=leaders,
        top_chart=charts.top_resources(leaders, name=compact, label=tips.label, url=resource_path),
        histogram=charts.confidence_histogram(tally.histogram, minimum=minimum),
        enriched=bool(labelled or types),
        types=types,
        types_chart=charts.top_types(types, label=compact),
        suspicious=suspicious,
        suspicious_total=suspicious_total,
    )
