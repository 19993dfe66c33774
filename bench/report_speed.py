"""How long `graphbuild report` takes on a synthetic corpus, and how much memory it holds.

The corpus is written as summary-format files (the seed's format) with the shape of the
SciGraph sample: ~1,000 characters, 14 mentions, resources drawn Zipf-like from 50,000 IRIs.
``ingest`` loads them into an on-disk store (timed apart), then the report is built from
that store and timed per stage (documents, resources, then network, index and swap).

    python bench/report_speed.py --documents 10000 [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graphbuild.model.vocab import DBR
from graphbuild.report import build_report
from graphbuild.store.embedded import EmbeddedStore

RESOURCES = 50_000
MENTIONS = 14
WORDS = 150
ZIPF_S = 1.05
_FILLER = (
    "the of and in to a is that for with as on by this we are from be was were study results "
    "between these which an using our data model analysis based show method effect two high new"
).split()
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "xe", "zu", "bra", "cen", "dor", "fil", "gan"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--work", type=Path, help="Folder for the store and the site (default: a temporary one).")
    parser.add_argument("--keep", action="store_true", help="Keep the store and the site.")
    parser.add_argument("--top", type=int, default=50)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="report-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        figures = measure(work, documents=args.documents, top=args.top)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures, indent=2))


def measure(work: Path, *, documents: int, top: int) -> dict[str, object]:
    started = time.perf_counter()
    write_corpus(work / "corpus", documents)
    generate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    # `graphbuild ingest` in a child process, so that this process's peak RSS is the report's.
    command = [sys.executable, "-m", "graphbuild", "ingest", str(work / "corpus"), "--store", str(work / "store"), "-q"]
    loaded = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
    ingest_seconds = time.perf_counter() - started
    shutil.rmtree(work / "corpus")
    stages: dict[str, float] = {}
    last: dict[str, object] = {"stage": "start", "at": time.perf_counter()}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != last["stage"]:
            stages[str(last["stage"])] = round(now - float(last["at"]), 1)  # type: ignore[arg-type]
            last.update(stage=stage, at=now)
        last["end"] = now

    with EmbeddedStore.open(work / "store", read_only=True) as store:
        quads = store.stats().quads
        started = time.perf_counter()
        last["at"] = started
        summary = build_report(store, work / "site", top=top, progress=progress)
    total = time.perf_counter() - started
    stages[str(last["stage"])] = round(float(last["end"]) - float(last["at"]), 1)  # type: ignore[arg-type]
    stages["network, index, swap"] = round(time.perf_counter() - float(last["end"]), 1)  # type: ignore[arg-type]
    return {
        "documents": summary.documents,
        "loaded": loaded,
        "resources": summary.resources,
        "mentions": summary.mentions,
        "quads": quads,
        "pages": summary.pages,
        "generate_seconds": round(generate_seconds, 1),
        "ingest_seconds": round(ingest_seconds, 1),
        "report_seconds": round(total, 1),
        "report_documents_per_second": round(summary.documents / total),
        "report_stages_seconds": stages,
        "site_mib": round(sum(p.stat().st_size for p in (work / "site").rglob("*") if p.is_file()) / 2**20),
        "report_peak_rss_mib": _peak_rss_mib(),
    }


def write_corpus(folder: Path, documents: int, *, seed: int = 1) -> None:
    """``documents`` summary-format files, 1,000 to a sub-folder."""
    rng = random.Random(seed)
    names = [_name(rng, i) for i in range(RESOURCES)]
    weights = list(itertools.accumulate(1 / (rank + 1) ** ZIPF_S for rank in range(RESOURCES)))
    for number in range(documents):
        sub = folder / f"{number // 1000:04d}"
        if number % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"doc-{number:07d}.txt").write_text(_summary(rng, names, weights), encoding="utf-8")


def _summary(rng: random.Random, names: list[str], weights: list[float]) -> str:
    chosen = [names[bisect.bisect(weights, rng.random() * weights[-1])] for _ in range(MENTIONS)]
    words = [rng.choice(_FILLER) for _ in range(WORDS)]
    rows = []
    for slot, name in zip(sorted(rng.sample(range(WORDS), MENTIONS)), chosen):
        surface = name.rsplit("_", 1)[0].replace("_", " ").lower()
        words[slot] = surface
        confidence = rng.choice(("1.0", "0.9999", "0.97", "0.8", "0.6"))
        rows.append(f"{surface:<30}{confidence}^^http://www.w3.org/2001/XMLSchema#double          {DBR}{name}\n\n")
    return " ".join(words) + "\n" + "".join(rows)


def _name(rng: random.Random, index: int) -> str:
    parts = ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(1, 2))]
    return "_".join(parts).capitalize() + f"_{index}"


def _peak_rss_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


if __name__ == "__main__":
    main()
