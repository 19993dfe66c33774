"""Read, place, model: everything before the store, one outcome per document.

Ingest and convert share it. Reading, offset recovery and quad building run in other
processes (``graphbuild.workers.processes``) when the input is large enough to pay for
them, and the outcomes come back in reading order whatever their number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from graphbuild.errors import InputError
from graphbuild.model.quads import DocumentQuads, document_quads
from graphbuild.model.records import Annotation, Document, Repair, Skipped
from graphbuild.model.vocab import DEFAULT_BASE
from graphbuild.pipeline.offsets import place_links
from graphbuild.progress import Progress
from graphbuild.readers import DEFAULT_MAX_SIZE, STDIN, InputFormat, SourceReader, find_sources
from graphbuild.store.figures import ResourceShare, shares
from graphbuild.workers.processes import in_order, runs_of_files

__all__ = ["Advance", "Options", "Prepared", "PreparedItem", "RunReport", "prepare", "prepare_document", "prepared", "source_of", "stop"]

# Documents per message from a preparing process, and messages in flight at most (per
# process; one message holds ~10 MiB of N-Quads for abstracts).
_CHUNK = 256
_QUEUE_CHUNKS = 8
_PROCESS_BYTES = 1 << 20
# With several preparing processes, each takes every n-th run of consecutive sources: at
# most this many files, or about this many bytes of input, per run.
_RUN_FILES = _CHUNK
_RUN_BYTES = 4 << 20




@dataclass
class RunReport:
    """What a run over input documents met, whatever it wrote them to; ``errors`` and
    ``notes`` are per source, in reading order."""

    failed: int = 0
    empty: int = 0
    mentions: int = 0
    unplaced: int = 0
    errors: list[InputError] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)
    # What the readers repaired.
    repairs: list[Repair] = field(default_factory=list)
    # Links left out for a confidence below the run's minimum.
    dropped: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def count_problem(self, item: InputError | Skipped) -> None:
        """Count a document that could not be read, or a source that held none."""
        if isinstance(item, InputError):
            self.failed += 1
            self.errors.append(item)
        else:
            self.empty += 1
            self.notes.append(item)

    def count_prepared(self, item: Prepared) -> None:
        """Count what a document written brings: its mentions, repairs and dropped links."""
        self.mentions += item.graph.mentions
        self.unplaced += item.graph.unplaced
        self.repairs.extend(item.repairs)
        self.dropped += item.dropped


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document ready to store: its graph as N-Quads, and where it came from."""

    doc_id: str
    source: str
    graph: DocumentQuads
    repairs: tuple[Repair, ...] = ()
    dropped: int = 0
    # What the document adds to the per-resource figures (graphbuild.store.figures).
    shares: tuple[ResourceShare, ...] = ()
    # How its links were made, when graphbuild asked a linker for them (pipeline.annotate).
    annotation: Annotation | None = None
    # How far into its source (bytes on disk) reading had got once it was read.
    read_to: int = 0


PreparedItem = Prepared | InputError | Skipped


def source_of(item: PreparedItem) -> str:
    """The input an outcome came from."""
    return item.path if isinstance(item, InputError) else item.source


class Advance:
    """Turns the documents of a run, as they are finished (written, or found unchanged or
    bad), into progress calls.

    ``progress("documents", done, total)``: ``total`` is known where every source is one
    document (the summary format), else None; then ``progress("bytes", read, size)`` too,
    the input read for the documents finished out of all of it (compressed, as on disk),
    which gives one big file its bar.
    """

    def __init__(self, progress: Progress | None, sources: Sequence[Path | str], format: InputFormat | None = None) -> None:
        self._progress = progress
        one_each = all(
            source != STDIN and (format or InputFormat.guess(_as_path(source))) is InputFormat.SUMMARY for source in sources
        )
        self.total = len(sources) if one_each else None
        # Where each source starts in the whole input, for the bytes bar: not kept where
        # every source is one document (a million sources: ~90 MiB, and a stat each).
        self._starts: dict[str, int] = {}
        size = 0
        if self.total is None:
            for source in sources:
                self._starts[str(source)] = size
                size += _size(source)
        self.size = None if self.total is not None or STDIN in sources else size
        self.done = 0
        self.read = 0

    def position(self, item: PreparedItem) -> int:
        """Where in the whole input ``item`` ends (its source's start where unknown)."""
        start = self._starts.get(source_of(item), self.read)
        return start + item.read_to if isinstance(item, Prepared) else start

    def finished(self, count: int, position: int) -> None:
        """``count`` more documents finished, the last of them ending at ``position``."""
        self.done += count
        self.read = max(self.read, position)
        if self._progress is None:
            return
        self._progress("documents", self.done, self.total)
        if self.size is not None:
            self._progress("bytes", min(self.read, self.size), self.size)

    def end(self) -> None:
        """The run is over: the bars end full."""
        self.finished(0, self.size or 0)


def _as_path(source: Path | str) -> Path:
    return source if isinstance(source, Path) else Path(source)


def _size(source: Path | str) -> int:
    try:
        return Path(source).stat().st_size if source != STDIN else 0
    except OSError:
        return 0


def prepared(
    paths: Iterable[str | Path],
    *,
    format: InputFormat | None = None,
    base: str = DEFAULT_BASE,
    min_confidence: float | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    parallel: bool = True,
    processes: int = 1,
    then: Callable[[Prepared], Any] | None = None,
) -> Iterator[PreparedItem]:
    """Every document under ``paths`` read, placed and modelled, in reading order.

    With ``parallel`` the work runs in ``processes`` other processes (not for standard
    input), so that the caller's writing overlaps it; the items come in the same order
    whatever the number. ``then`` (picklable: a module-level function or a partial of
    one) turns each prepared document into what is yielded instead, in those processes.
    """
    paths = list(paths)
    options = Options(format=format, base=base, min_confidence=min_confidence, max_size=max_size, then=then)
    if parallel and _worth_a_process(paths):
        return _prepared_in_process(paths, options, processes=processes)
    return prepare(find_sources(paths, format=format), options)


def stop(items: Iterable[object]) -> None:
    """Stop what ``prepared`` returned before its end (its other processes end with it)."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


def _worth_a_process(paths: list[str | Path]) -> bool:
    # Starting a process costs a fraction of a second: not worth it for one small file.
    # Standard input is read here (a process could not share it).
    if any(str(path) == STDIN for path in paths):
        return False
    return len(paths) > 1 or any(
        Path(p).is_dir() or (Path(p).is_file() and Path(p).stat().st_size > _PROCESS_BYTES) for p in paths
    )


@dataclass(frozen=True, slots=True)
class Options:
    """How documents are prepared: the input format (None: by extension), the base of
    document IRIs, the minimum confidence of links kept, and what to make of each."""

    format: InputFormat | None
    base: str
    min_confidence: float | None
    max_size: int = DEFAULT_MAX_SIZE
    then: Callable[[Prepared], Any] | None = None


def prepare(sources: Iterable[Path | str], options: Options) -> Iterator[PreparedItem]:
    """Read, place and model: everything before the store, one item per document.

    ``sources`` are files (or ``-``) as ``find_sources`` lists them.
    """
    for source in sources:
        reader = SourceReader(source, format=options.format, max_size=options.max_size)
        for item in reader:
            if not isinstance(item, Document):
                yield item
                continue
            done = prepare_document(
                item, base=options.base, min_confidence=options.min_confidence, read_to=reader.position
            )
            yield done if options.then is None or not isinstance(done, Prepared) else options.then(done)


def prepare_document(
    doc: Document,
    *,
    base: str = DEFAULT_BASE,
    min_confidence: float | None = None,
    annotation: Annotation | None = None,
    read_to: int = 0,
) -> Prepared | InputError:
    """One document read: its links below ``min_confidence`` left out, the rest placed,
    and its graph built; an error when a link's IRI cannot be written."""
    links = doc.links
    if min_confidence is not None:
        links = tuple(link for link in links if link.confidence is None or link.confidence >= min_confidence)
    placed = replace(doc, links=place_links(doc.text, links))
    try:
        graph = document_quads(placed, base=base)
    except ValueError as exc:
        return InputError(doc.source, None, f"document {doc.id!r}: {exc}")
    dropped = len(doc.links) - len(links)
    return Prepared(doc.id, doc.source, graph, doc.repairs, dropped, shares(placed), annotation, read_to)


def _prepared_in_process(paths: list[str | Path], options: Options, *, processes: int = 1) -> Iterator[PreparedItem]:
    def runs() -> list[list[Path | str]]:
        sources = find_sources(paths, format=options.format)
        # As strings (each Path holds its own by now): a process given half a million
        # sources holds ~160 MiB of them as Paths, ~60 MiB as strings.
        return [[str(source) for source in run] for run in runs_of_files(sources, processes, files=_RUN_FILES, size=_RUN_BYTES)]

    return in_order(
        partial(prepare, options=options),
        runs,
        processes=processes,
        chunk=_CHUNK,
        queued=_QUEUE_CHUNKS,
        name="preparing documents",
        hint="rerun, or ingest with parallel=False",
    )


