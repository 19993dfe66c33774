"""Build the report site: documents, then resources, then the network and the index.

Pages are written as they are read, one document (or resource) at a time; what stays in
memory is per resource (its rank, label and types) and per document id, never the texts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from graphbuild import export
from graphbuild.errors import ReportError
from graphbuild.report import charts, network
from graphbuild.report.gather import Count, DocumentView, Mention, RankedResource, Reader
from graphbuild.report.highlight import segments
from graphbuild.report.site import DOCUMENTS, PAGE_SIZE, Site, document_path, list_path, page_name, resource_path, staged
from graphbuild.store import GraphStore
from graphbuild.vocab import compact

DEFAULT_TOP = 50
DOCUMENTS_PER_RESOURCE = 500
CO_MENTIONS_SHOWN = 20
SUSPICIOUS_SHOWN = 50
TYPES_SHOWN = 20
EDGES_SHOWN = 100

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class ReportSummary:
    output: Path
    documents: int
    resources: int
    mentions: int
    pages: int


@dataclass(frozen=True, slots=True)
class _Tip:
    label: str | None
    types: tuple[str, ...]


def build_report(
    store: GraphStore,
    output: Path,
    *,
    top: int = DEFAULT_TOP,
    min_confidence: float = 0.0,
    progress: Progress | None = None,
) -> ReportSummary:
    """Write the static report site for ``store`` into the folder ``output`` (replaced whole)."""
    if top < 1:
        raise ReportError(f"--top must be at least 1, got {top}")
    if not 0.0 <= min_confidence <= 1.0:
        raise ReportError(f"--min-confidence must be between 0 and 1, got {min_confidence}")
    reader = Reader(store, min_confidence=min_confidence)
    report = progress or (lambda stage, done, total: None)
    with staged(output) as folder:
        site = Site(folder, store=Path(store.location).name)
        site.write_assets()
        tips = _Tips(reader)
        documents = _write_documents(site, reader, store, tips, report)
        ranking = list(reader.ranking())
        leaders = ranking[:top]
        co_mentions = _write_resources(site, reader, ranking, {r.iri for r in leaders}, report)
        edges = network.edges_among(co_mentions)
        _write_network(site, leaders, edges, tips)
        overview = _write_index(site, reader, leaders, tips, min_confidence)
        pages = site.pages
    return ReportSummary(output, documents, len(ranking), overview.mentions, pages)


class _Tips:
    """Label and types of each resource, read once: what a mention's tooltip shows."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader
        self._known: dict[str, _Tip] = {}

    def get(self, iri: str) -> _Tip:
        tip = self._known.get(iri)
        if tip is None:
            info = self._reader.resource_info(iri)
            tip = self._known[iri] = _Tip(info.label, _shown_types(info.types))
        return tip

    def label(self, iri: str) -> str | None:
        return self.get(iri).label

    def tooltip(self, mention: Mention) -> str:
        tip = self.get(mention.resource)
        lines = [compact(mention.resource)]
        if tip.label:
            lines.append(tip.label)
        lines.append("confidence " + ("none" if mention.confidence is None else repr(mention.confidence)))
        types = _shown_types(tuple(dict.fromkeys(mention.classes + tip.types)))
        if types:
            lines.append("types: " + ", ".join(compact(t) for t in types))
        flags = [f for f, on in (("offsets inferred", mention.inferred), ("ambiguous placement", mention.ambiguous)) if on]
        if flags:
            lines.append("; ".join(flags))
        return "\n".join(lines)


def _shown_types(types: Sequence[str], limit: int = 5) -> tuple[str, ...]:
    """DBpedia ontology classes first, then others; owl:Thing says nothing."""
    useful = [t for t in types if not t.endswith("owl#Thing")]
    useful.sort(key=lambda t: (not t.startswith("http://dbpedia.org/ontology/"), t))
    return tuple(useful[:limit])


def _write_documents(site: Site, reader: Reader, store: GraphStore, tips: _Tips, report: Progress) -> int:
    listed = list(reader.documents())  # (graph, id) pairs only: the texts are read one by one
    pages = max(1, -(-len(listed) // PAGE_SIZE))
    for number, chunk in enumerate(_chunks(listed, PAGE_SIZE), start=1):
        rows = []
        for graph, doc_id in chunk:
            view = reader.document(graph, doc_id)
            _write_document(site, store, view, tips, reader.min_confidence)
            rows.append(_ListedDocument(doc_id, len(view.mentions), len(_resources(view)), len(view.unplaced)))
            report("documents", len(rows) + (number - 1) * PAGE_SIZE, len(listed))
        site.write("documents.html", list_path("documents", number), rows=rows, page=number, pages=pages, total=len(listed))
    if not listed:
        site.write("documents.html", list_path("documents", 1), rows=[], page=1, pages=1, total=0)
    return len(listed)


@dataclass(frozen=True, slots=True)
class _ListedDocument:
    id: str
    mentions: int
    resources: int
    unplaced: int


def _write_document(site: Site, store: GraphStore, view: DocumentView, tips: _Tips, minimum: float) -> None:
    parts, rejected = segments(view.text, view.mentions)
    name = page_name(view.id)
    site.write(
        "document.html",
        document_path(view.id),
        doc=view,
        parts=parts,
        rejected=rejected,
        resources=len(_resources(view)),
        tip=tips.tooltip,
        page_name=name,
        min_confidence=minimum,
    )
    export.export(store, site.folder / DOCUMENTS / f"{name}.ttl", format=export.ExportFormat.TURTLE, document=view.id)


def _resources(view: DocumentView) -> set[str]:
    return {m.resource for m in view.mentions} | {m.resource for m in view.unplaced}


def _write_resources(
    site: Site, reader: Reader, ranking: Sequence[RankedResource], leaders: set[str], report: Progress
) -> dict[str, dict[str, int]]:
    """A page per resource and per list page; returns the co-mentions among the leaders."""
    among_leaders: dict[str, dict[str, int]] = {}
    pages = max(1, -(-len(ranking) // PAGE_SIZE))
    for number, chunk in enumerate(_chunks(ranking, PAGE_SIZE), start=1):
        rows = []
        for rank, resource in enumerate(chunk, start=(number - 1) * PAGE_SIZE + 1):
            info = reader.resource_info(resource.iri)
            co_shown: list[Count] = []
            co_total = 0
            for co in reader.co_mentions(resource.iri):
                co_total += 1
                if len(co_shown) < CO_MENTIONS_SHOWN:
                    co_shown.append(co)
                if resource.iri in leaders and co.key in leaders:
                    among_leaders.setdefault(resource.iri, {})[co.key] = co.count
            site.write(
                "resource.html",
                resource_path(resource.iri),
                info=info,
                rank=resource,
                forms=reader.surface_forms(resource.iri),
                documents=list(islice(reader.documents_mentioning(resource.iri), DOCUMENTS_PER_RESOURCE)),
                co=co_shown,
                co_total=co_total,
            )
            rows.append(_ListedResource(rank, resource.iri, info.label, resource.mentions, resource.documents, resource.max_confidence))
            report("resources", rank, len(ranking))
        site.write("resources.html", list_path("resources", number), rows=rows, page=number, pages=pages, total=len(ranking))
    if not ranking:
        site.write("resources.html", list_path("resources", 1), rows=[], page=1, pages=1, total=0)
    return among_leaders


@dataclass(frozen=True, slots=True)
class _ListedResource:
    rank: int
    iri: str
    label: str | None
    mentions: int
    documents: int
    best: float | None


def _write_network(site: Site, leaders: Sequence[RankedResource], edges: Sequence[network.Edge], tips: _Tips) -> None:
    chart = network.figure(leaders, edges, name=compact, label=tips.label, url=resource_path)
    site.write(
        "network.html",
        "network.html",
        nodes=len(leaders),
        chart=chart,
        edges=edges[:EDGES_SHOWN],
        edge_total=len(edges),
    )


def _write_index(site: Site, reader: Reader, leaders: Sequence[RankedResource], tips: _Tips, minimum: float):
    overview = reader.overview()
    types = reader.top_types(TYPES_SHOWN)
    suspicious_total, suspicious = reader.suspicious_links(SUSPICIOUS_SHOWN)
    site.write(
        "index.html",
        "index.html",
        overview=overview,
        min_confidence=minimum,
        top=leaders,
        top_chart=charts.top_resources(leaders, name=compact, label=tips.label, url=resource_path),
        histogram=charts.confidence_histogram(reader.confidence_histogram(), minimum=minimum),
        enriched=bool(overview.labelled or types),
        types=types,
        types_chart=charts.top_types(types, label=compact),
        suspicious=suspicious,
        suspicious_total=suspicious_total,
    )
    return overview


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
