"""Documents straight to N-Quads part files, with no store: input for bulk loaders.

The sorted input list is cut into partitions by a fixed rule (consecutive files, at most
``PARTITION_FILES`` of them or about ``PARTITION_BYTES`` of input each), whatever runs the
work. One task per partition reads its files, prepares the documents and writes its own
part, ``part-00000.nq[.gz]`` (``part-00000-00000…`` with ``split``), under a temporary name
renamed when whole, then a record of what it did (``_partitions/00000.json``). The tasks
run in this process, in ``jobs`` local processes (``graphbuild.workers.processes``) or on
a Dask cluster (``graphbuild.workers.cluster``): the same function, the same files.

This process decides the run (its IRI and start time, in ``_RUN.json`` first), sums the
partitions' per-resource figures into a part of their own (``figures.nq[.gz]``, with the
run's provenance) and writes the manifest ``_SUCCESS.json`` last. A rerun into the same
folder with the same inputs and options takes up the same run and redoes only the
partitions whose record or files are missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from graphbuild import __version__
from graphbuild.errors import GraphbuildError, InputError
from graphbuild.files import Folder, is_remote, sizes
from graphbuild.model.quads import provenance_nquads, run_iri, run_nquads
from graphbuild.model.records import Repair, RepairKind, Skipped
from graphbuild.model.vocab import DEFAULT_BASE
from graphbuild.output.manifest import (
    MANIFEST,
    Manifest,
    clear_parts,
    is_temporary,
    parts_in,
    refuse_other_parts,
    write_manifest,
)
from graphbuild.output.parts import PartFile, PartWriter
from graphbuild.pipeline.prepare import Advance, Options, Prepared, RunReport, prepare
from graphbuild.progress import Progress
from graphbuild.readers import DEFAULT_MAX_SIZE, STDIN, InputFormat, find_sources
from graphbuild.store.figures import Totals
from graphbuild.text import plural
from graphbuild.workers.processes import ordered_map

__all__ = ["ConvertReport", "Partition", "PartitionResult", "convert", "convert_partition", "partitions"]

# The partition rule: consecutive input files, at most this many, or this many bytes of
# input once reached (one file larger than that is a partition of its own). A partition
# of 1,000 abstracts makes a part of ~190,000 quads; of 64 MiB of JSON Lines, ~1M.
PARTITION_FILES = 1000
PARTITION_BYTES = 64 << 20
RUN_RECORD = "_RUN.json"
_RECORDS = "_partitions"
FIGURES = "figures"


@dataclass(frozen=True, slots=True)
class Partition:
    """Consecutive files of the sorted input list; ``index`` names its part."""

    index: int
    sources: tuple[str, ...]

    @property
    def stem(self) -> str:
        return f"part-{self.index:05d}"

    @property
    def record(self) -> str:
        return f"{_RECORDS}/{self.index:05d}.json"


def partitions(sources: Sequence[str], sizes: Sequence[int], *, files: int = PARTITION_FILES, size: int = PARTITION_BYTES) -> list[Partition]:
    """``sources`` (sorted) cut by the partition rule, given each file's size in bytes."""
    cut: list[list[str]] = []
    total = 0
    for source, bytes_ in zip(sources, sizes):
        if not cut or len(cut[-1]) >= files or total >= size:
            cut.append([])
            total = 0
        cut[-1].append(source)
        total += bytes_
    return [Partition(index, tuple(run)) for index, run in enumerate(cut)]


@dataclass(frozen=True, slots=True)
class ConvertJob:
    """What every partition's task shares: where to write, the run, the options."""

    output: str
    run: str
    started: datetime
    options: Options
    split: int | None
    gzip: bool


@dataclass(frozen=True, slots=True)
class PartitionResult:
    """What one partition's task did: small enough to travel back from any worker, and
    kept beside the parts (``_partitions/NNNNN.json``) for a rerun to take up."""

    index: int
    sources: int
    files: tuple[PartFile, ...]
    documents: int
    mentions: int
    unplaced: int
    dropped: int
    errors: tuple[InputError, ...]
    notes: tuple[Skipped, ...]
    repairs: tuple[Repair, ...]
    figures: tuple[tuple[Any, ...], ...]

    def to_json(self) -> str:
        data = {
            "index": self.index,
            "sources": self.sources,
            "files": [asdict(f) for f in self.files],
            "documents": self.documents,
            "mentions": self.mentions,
            "unplaced": self.unplaced,
            "dropped": self.dropped,
            "errors": [[e.path, e.line, e.message] for e in self.errors],
            "notes": [[n.source, n.reason] for n in self.notes],
            "repairs": [[r.kind.value, r.message, r.source, r.line, r.subject] for r in self.repairs],
            "figures": [list(row) for row in self.figures],
        }
        return json.dumps(data, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> PartitionResult:
        data = json.loads(text)
        return cls(
            data["index"],
            data["sources"],
            tuple(PartFile(**f) for f in data["files"]),
            data["documents"],
            data["mentions"],
            data["unplaced"],
            data["dropped"],
            tuple(InputError(*e) for e in data["errors"]),
            tuple(Skipped(*n) for n in data["notes"]),
            tuple(Repair(RepairKind(r[0]), *r[1:]) for r in data["repairs"]),
            tuple(tuple(row) for row in data["figures"]),
        )


def convert_partition(job: ConvertJob, partition: Partition) -> PartitionResult:
    """Read, prepare and write one partition: its part file(s), then its record.

    Runs wherever the work is sent (a local process, a Dask worker), reading and writing
    the locations itself. Safe to run twice: the same partition makes the same bytes.
    """
    folder = Folder(job.output)
    report = RunReport()
    totals = Totals()
    run = NamedNode(job.run)
    documents = 0
    try:
        with PartWriter(folder, stem=partition.stem, split=job.split, gzip=job.gzip) as writer:
            for item in prepare(partition.sources, job.options):
                if not isinstance(item, Prepared):
                    report.count_problem(item)
                    continue
                graph = item.graph
                metadata = provenance_nquads(
                    graph, source=item.source, run=run, at=job.started, min_confidence=job.options.min_confidence
                )
                writer.write(graph.nquads + metadata, documents=1)
                documents += 1
                report.count_prepared(item)
                totals.add(item.shares)
        result = PartitionResult(
            partition.index, len(partition.sources), tuple(writer.files), documents, report.mentions, report.unplaced,
            report.dropped, tuple(report.errors), tuple(report.notes), tuple(report.repairs), tuple(totals.rows()),
        )
        # Last: the record says the partition is done, and lists its files.
        folder.write_bytes(partition.record, result.to_json().encode("utf-8"))
    except OSError as exc:
        raise GraphbuildError(f"cannot write the part {partition.stem} in {job.output}: {exc}") from exc
    return result


@dataclass
class ConvertReport(RunReport):
    """What one convert did: documents written, the files they went to, and a run's counts."""

    written: int = 0
    parts: list[PartFile] = field(default_factory=list)
    output: str = ""
    partitions: int = 0
    # Partitions a previous run into the same folder had already written.
    resumed: int = 0
    manifest: Manifest | None = None

    @property
    def files(self) -> list[str]:
        """Where the part files are, in loading order."""
        return [Folder(self.output).where(part.name) for part in self.parts]

    def summary(self) -> str:
        """The one line that sums the run up."""
        line = (
            f"{plural(self.written, 'document')} written to {plural(len(self.parts), 'file')} in {self.output}, "
            f"{self.failed} failed, {self.empty} empty; {plural(self.mentions, 'mention')}, {self.unplaced} unplaced"
        )
        if self.resumed:
            line += f"; {self.resumed} of {plural(self.partitions, 'partition')} already written"
        return line

    def count_partition(self, result: PartitionResult) -> None:
        self.written += result.documents
        self.mentions += result.mentions
        self.unplaced += result.unplaced
        self.dropped += result.dropped
        self.failed += len(result.errors)
        self.errors.extend(result.errors)
        self.empty += len(result.notes)
        self.notes.extend(result.notes)
        self.repairs.extend(result.repairs)
        self.parts.extend(result.files)


def convert(
    paths: Iterable[str | Path],
    *,
    output: str | Path,
    format: InputFormat | None = None,
    base: str = DEFAULT_BASE,
    min_confidence: float | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    split: int | None = None,
    gzip: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    partition_files: int = PARTITION_FILES,
    partition_bytes: int = PARTITION_BYTES,
    progress: Progress | None = None,
) -> ConvertReport:
    """Write every document's graph and its provenance as N-Quads part files in ``output``
    (a folder path or an fsspec URL), one part per partition of the inputs, then the
    figures' part and the manifest.

    The tasks run in ``jobs`` local processes (default: the machine's cores; 1 runs them
    here), or on the Dask scheduler at ``scheduler`` (``tcp://HOST:PORT``, or ``"local"``
    for a LocalCluster of ``jobs`` workers). A folder that holds the parts of another run
    is refused unless ``overwrite`` (which removes them first); one that holds an
    unfinished run with the same inputs and options is taken up where it stopped.
    ``progress`` counts the documents finished, as for ingest (``pipeline.prepare.Advance``),
    a partition at a time.
    """
    jobs = jobs or os.cpu_count() or 1
    sources = [str(s) for s in find_sources(paths, format=format)]
    if STDIN in sources:
        raise GraphbuildError("convert reads files and folders, not standard input: save it to a file first")
    shown = str(output)
    if scheduler is not None:
        # Workers may start in other folders: they get absolute paths.
        sources = [s if is_remote(s) else os.path.abspath(s) for s in sources]
        output = output if is_remote(str(output)) else os.path.abspath(output)
    sources.sort()
    source_sizes = sizes(sources)
    cut = partitions(sources, source_sizes, files=partition_files, size=partition_bytes)
    settings = {
        "format": format.value if format else None,
        "base": base,
        "min_confidence": min_confidence,
        "max_size": max_size,
        "split": split,
        "gzip": gzip,
        "partition_files": partition_files,
        "partition_bytes": partition_bytes,
    }
    # Of the absolute locations: the same files named from another folder are the same inputs.
    absolute = sorted(s if is_remote(s) else os.path.abspath(s) for s in sources)
    inputs_sha256 = hashlib.sha256("\n".join(absolute).encode("utf-8")).hexdigest()
    if scheduler is None:
        return _convert(cut, sources, source_sizes, str(output), shown, settings, inputs_sha256, jobs, None, overwrite, progress)
    from graphbuild.workers.cluster import connect

    # Connected before anything is written: a scheduler that cannot be reached leaves no trace.
    with connect(scheduler, workers=jobs) as cluster:
        return _convert(cut, sources, source_sizes, str(output), shown, settings, inputs_sha256, jobs, cluster, overwrite, progress)


def _convert(
    cut: list[Partition],
    sources: list[str],
    source_sizes: list[int],
    output: str,
    shown: str,
    settings: dict[str, Any],
    inputs_sha256: str,
    jobs: int,
    cluster: Any,
    overwrite: bool,
    progress: Progress | None,
) -> ConvertReport:
    folder = Folder(output)
    run = _take_up_run(folder, settings, inputs_sha256, len(sources), overwrite=overwrite)
    started = datetime.fromisoformat(run["started"])
    options = Options(
        format=InputFormat(settings["format"]) if settings["format"] else None,
        base=settings["base"],
        min_confidence=settings["min_confidence"],
        max_size=settings["max_size"],
    )
    job = ConvertJob(output, run["run"], started, options, settings["split"], settings["gzip"])
    figures = _FiguresInOrder(p.index for p in cut)
    done = {index: figures.add(result) for index, result in sorted(_done_partitions(folder, cut).items())}
    pending = [p for p in cut if p.index not in done]
    # Progress as ingest reports it, a partition's documents at a time.
    advance = Advance(progress, sources, options.format)
    ends = dict(zip(sources, accumulate(source_sizes)))
    for index in sorted(done):
        advance.finished(_finished(done[index]), ends[cut[index].sources[-1]])
    call = partial(convert_partition, job)
    results: Iterator[PartitionResult]
    if cluster is not None:
        results = cluster.map(call, pending, keys=[f"graphbuild-convert-{inputs_sha256[:12]}-{p.stem}" for p in pending])
    elif jobs <= 1 or len(pending) <= 1:
        results = map(call, pending)
    else:
        results = ordered_map(call, pending, processes=min(jobs, len(pending)))
    finished = dict(done)
    for result in results:
        finished[result.index] = figures.add(result)
        advance.finished(_finished(result), ends[cut[result.index].sources[-1]])
    advance.end()
    # A task stopped half-way (a worker killed, say) may have left its temporary file.
    for name in folder.temporaries():
        folder.remove(name)
    report = ConvertReport(output=shown, partitions=len(cut), resumed=len(done))
    for index in sorted(finished):
        report.count_partition(finished[index])
    with PartWriter(folder, stem=FIGURES, gzip=settings["gzip"]) as writer:
        writer.write(run_nquads(NamedNode(run["run"]), started=started) + figures.totals.nquads())
    report.parts.extend(writer.files)
    manifest = Manifest(
        made_by="convert",
        parts=tuple(report.parts),
        run=run["run"],
        started=run["started"],
        inputs=len(sources),
        inputs_sha256=inputs_sha256,
        options=settings,
        failed=tuple(str(error) for error in report.errors),
        figures=writer.files[0].name,
    )
    write_manifest(folder, manifest)
    report.manifest = manifest
    return report


class _FiguresInOrder:
    """The partitions' figures summed as their results come, in partition order (a sum's
    last digits depend on the order, and the figures' part is the same bytes however the
    run went), each partition's kept only until its turn: holding them all to the end took
    2.6 GB at a million documents."""

    def __init__(self, indexes: Iterable[int]) -> None:
        self.totals = Totals()
        self._order = sorted(indexes)
        self._next = 0
        self._waiting: dict[int, tuple[tuple[Any, ...], ...]] = {}

    def add(self, result: PartitionResult) -> PartitionResult:
        """Take a partition's figures; the result without them."""
        self._waiting[result.index] = result.figures
        while self._next < len(self._order) and self._order[self._next] in self._waiting:
            self.totals.merge(Totals.from_rows(self._waiting.pop(self._order[self._next])))
            self._next += 1
        return replace(result, figures=())


def _finished(result: PartitionResult) -> int:
    """The documents a partition finished: written, failed, or sources with none."""
    return result.documents + len(result.errors) + len(result.notes)


def _take_up_run(folder: Folder, settings: dict[str, Any], inputs_sha256: str, inputs: int, *, overwrite: bool) -> dict[str, Any]:
    """The run this folder's parts belong to: a new one, written down in ``_RUN.json``
    before any part, or the one a stopped convert with the same inputs and options began."""
    ours = [name for name in parts_in(folder) if not is_temporary(name)]
    if ours and not overwrite and folder.exists(RUN_RECORD):
        record = json.loads(folder.read_bytes(RUN_RECORD))
        same = (record.get("inputs_sha256"), record.get("options"), record.get("graphbuild")) == (
            inputs_sha256, settings, __version__
        )
        if same:
            if folder.exists(MANIFEST):
                folder.remove(MANIFEST)  # rewritten at the end, from what is there then
            return dict(record)
    if not overwrite:
        refuse_other_parts(folder, ours)
    clear_parts(folder)
    started = datetime.now(timezone.utc)
    record = {
        "run": run_iri(started).value,
        "started": started.isoformat(),
        "inputs": inputs,
        "inputs_sha256": inputs_sha256,
        "options": settings,
        "graphbuild": __version__,
    }
    folder.make()
    folder.write_bytes(RUN_RECORD, (json.dumps(record, indent=1) + "\n").encode("utf-8"))
    return record


def _done_partitions(folder: Folder, cut: list[Partition]) -> dict[int, PartitionResult]:
    """The partitions a run into this folder finished before: their record is there, and
    every file it lists, at its size."""
    names = set(folder.names())
    done: dict[int, PartitionResult] = {}
    for partition in cut:
        if partition.record not in names:
            continue
        try:
            result = PartitionResult.from_json(folder.read_bytes(partition.record).decode("utf-8"))
        except (ValueError, KeyError, TypeError):
            continue  # redone
        if result.index == partition.index and result.sources == len(partition.sources) and all(
            f.name in names and folder.size(f.name) == f.bytes for f in result.files
        ):
            done[partition.index] = result
    return done
