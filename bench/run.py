"""Side-by-side ingest benchmark: graphbuild against the store's own limit and rdflib.

    python bench/run.py --documents 10000 [--documents 100000] [--work DIR] [--repeat 3] [--json FILE]
    python bench/run.py --render 10k.json 100k.json     (one table from separate runs)

For each corpus size it generates a synthetic corpus (bench/generate.py), then measures on
the same corpus, in one run:
  (a) `graphbuild ingest` end to end into an on-disk store (a subprocess);
  (b) the limit: pyoxigraph's `bulk_load` of a ready N-Quads file of the same quads;
  (c) the naive peer: the same graph built with rdflib and serialised as N-Quads;
  (d) `graphbuild convert` against Morph-KGC (when both are installed);
then `graphbuild enrich --from` the corpus's synthetic DBpedia dump (enrichment.nt.gz:
labels, types, redirects, disambiguation pages) into each ingested store; then, on the last
store: `graphbuild optimize` (time, size on disk before and after), the first page and the
whole result of every canned query, `graphbuild validate` and `graphbuild report` (each
against the ingest's median), and export speed against pyoxigraph's own dump. Each ingest,
limit and enrich figure is the median of --repeat runs; peak RSS is the maximum resident
set of the measured process and its children.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from beside_ingest import Runs, publish_command, site_figures, timed  # noqa: E402
from generate import ENRICHMENT, generate  # noqa: E402

from graphbuild.files import tree_size  # noqa: E402

# What the dump holds; abstracts, categories and Wikidata links it has none of.
ENRICHED_ASPECTS = "labels,types,redirects"


@dataclass
class Measure:
    seconds: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    quads: int = 0
    disk_mib: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, action="append", help="corpus size (repeatable); default 10000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/graphbuild-bench"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-rdflib-above", type=int, default=100_000, help="rdflib takes ~18 GiB at 100k")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--morph-python", type=Path, help="a Python with morph-kgc installed, for (d)")
    parser.add_argument("--render", type=Path, nargs="+", metavar="JSON", help="print one table from earlier --json files")
    args = parser.parse_args()
    if args.render:
        merged = {int(size): figures for path in args.render for size, figures in json.loads(path.read_text()).items()}
        print(render(dict(sorted(merged.items()))))
        return
    results = {}
    for documents in args.documents or [10_000]:
        results[documents] = run_size(
            documents,
            work=args.work / str(documents),
            repeat=args.repeat,
            rdflib=documents <= args.skip_rdflib_above,
            morph_python=args.morph_python,
        )
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


def run_size(documents: int, *, work: Path, repeat: int, rdflib: bool, morph_python: Path | None = None) -> dict:
    corpus = work / "corpus"
    if not (corpus / "tables").is_dir():
        generate(corpus, documents=documents, formats={"summary", "jsonl", "csv", "enrichment"})
    elif not (corpus / ENRICHMENT).is_file():
        generate(corpus, documents=documents, formats={"enrichment"})
    # Converted afresh every time, never reused: the limit must load exactly the quads this
    # version writes (a file left by an earlier version once had 5% fewer).
    nquads = work / "corpus.nq"
    shutil.rmtree(work / "converted", ignore_errors=True)
    _run([_graphbuild(), "convert", str(corpus / "summary"), "--output", str(work / "converted"), "--quiet"])
    _concatenate(work / "converted", nquads)
    figures: dict[str, object] = {"documents": documents}
    ingest, limit, peer, enriching = Measure(), Measure(), Measure(), Measure()
    enriched = 0
    for attempt in range(repeat):
        store = work / "store"
        shutil.rmtree(store, ignore_errors=True)
        seconds, rss = _timed([_graphbuild(), "ingest", str(corpus / "summary"), "--store", str(store), "--quiet"])
        ingest.seconds.append(seconds)
        ingest.rss_mib.append(rss)
        ingest.disk_mib = _size_mib(store)
        seconds, rss, enriched = _enrich(store, corpus / ENRICHMENT, work / "enrich.out")
        enriching.seconds.append(seconds)
        enriching.rss_mib.append(rss)
        limit_store = work / "limit"
        shutil.rmtree(limit_store, ignore_errors=True)
        seconds, rss = _timed([sys.executable, str(BENCH / "limit.py"), str(nquads), str(limit_store)])
        limit.seconds.append(seconds)
        limit.rss_mib.append(rss)
        limit.disk_mib = _size_mib(limit_store)
        if rdflib and attempt == 0:
            seconds, rss = _timed([sys.executable, str(BENCH / "rdflib_peer.py"), str(corpus / "summary"), str(work / "rdflib.nq")])
            peer.seconds.append(seconds)
            peer.rss_mib.append(rss)
    quads = _count_lines(nquads)
    figures["quads"] = quads
    written = {"ingest": ingest.seconds, "limit": limit.seconds, "rdflib": peer.seconds, "enrich": enriching.seconds}
    _progress(documents, "write", written)
    figures["ingest"] = _figures(ingest, documents, quads)
    figures["limit"] = _figures(limit, documents, quads)
    figures["ingest/limit"] = round(limit.median / ingest.median, 2)
    if peer.seconds:
        figures["rdflib"] = _figures(peer, documents, quads)
        figures["speed-up over rdflib"] = round(peer.median / ingest.median, 2)
    if morph_python is not None:
        figures["convert"] = _convert_against_morph(corpus, work, documents, quads, morph_python, repeat)
        _progress(documents, "convert", figures["convert"])
    figures["enrich"] = {
        "how": f"graphbuild enrich --from {ENRICHMENT} --what {ENRICHED_ASPECTS}",
        "seconds": round(enriching.median, 2),
        "resources": enriched,
        "resources/s": round(enriched / enriching.median),
        "quads": _store_quads(work / "store") - quads,
        "peak RSS MiB": round(max(enriching.rss_mib)),
    }
    _progress(documents, "enrich", figures["enrich"])
    figures["optimize"] = _optimize(work / "store")
    _progress(documents, "optimize", figures["optimize"])
    for command in ("validate", "report"):
        figures[command] = _beside_ingest(command, work, ingest.median)
        _progress(documents, command, figures[command])
    figures["queries"], figures["query whole"], figures["query parameters"] = _query_latencies(work / "store")
    _progress(documents, "queries", figures["queries"])
    figures["export"] = _export_speed(work / "store", work)
    return figures


def _progress(documents: int, stage: str, figures: object) -> None:
    # Each stage's figures as they come: a run of an hour must not lose them to a late failure.
    print(f"{documents} {stage}: {json.dumps(figures)}", file=sys.stderr, flush=True)


def _figures(measure: Measure, documents: int, quads: int) -> dict:
    return {
        "seconds": round(measure.median, 2),
        "documents/s": round(documents / measure.median),
        "quads/s": round(quads / measure.median),
        "peak RSS MiB": round(max(measure.rss_mib)),
        "disk MiB": round(measure.disk_mib),
    }


def _convert_against_morph(corpus: Path, work: Path, documents: int, quads: int, morph_python: Path, repeat: int) -> dict:
    ours, theirs = Measure(), Measure()
    for _ in range(repeat):
        shutil.rmtree(work / "convert", ignore_errors=True)
        seconds, rss = _timed([_graphbuild(), "convert", str(corpus / "summary"), "--output", str(work / "convert"), "--quiet"])
        ours.seconds.append(seconds)
        ours.rss_mib.append(rss)
        seconds, rss = _timed([str(morph_python), str(BENCH / "morph" / "run_morph.py"), str(corpus / "tables"), str(work / "morph.nq")])
        theirs.seconds.append(seconds)
        theirs.rss_mib.append(rss)
    return {
        "graphbuild convert": _figures(ours, documents, quads),
        "Morph-KGC": _figures(theirs, documents, _count_lines(work / "morph.nq")),
        "ratio": round(theirs.median / ours.median, 2),
    }


def _enrich(store: Path, dump: Path, report: Path) -> tuple[float, float, int]:
    """Seconds, peak RSS and the number of resources enriched, by the real command."""
    command = [_graphbuild(), "enrich", "--store", str(store), "--from", str(dump), "--what", ENRICHED_ASPECTS]
    seconds, rss = _timed(command, output=report)
    # "20,801 resources enriched, 0 already cached, …"
    match = re.match(r"([\d,]+) resources? enriched", report.read_text())
    if match is None:
        raise SystemExit(f"graphbuild enrich printed no report: {report.read_text()!r}")
    return seconds, rss, int(match[1].replace(",", ""))


def _store_quads(store: Path) -> int:
    command = [_graphbuild(), "stats", "--store", str(store), "--format", "json"]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["quads"]


def _query_latencies(store: Path) -> tuple[dict, dict, dict]:
    """Each query's first page (median ms), its whole result streamed as CSV, and its parameters."""
    out = subprocess.run(
        [sys.executable, str(BENCH / "query_latency.py"), str(store)], capture_output=True, text=True, check=True
    )
    figures = json.loads(out.stdout)
    return figures["latencies"], figures["whole"], figures["parameters"]


def _optimize(store: Path) -> dict:
    """The enriched store compacted: time, and its size on disk before and after."""
    before = _size_mib(store)
    seconds, rss = _timed([_graphbuild(), "optimize", "--store", str(store)])
    return {"seconds": round(seconds, 1), "disk MiB before": round(before), "disk MiB after": round(_size_mib(store)),
            "peak RSS MiB": round(rss)}


def _beside_ingest(command: str, work: Path, ingest_seconds: float) -> dict:
    """One run of validate or report on the (optimized) store, against the ingest's median."""
    runs = Runs()
    runs.add(*timed(publish_command(command, work / "store", work), ok=(0, 1)))
    figures = runs.figures()
    figures["/ ingest"] = round(runs.seconds[0] / ingest_seconds, 2)
    if command == "report":
        figures["site"] = site_figures(work / "site")
    return figures


def _export_speed(store: Path, work: Path) -> dict:
    """The default export (documents in the full NIF form, more quads than the store holds)
    and --as-stored (the store's own quads) against pyoxigraph's dump."""
    command = [_graphbuild(), "export", "--store", str(store), "--format", "nquads", "--output"]
    ours, _ = _timed([*command, str(work / "export.nq")])
    as_stored, _ = _timed([*command, str(work / "export-as-stored.nq"), "--as-stored"])
    theirs, _ = _timed([sys.executable, str(BENCH / "limit.py"), "--dump", str(store), str(work / "dump.nq")])
    return {
        "graphbuild export s": round(ours, 2),
        "graphbuild export --as-stored s": round(as_stored, 2),
        "pyoxigraph dump s": round(theirs, 2),
        "ratio": round(ours / theirs, 2),
    }


def _timed(command: list[str], *, output: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command and its children; stdout to ``output``."""
    with output.open("wb") if output is not None else open(os.devnull, "wb") as stdout:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr}")
    return seconds, usage.ru_maxrss / 1024


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def _graphbuild() -> str:
    return str(Path(sys.executable).with_name("graphbuild"))


def _concatenate(folder: Path, target: Path) -> None:
    # Streamed: a child forked later inherits this process's peak RSS as its own starting
    # peak, so reading a part whole here would show up in every later RSS figure.
    with target.open("wb") as out:
        for part in sorted(folder.rglob("*.nq")):
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _size_mib(path: Path) -> float:
    return tree_size(path) / (1 << 20)


def render(results: dict) -> str:
    sizes = list(results)
    rows = [
        ("quads", lambda r: f"{r['quads']:,}"),
        ("(a) graphbuild ingest", lambda r: _cell(r["ingest"])),
        ("(b) limit: bulk_load of ready N-Quads", lambda r: _cell(r["limit"])),
        ("a/b (target ≥ 0.8)", lambda r: f"{r['ingest/limit']}"),
        ("(c) rdflib build + serialise", lambda r: _cell(r["rdflib"]) if "rdflib" in r else "not run"),
        ("speed-up over rdflib (target ≥ 3×/5×)", lambda r: f"{r.get('speed-up over rdflib', '-')}×"),
        ("store on disk", lambda r: f"{r['ingest']['disk MiB']:,} MiB"),
        ("enrich from dump", lambda r: _enrich_cell(r["enrich"]) if "enrich" in r else "not run"),
        ("optimize: time, disk after", lambda r: _optimize_cell(r.get("optimize"))),
        ("validate (target ≤ 1× ingest)", lambda r: _beside_cell(r.get("validate"))),
        ("report (target ≤ 1× ingest)", lambda r: _beside_cell(r.get("report"))),
        ("(d) graphbuild convert → N-Quads", lambda r: _cell(r["convert"]["graphbuild convert"]) if "convert" in r else "not run"),
        ("(d) Morph-KGC (2 processes) → N-Quads", lambda r: _cell(r["convert"]["Morph-KGC"]) if "convert" in r else "not run"),
        ("convert speed-up over Morph-KGC (target ≥ 3×)", lambda r: f"{r['convert']['ratio']}×" if "convert" in r else "-"),
        ("export (full NIF form) vs pyoxigraph dump (target ≤ 1.2)", lambda r: _export_cell(r["export"])),
    ]
    query_names = sorted({name for r in results.values() for name in r["queries"]})
    rows += [(f"query {name}, first page (median ms)", lambda r, n=name: _latency(r["queries"].get(n))) for name in query_names]
    rows += [(f"query {name}, whole result as CSV", lambda r, n=name: _whole(r.get("query whole", {}).get(n))) for name in query_names]
    header = "| | " + " | ".join(f"{size:,} docs" for size in sizes) + " |"
    lines = [header, "|---|" + "---|" * len(sizes)]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(results[size]) for size in sizes) + " |")
    return "\n".join(lines)


def _latency(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"> {-ms / 1000:.0f} s (stopped)" if ms < 0 else f"{ms:,.1f}"


def _whole(figures: dict | None) -> str:
    if not figures:
        return "-"
    if "stopped" in figures:
        return _latency(figures["stopped"])
    return f"{figures['rows']:,} rows, {figures['rows/s']:,} rows/s, {figures['peak RSS MiB']:,} MiB"


def _optimize_cell(figures: dict | None) -> str:
    if not figures:
        return "not run"
    return f"{figures['seconds']} s, {figures['disk MiB before']:,} → {figures['disk MiB after']:,} MiB"


def _beside_cell(figures: dict | None) -> str:
    if not figures:
        return "not run"
    site = figures.get("site")
    files = f", {site['files']:,} files, {site['MiB']:,} MiB" if site else ""
    return f"{figures['median s']} s = {figures['/ ingest']}× ingest, {figures['peak RSS MiB']:,} MiB{files}"


def _export_cell(figures: dict) -> str:
    as_stored = figures.get("graphbuild export --as-stored s")
    extra = f"; --as-stored {as_stored} s" if as_stored is not None else ""
    return f"{figures['ratio']}× ({figures['graphbuild export s']} s{extra})"


def _enrich_cell(figures: dict) -> str:
    return f"{figures['seconds']} s, {figures['resources/s']:,} resources/s, {figures['peak RSS MiB']:,} MiB"


def _cell(figures: dict) -> str:
    return f"{figures['seconds']} s, {figures['quads/s']:,} quads/s, {figures['peak RSS MiB']:,} MiB"


if __name__ == "__main__":
    main()
