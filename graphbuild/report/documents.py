"""The document pages: one per document, written as the documents are read, and the paged
list of documents.

Reading a document graph costs a few milliseconds in the store (each term's text is looked
up), so for a large corpus in a read-only store the pages are written by worker processes,
one list page (1,000 documents) at a time; the figures are still gathered in this process,
in document order, from the slim views the workers send back.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from graphbuild.progress import Progress
from graphbuild.report.gather import DocumentView, Reader
from graphbuild.report.highlight import segments, tokens
from graphbuild.report.site import DOCUMENTS, PAGE_SIZE, Site, chunks, document_path, list_path, page_name
from graphbuild.report.tally import Tally
from graphbuild.report.tips import Tip, Tips
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.protocol import Store
from graphbuild.workers.processes import ordered_map

Job = tuple[int, Sequence[tuple[str, str]], int, int]  # list page number, its documents, pages, total
Done = tuple[list[DocumentView], dict[str, Tip], int]  # slim views, tips read, pages written


def write_documents(
    site: Site,
    reader: Reader,
    listed: Sequence[tuple[str, str]],
    tips: Tips,
    tally: Tally,
    report: Progress,
    *,
    workers: int | None,
) -> None:
    """The document list, and a page per document where the site has them; each document
    (``listed``: graph and id, sorted) is counted in ``tally``."""
    pages = max(1, -(-len(listed) // PAGE_SIZE))
    jobs: list[Job] = [(n, chunk, pages, len(listed)) for n, chunk in enumerate(chunks(listed, PAGE_SIZE), start=1)]
    if not jobs:
        jobs = [(1, [], 1, 0)]
    count = _workers(reader.store, len(jobs)) if workers is None else workers
    if count > 1 and len(jobs) > 1:
        results = _in_workers(site, reader, jobs, count)
    else:
        results = _here(site, reader, tips, jobs)
    done = 0
    for views, learnt, written in results:
        tips.learn(learnt)
        site.pages += written
        for view in views:
            tally.add(view, types=tips.types)
        done += len(views)
        report("documents", done, len(listed))


def _workers(store: Store, jobs: int) -> int:
    """Two processes where that pays: a big corpus in a read-only store on disk (a writable
    store may hold writes another process cannot see yet)."""
    if jobs < 4 or not store.read_only or store.location == ":memory:":
        return 1
    return min(2, os.cpu_count() or 1)


def _write_page(site: Site, reader: Reader, tips: Tips, job: Job) -> Done:
    """One list page's documents: their pages, the list page, and slim views for the figures."""
    number, chunk, pages, total = job
    before = site.pages
    rows = []
    views = []
    for graph, doc_id in chunk:
        view = reader.document(graph, doc_id, provenance=site.document_pages)
        if site.document_pages:
            _write_document(site, view, tips, reader.min_confidence)
        rows.append(_ListedDocument(doc_id, len(view.mentions), len(_resources(view)), len(view.unplaced)))
        views.append(dataclasses.replace(view, text="", quads=()))
    site.write("documents.html", list_path("documents", number), rows=rows, page=number, pages=pages, total=total)
    return views, tips.take_new(), site.pages - before


def _here(site: Site, reader: Reader, tips: Tips, jobs: list[Job]) -> Iterator[Done]:
    for job in jobs:
        views, _, _ = _write_page(site, reader, tips, job)
        yield views, {}, 0  # ``tips`` and ``site`` are this process's own: nothing to pass on


def _in_workers(site: Site, reader: Reader, jobs: list[Job], count: int) -> Iterator[Done]:
    setup = (reader.store.location, site.folder, site.store_label, site.generated, reader.min_confidence, site.document_pages)
    return ordered_map(_worker_page, jobs, processes=count, initializer=_start_worker, initargs=setup)


_worker: tuple[Site, Reader, Tips] | None = None


def _start_worker(
    location: str, folder: Path, store_label: str, generated: str, min_confidence: float, document_pages: bool
) -> None:
    global _worker
    store = EmbeddedStore.open(Path(location), read_only=True)
    reader = Reader(store, min_confidence=min_confidence)
    site = Site(folder, store=store_label, generated=generated, document_pages=document_pages)
    _worker = (site, reader, Tips(reader))


def _worker_page(job: Job) -> Done:
    assert _worker is not None
    site, reader, tips = _worker
    return _write_page(site, reader, tips, job)


@dataclass(frozen=True, slots=True)
class _ListedDocument:
    id: str
    mentions: int
    resources: int
    unplaced: int


def _write_document(site: Site, view: DocumentView, tips: Tips, minimum: float) -> None:
    parts, rejected = segments(view.text, view.mentions)
    name = page_name(view.id)
    site.write(
        "document.html",
        document_path(view.id),
        doc=view,
        steps=tokens(parts),
        rejected=rejected,
        resources=len(_resources(view)),
        tip=tips.tooltip,
        page_name=name,
        min_confidence=minimum,
    )
    site.write_turtle(f"{DOCUMENTS}/{name}.ttl", view.quads)


def _resources(view: DocumentView) -> set[str]:
    return {m.resource for m in view.mentions} | {m.resource for m in view.unplaced}
