"""How fast the preparing path runs on its own: read, place offsets, build N-Quads text.

    python bench/prepare_speed.py CORPUS [--documents N] [--repeat 3] [--profile STAGE]

CORPUS is a file or folder as `graphbuild ingest` takes it (bench/generate.py's summary/
folder, say). Each stage runs over the same first N sources in this process, with no
other process and no store:
  read     the readers alone (graphbuild.readers.read_source);
  place    reading and offset recovery (graphbuild.offsets.place_links);
  prepare  reading, placing, N-Quads text and tallies (graphbuild.ingest.prepare): what a
           preparing process of `ingest` and `convert` does for every document;
then graphbuild.ingest.prepared() as ingest (one preparing process) and convert (two)
run it, with the items read in this process, and the cost of one message of prepared
documents between processes (graphbuild.workers.transfer, against plain pickle). Figures are the
median and the best of --repeat runs, in CPU time of this process (what counts on a
machine busy with something else; wall time for prepared()). --profile STAGE prints the
cProfile hot spots of one more run of that stage.
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path

from graphbuild.model.records import Document
from graphbuild.model.vocab import DEFAULT_BASE
from graphbuild.pipeline import ingest
from graphbuild.pipeline.offsets import place_links
from graphbuild.readers import find_sources, read_source
from graphbuild.workers import transfer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--documents", type=int, default=10_000, help="use the first N sources (default 10000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", choices=["read", "place", "prepare"])
    args = parser.parse_args()
    sources = find_sources([args.corpus])[: args.documents]
    options = ingest._Options(format=None, base=DEFAULT_BASE, min_confidence=None)
    stages: dict[str, Callable[[], int]] = {
        "read": lambda: _count(_read(sources)),
        "place": lambda: _count(_placed(sources)),
        "prepare": lambda: _count(ingest.prepare(sources, options)),
    }
    documents = stages["read"]()  # also warms the page cache
    quads = sum(
        item.graph.nquads.count("\n") for item in ingest.prepare(sources, options) if isinstance(item, ingest.Prepared)
    )
    print(f"{documents:,} documents, {quads:,} quads, from {args.corpus}")
    print("| stage (in this process) | CPU s, median | best | this stage alone, median | documents/s | quads/s |")
    print("|---|---|---|---|---|---|")
    before = 0.0
    for name, stage in stages.items():
        cpu, best = _timed(stage, args.repeat, clock=time.process_time)
        rate = f"{quads / cpu:,.0f}" if name == "prepare" else "-"
        print(f"| {name} | {cpu:.2f} | {best:.2f} | {cpu - before:.2f} | {documents / cpu:,.0f} | {rate} |")
        before = cpu
    for processes in (1, 2):
        wall, best = _timed(partial(_prepared, sources, processes), args.repeat)
        label = f"prepared(), {processes} preparing process{'es' if processes > 1 else ''} (wall s)"
        print(f"| {label} | {wall:.2f} | {best:.2f} | - | {documents / wall:,.0f} | {quads / wall:,.0f} |")
    _chunk_cost(sources, options, args.repeat)
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(stages[args.profile])
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(25)


def _read(sources: list) -> Iterable[object]:
    for source in sources:
        yield from read_source(source)


def _placed(sources: list) -> Iterable[object]:
    for item in _read(sources):
        yield replace(item, links=place_links(item.text, item.links)) if isinstance(item, Document) else item


def _prepared(sources: list, processes: int) -> int:
    return _count(ingest.prepared(sources, processes=processes))


def _count(items: Iterable[object]) -> int:
    return sum(1 for _ in items)


def _timed(
    stage: Callable[[], object], repeat: int, *, clock: Callable[[], float] = time.perf_counter
) -> tuple[float, float]:
    """Median and best time of ``repeat`` runs of ``stage``."""
    times = []
    for _ in range(repeat):
        start = clock()
        stage()
        times.append(clock() - start)
    return statistics.median(times), min(times)


def _chunk_cost(sources: list, options: ingest._Options, repeat: int) -> None:
    """One message as a preparing process sends it (graphbuild.workers.transfer), and as plain pickle."""
    chunk = []
    for item in ingest.prepare(sources, options):
        chunk.append(item)
        if len(chunk) == ingest._CHUNK:
            break
    for name, dump, load in [("transfer", transfer.dumps, transfer.loads), ("pickle", _pickled, pickle.loads)]:
        data = dump(chunk)
        dumping, _ = _timed(partial(dump, chunk), repeat * 5, clock=time.process_time)
        loading, _ = _timed(partial(load, data), repeat * 5, clock=time.process_time)
        print(
            f"one message of {len(chunk)} documents, {name}: {len(data) / 2**20:.1f} MiB, "
            f"dumps {dumping * 1000:.1f} ms, loads {loading * 1000:.1f} ms"
        )


def _pickled(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
