"""Annotate: raw texts to DBpedia Spotlight, and its answers into the store as ingest
writes documents, or into a file of Spotlight JSON Lines to ingest later.

Texts are read here (``graphbuild.readers.raw``); requests run in ``concurrency`` threads,
since they wait on the server rather than on Python (``graphbuild.spotlight``), and their
outcomes come back in reading order. Each answer goes through the Spotlight JSON reader
exactly as a file of answers would (UTF-16 offsets to code points, ``@types`` expanded)
and through ingest's writer (``pipeline.ingest.write_prepared``), so a document is stored
exactly as ingesting the same answer would store it, with how it was annotated in the
metadata graph: endpoint, parameters, the seconds the answers took, graphbuild's version,
and a key of text and settings. A document whose stored key is the same is skipped
without a request; one with another text or other settings is annotated again and replaced.

A document whose requests keep failing is reported and left out; after ``GIVE_UP_AFTER``
of them in a row the server is taken to be down and no more documents are sent. Whatever
stops the run (that, Ctrl-C, a URL that is no Spotlight), the documents answered so far
are written whole; an output file is written under a temporary name and renamed only
once it is complete.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pyoxigraph import NamedNode

from graphbuild.errors import AnnotateError, InputError
from graphbuild.model.quads import document_iri
from graphbuild.model.records import Annotation, RawText, Skipped
from graphbuild.model.vocab import ANNOTATION_KEY, DEFAULT_BASE
from graphbuild.pipeline.ingest import IngestReport, write_prepared
from graphbuild.pipeline.prepare import Prepared, PreparedItem, prepare_document
from graphbuild.progress import Progress
from graphbuild.readers import STDIN, RawFormat, find_raw_sources, read_raw_source
from graphbuild.readers.spotlight import read_response
from graphbuild.spotlight import NotAnnotated, Spotlight, SpotlightSettings
from graphbuild.store.protocol import Store, metadata_record
from graphbuild.text import plural
from graphbuild.workers.threads import thread_map

__all__ = ["GIVE_UP_AFTER", "AnnotateReport", "annotate"]

GIVE_UP_AFTER = 10


@dataclass
class AnnotateReport(IngestReport):
    """What one annotate did: documents annotated and the requests it took, those skipped
    unchanged without a request (``unchanged``), and the rest of an ingest's counts;
    ``output`` is the file written instead of a store; ``stopped`` says why the run
    stopped before the end of its input, if it did."""

    annotated: int = 0
    requests: int = 0
    retries: int = 0
    split: int = 0
    output: str = ""
    stopped: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.stopped

    def summary(self) -> str:
        """The one line that sums the run up."""
        head = f"{plural(self.annotated, 'document')} annotated in {plural(self.requests, 'request')}"
        if self.output:
            written = f"written to {self.output}"
        else:
            head += f", {self.unchanged} skipped unchanged"
            written = f"{self.loaded} loaded, {self.replaced} replaced"
        extras = [
            f"{plural(count, what)}{after}"
            for count, what, after in (
                (self.retries, "request", " retried"),
                (self.split, "document", " sent in parts"),
                (self.duplicates, "duplicate", ""),
                (len(self.repairs) - self.duplicates, "repair", ""),
            )
            if count
        ]
        return (
            f"{head}, {self.failed} failed, {self.empty} empty; {written}; "
            f"{plural(self.mentions, 'mention')}, {self.unplaced} unplaced" + "".join(f"; {e}" for e in extras)
        )


@dataclass(frozen=True, slots=True)
class _Job:
    doc: RawText
    key: str


@dataclass(frozen=True, slots=True)
class _Done:
    """A document annotated: Spotlight's answer, and the document ready to store."""

    doc: RawText
    response: dict[str, Any]
    prepared: Prepared
    parts: int


@dataclass(frozen=True, slots=True)
class _Failed:
    """A document asked about and not annotated: its requests failed for good
    (``refused``), or the answer could not be read."""

    error: InputError
    refused: bool


_Outcome = _Done | _Failed | InputError | Skipped


def annotate(
    paths: Iterable[str | Path],
    *,
    spotlight: SpotlightSettings,
    store: Store | None = None,
    output: str | Path | None = None,
    format: RawFormat | None = None,
    base: str = DEFAULT_BASE,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> AnnotateReport:
    """Annotate the raw texts under ``paths`` with Spotlight, into ``store`` or ``output``
    (Spotlight JSON Lines, one answer per line with the document's ``id``; gzipped when
    the name ends in ``.gz``): one of the two.

    ``progress`` counts documents (stage ``"documents"``; the total is known unless a
    text comes from standard input).
    """
    if (store is None) == (output is None):
        raise AnnotateError("annotate writes into a store or into an output file: give one of the two")
    if concurrency < 1:
        raise AnnotateError(f"the concurrency must be 1 or more, not {concurrency}")
    client = Spotlight(spotlight, connections=concurrency)
    report = AnnotateReport(output=str(output) if output is not None else "")
    sources = find_raw_sources(paths, format=format)
    run = _Run(client, report, store=store, base=base, progress=progress)
    try:
        if progress is not None:
            run.total = _count(sources, format)
        jobs = run.jobs(read_raw_source(source, format=format) for source in sources)
        outcomes = run.outcomes(thread_map(run.ask, jobs, threads=concurrency))
        if store is not None:
            write_prepared((_prepared(item) for item in outcomes), store=store, report=report)
        elif output is not None:
            _write_output(outcomes, Path(output), report)
    finally:
        client.close()
        report.requests, report.retries = client.requests, client.retries
    return report


class _Run:
    """One run's decisions, made in this thread: what to ask, and when to stop asking."""

    def __init__(
        self, client: Spotlight, report: AnnotateReport, *, store: Store | None, base: str, progress: Progress | None
    ) -> None:
        self.client = client
        self.report = report
        self.store = store
        self.base = base
        self.progress = progress
        self.total: int | None = None
        self.done = 0
        self.failed_in_a_row = 0

    def jobs(self, readings: Iterable[Iterable[RawText | InputError | Skipped]]) -> Iterator[_Job | InputError | Skipped]:
        """The documents to ask about, in reading order, with what could not be read;
        a document stored with the same key is counted unchanged and not asked about."""
        for items in readings:
            for item in items:
                if self.report.stopped:
                    return
                if not isinstance(item, RawText):
                    yield item
                    continue
                key = self.client.settings.key(item.text)
                if self.store is not None and _stored_key(self.store, document_iri(item.id, self.base)) == key:
                    self.report.unchanged += 1
                    self._count_done()
                    continue
                yield _Job(item, key)

    def ask(self, job: _Job | InputError | Skipped) -> _Outcome:
        """In a worker thread: Spotlight's answer for one document, read and modelled."""
        if not isinstance(job, _Job):
            return job
        doc = job.doc
        try:
            answer = self.client.annotate(doc.text)
        except NotAnnotated as exc:
            return _Failed(InputError(doc.source, doc.line, f"document {doc.id!r} not annotated: {exc}"), refused=True)
        read = read_response(answer.response, doc.id, source=doc.source, line=doc.line)
        if isinstance(read, InputError):
            return _Failed(read, refused=False)
        settings = self.client.settings
        annotation = Annotation(
            settings.endpoint, settings.confidence, settings.support, settings.language, answer.seconds, job.key
        )
        prepared = prepare_document(read, base=self.base, annotation=annotation)
        if isinstance(prepared, InputError):
            return _Failed(prepared, refused=False)
        return _Done(doc, answer.response, prepared, answer.parts)

    def outcomes(self, results: Iterable[_Outcome]) -> Iterator[_Outcome]:
        """The outcomes in reading order, counted; stops asking after too many failures in a row."""
        for result in results:
            if isinstance(result, _Done):
                self.report.annotated += 1
                self.report.split += result.parts > 1
                self.failed_in_a_row = 0
            elif isinstance(result, _Failed) and result.refused:
                self.failed_in_a_row += 1
                if self.failed_in_a_row >= GIVE_UP_AFTER and not self.report.stopped:
                    self.report.stopped = (
                        f"{GIVE_UP_AFTER} documents in a row could not be annotated, so no more were sent "
                        f"(the last: {result.error.message}); rerun once {self.client.settings.endpoint} answers"
                    )
            yield result
            if isinstance(result, (_Done, _Failed)):
                self._count_done()

    def _count_done(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress("documents", self.done, self.total)


def _stored_key(store: Store, graph: NamedNode) -> str | None:
    return metadata_record(store, graph).get(ANNOTATION_KEY.value)


def _prepared(item: _Outcome) -> PreparedItem:
    if isinstance(item, _Done):
        return item.prepared
    return item.error if isinstance(item, _Failed) else item


def _write_output(outcomes: Iterable[_Outcome], output: Path, report: AnnotateReport) -> None:
    """The answers as Spotlight JSON Lines, under a temporary name until the file is whole."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    except OSError as exc:
        raise AnnotateError(f"cannot write {output}: {exc.strerror or exc}") from None
    try:
        with ExitStack() as stack:
            stream: IO[bytes] | gzip.GzipFile = stack.enter_context(os.fdopen(handle, "wb"))
            if output.name.lower().endswith(".gz"):
                stream = stack.enter_context(gzip.GzipFile(fileobj=stream, mode="wb", filename=""))
            for item in outcomes:
                if isinstance(item, _Done):
                    line = json.dumps({"id": item.doc.id, **item.response}, ensure_ascii=False)
                    stream.write(line.encode("utf-8") + b"\n")
                    report.count_prepared(item.prepared)
                else:
                    report.count_problem(item.error if isinstance(item, _Failed) else item)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _count(sources: list[Path | str], format: RawFormat | None) -> int | None:
    """How many documents the sources hold (read once more: cheap beside asking a server),
    or None when one is standard input, which can be read only once."""
    if STDIN in sources:
        return None
    return sum(isinstance(item, RawText) for source in sources for item in read_raw_source(source, format=format))
