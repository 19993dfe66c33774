"""Enrich every linked resource: find what is missing, fetch it in batches, write each batch.

Rounds: first the linked resources not yet enriched (all of them with ``refresh``), then
the pages those redirect to, until nothing new turns up. A batch whose answer comes back
incomplete is asked again in halves, and a single resource page by page, so no partial
answer is ever stored as complete. A batch that fails for good ends the run: what earlier
batches wrote stays, the failed resources keep whatever they had, and the report says why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from pyoxigraph import NamedNode, Triple

from graphbuild.enrichment.cache import Record, batch_quads, linked_resources, records, redirect_targets, write_batch
from graphbuild.enrichment.fetch import Answer, FetchError
from graphbuild.enrichment.query import Row, Selection, batch_query, triples_by_resource
from graphbuild.errors import EnrichError, Interrupted
from graphbuild.progress import Progress
from graphbuild.store.protocol import Store
from graphbuild.text import plural

BATCH_SIZE = 50
_MAX_ROUNDS = 3
_MAX_PAGES = 50



class Source(Protocol):
    """Where enrichment comes from: an ``Endpoint`` or a ``DumpSource``."""

    requests: int

    @property
    def sources(self) -> list[NamedNode]: ...

    @property
    def page_size(self) -> int: ...

    def describe(self) -> str: ...

    def prepare(self, resources: Sequence[NamedNode]) -> None: ...

    def select(self, query: str) -> Answer: ...


@dataclass
class EnrichReport:
    """What one run did; ``failures`` says why resources were left out."""

    linked: int = 0
    enriched: int = 0
    cached: int = 0
    not_found: int = 0
    failed: int = 0
    targets: int = 0
    requests: int = 0
    not_found_resources: list[NamedNode] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self, source: str) -> str:
        """The one line that sums the run up; ``source`` names where it fetched from."""
        followed = f"{plural(self.targets, 'redirect target')} followed; " if self.targets else ""
        return (
            f"{plural(self.enriched, 'resource')} enriched, {self.cached:,} already cached, "
            f"{self.not_found:,} not found, {self.failed:,} failed ({followed}{plural(self.requests, 'request')} "
            f"to {source})"
        )


def enrich(
    store: Store,
    *,
    source: Source,
    selection: Selection | None = None,
    refresh: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> EnrichReport:
    """Fetch what ``source`` knows about the store's linked resources into the store.

    Each batch is stored whole before the next is fetched; an interrupt
    (KeyboardInterrupt) raises ``Interrupted`` saying how many were stored, and a rerun
    fetches only the rest.
    """
    if batch_size < 1:
        raise EnrichError("the batch size must be at least 1")
    report = EnrichReport()
    try:
        return _enrich(store, source, selection or Selection(), refresh, batch_size, progress, report)
    except KeyboardInterrupt:
        stored = report.enriched + report.not_found
        raise Interrupted(f"{plural(stored, 'resource')} fetched and stored") from None


def _enrich(
    store: Store,
    source: Source,
    selection: Selection,
    refresh: bool,
    batch_size: int,
    progress: Progress | None,
    report: EnrichReport,
) -> EnrichReport:
    linked = linked_resources(store)
    report.linked = len(linked)
    known = records(store)
    todo = [r for r in linked if refresh or not _covered(known.get(r), selection)]
    report.cached = len(linked) - len(todo)
    done: set[NamedNode] = set()
    for round_number in range(_MAX_ROUNDS):
        if not todo:
            break
        if round_number:
            report.targets += len(todo)
        if not _run_round(store, source, todo, selection, known, done, batch_size, report, progress):
            break
        known = records(store)
        todo = [t for t in redirect_targets(store) if t not in done and (refresh or not _covered(known.get(t), selection))]
    report.requests = source.requests
    return report


def _run_round(
    store: Store,
    source: Source,
    todo: list[NamedNode],
    selection: Selection,
    known: dict[NamedNode, Record],
    done: set[NamedNode],
    batch_size: int,
    report: EnrichReport,
    progress: Progress | None,
) -> bool:
    """One round in batches; False when a batch failed and the run must end."""
    source.prepare(todo)
    written = 0
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        try:
            for resources, fetched in _fetch(source, batch, selection):
                quads = batch_quads(fetched, selection=selection, sources=source.sources, at=datetime.now(timezone.utc))
                write_batch(store, quads, resources, replacing=any(r in known for r in resources))
                done.update(resources)
                written += len(resources)
                found = [r for r in resources if fetched[r]]
                report.enriched += len(found)
                report.not_found += len(resources) - len(found)
                report.not_found_resources.extend(r for r in resources if not fetched[r])
        except FetchError as exc:
            report.failed += len(todo) - written
            report.failures.append(str(exc))
            return False
        if progress is not None:
            progress("resources", written, len(todo))
    return True


def _fetch(
    source: Source, resources: list[NamedNode], selection: Selection
) -> Iterator[tuple[list[NamedNode], dict[NamedNode, list[Triple]]]]:
    """Complete answers for ``resources``, in as many pieces as the source needs."""
    answer = source.select(batch_query(resources, selection))
    if answer.complete:
        yield resources, triples_by_resource(answer.rows, resources)
    elif len(resources) > 1:
        half = len(resources) // 2
        yield from _fetch(source, resources[:half], selection)
        yield from _fetch(source, resources[half:], selection)
    else:
        yield resources, triples_by_resource(_pages(source, resources, selection, answer.reason), resources)


def _pages(source: Source, resources: list[NamedNode], selection: Selection, reason: str) -> list[Row]:
    """One resource whose answer alone is incomplete, fetched in ordered pages."""
    rows: list[Row] = []
    size = source.page_size
    for number in range(_MAX_PAGES):
        answer = source.select(batch_query(resources, selection, page=(size, number * size)))
        if not answer.complete:
            raise FetchError(f"{source.describe()}: {resources[0].value}: {answer.reason}, even alone and in pages of {size}")
        # Virtuoso hands a VALUES-bound ?r back from the sorted subquery as a string: the
        # page is about this one resource anyway.
        rows.extend({**row, "r": resources[0]} for row in answer.rows)
        if len(answer.rows) < size:
            return rows
    raise FetchError(f"{source.describe()}: {resources[0].value}: more than {_MAX_PAGES} pages of {size} rows ({reason})")


def _covered(record: Record | None, selection: Selection) -> bool:
    return record is not None and selection.covered_by(record.aspects, record.languages)
