"""Convert on one machine, on a Dask cluster, with Morph-KGC and with maplib; then load.

    python bench/scaling.py --documents 10000 [--repeat 3] [--work DIR] [--morph-python PY] [--json FILE]

On one synthetic corpus (bench/generate.py: summary files, and the same documents as
tables for the mapping tools), each figure the median of --repeat runs:
  - graphbuild convert --jobs 1, --jobs 2, and --scheduler local --jobs 2 (a Dask
    LocalCluster of 2 single-threaded workers started by the run);
  - the same two commands over a one-document corpus: the fixed cost of starting the
    processes (or the cluster), so that the per-document cost can be compared alone;
  - Morph-KGC (2 processes) with bench/morph/mapping.yml, from its own virtualenv;
  - maplib (bench/maplib_peer.py): OTTR templates over Polars frames, N-Triples;
  - graphbuild load of the --jobs 2 parts into a new store, against pyoxigraph's own
    bulk_load of the same files (one call per file, by path), each in its own process.
quads/s counts what each tool wrote (graphbuild: the manifest's quads, its provenance and
figures included; the others: their lines).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from generate import generate  # noqa: E402
from run import _count_lines, _graphbuild, _timed  # noqa: E402

_BULK_LOAD = """
import sys, time, pyoxigraph
start = time.perf_counter()
store = pyoxigraph.Store(sys.argv[1])
for path in sys.argv[2:]:
    store.bulk_load(path=path, format=pyoxigraph.RdfFormat.N_QUADS)
store.flush()
print(time.perf_counter() - start)
"""
# The library call alone, timed inside its process: what load costs beyond bulk_load
# once the command line's start-up (importing typer, rich, requests…) is aside.
_LOAD = """
import sys, time
from pathlib import Path
from graphbuild.pipeline.load import load
from graphbuild.store.embedded import EmbeddedStore
start = time.perf_counter()
with EmbeddedStore.open(Path(sys.argv[1])) as store:
    load([sys.argv[2]], store=store)
print(time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/graphbuild-scaling"))
    parser.add_argument("--morph-python", type=Path, help="a Python with morph-kgc installed")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = run(args.documents, work=args.work / str(args.documents), repeat=args.repeat, morph_python=args.morph_python)
    print(render(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def run(documents: int, *, work: Path, repeat: int, morph_python: Path | None) -> dict:
    corpus = work / "corpus"
    if not (corpus / "tables").is_dir():
        generate(corpus, documents=documents, formats={"summary", "csv"})
    one = work / "one"
    if not one.is_dir():
        one.mkdir(parents=True)
        shutil.copy(next((corpus / "summary").rglob("*.txt")), one)
    graphbuild = _graphbuild()
    figures: dict = {"documents": documents, "repeat": repeat}
    runs = {
        "convert --jobs 1": ["--jobs", "1"],
        "convert --jobs 2": ["--jobs", "2"],
        "convert --scheduler local --jobs 2": ["--scheduler", "local", "--jobs", "2"],
    }
    quads = 0
    for name, options in runs.items():
        out = work / name.replace(" ", "_")
        seconds, rss = [], []
        for _ in range(repeat):
            shutil.rmtree(out, ignore_errors=True)
            s, r = _timed([graphbuild, "convert", str(corpus / "summary"), "--output", str(out), "--quiet", *options])
            seconds.append(s)
            rss.append(r)
        quads = json.loads((out / "_SUCCESS.json").read_text())["quads"]
        figures[name] = _figures(seconds, rss, quads)
        start = []
        for _ in range(repeat):
            shutil.rmtree(work / "one-out", ignore_errors=True)
            s, _ = _timed([graphbuild, "convert", str(one), "--output", str(work / "one-out"), "--quiet", *options])
            start.append(s)
        figures[name]["fixed seconds"] = round(statistics.median(start), 2)
        _say(name, figures[name])
    figures["quads"] = quads
    local, cluster = figures["convert --jobs 2"], figures["convert --scheduler local --jobs 2"]
    figures["cluster / jobs 2"] = round(cluster["seconds"] / local["seconds"], 2)
    figures["cluster / jobs 2, fixed costs aside"] = round(
        (cluster["seconds"] - cluster["fixed seconds"]) / max(0.01, local["seconds"] - local["fixed seconds"]), 2
    )
    if morph_python is not None:
        seconds, rss = [], []
        for _ in range(repeat):
            s, r = _timed([str(morph_python), str(BENCH / "morph" / "run_morph.py"), str(corpus / "tables"), str(work / "morph.nq")])
            seconds.append(s)
            rss.append(r)
        figures["Morph-KGC (2 processes)"] = _figures(seconds, rss, _count_lines(work / "morph.nq"))
        _say("Morph-KGC", figures["Morph-KGC (2 processes)"])
    seconds, rss = [], []
    for _ in range(repeat):
        s, r = _timed([sys.executable, str(BENCH / "maplib_peer.py"), str(corpus / "tables"), str(work / "maplib.nt")])
        seconds.append(s)
        rss.append(r)
    figures["maplib (one graph)"] = _figures(seconds, rss, _count_lines(work / "maplib.nt"))
    _say("maplib", figures["maplib (one graph)"])
    figures.update(_load(work, graphbuild, repeat, quads))
    return figures


def _load(work: Path, graphbuild: str, repeat: int, quads: int) -> dict:
    parts = work / "convert_--jobs_2"
    manifest = json.loads((parts / "_SUCCESS.json").read_text())
    files = [str(parts / part["name"]) for part in manifest["parts"]]
    ours, ours_rss, unchecked, unchecked_rss, theirs, theirs_rss = [], [], [], [], [], []
    inside, inside_theirs = [], []
    for _ in range(repeat):
        for store, code, arguments, seconds in (
            ("load-inside", _LOAD, [str(parts)], inside),
            ("bulk-inside", _BULK_LOAD, files, inside_theirs),
        ):
            shutil.rmtree(work / store, ignore_errors=True)
            _timed([sys.executable, "-c", code, str(work / store), *arguments], output=work / "inside.txt")
            seconds.append(float((work / "inside.txt").read_text()))
        for store, command, seconds, rss in (
            ("load-store", [graphbuild, "load", str(parts), "--quiet"], ours, ours_rss),
            ("load-unchecked", [graphbuild, "load", str(parts), "--quiet", "--no-checksums"], unchecked, unchecked_rss),
            ("bulk-store", [sys.executable, "-c", _BULK_LOAD, str(work / "bulk-store"), *files], theirs, theirs_rss),
        ):
            shutil.rmtree(work / store, ignore_errors=True)
            if command[1] == "load":
                command += ["--store", str(work / store)]
            s, r = _timed(command)
            seconds.append(s)
            rss.append(r)
    figures = {
        "graphbuild load": _figures(ours, ours_rss, quads),
        "graphbuild load --no-checksums": _figures(unchecked, unchecked_rss, quads),
        "bulk_load of the same files": _figures(theirs, theirs_rss, quads),
    }
    figures["load / bulk_load (speed)"] = round(statistics.median(theirs) / statistics.median(ours), 2)
    figures["load() / bulk_load, in process (speed)"] = round(statistics.median(inside_theirs) / statistics.median(inside), 2)
    figures["load() in process s"] = round(statistics.median(inside), 2)
    figures["bulk_load in process s"] = round(statistics.median(inside_theirs), 2)
    figures["load --no-checksums / bulk_load (speed)"] = round(statistics.median(theirs) / statistics.median(unchecked), 2)
    _say("load", figures)
    return figures


def _figures(seconds: list[float], rss: list[float], quads: int) -> dict:
    median = statistics.median(seconds)
    return {"seconds": round(median, 2), "quads": quads, "quads/s": round(quads / median), "peak RSS MiB": round(max(rss))}


def _say(stage: str, figures: object) -> None:
    print(f"{stage}: {json.dumps(figures)}", file=sys.stderr, flush=True)


def render(f: dict) -> str:
    rows = ["| | seconds | quads/s | peak RSS | fixed start-up |", "|---|---|---|---|---|"]
    for name in ["convert --jobs 1", "convert --jobs 2", "convert --scheduler local --jobs 2", "Morph-KGC (2 processes)", "maplib (one graph)",
                 "graphbuild load", "graphbuild load --no-checksums", "bulk_load of the same files"]:
        if name in f:
            x = f[name]
            fixed = f"{x['fixed seconds']} s" if "fixed seconds" in x else ""
            rows.append(f"| {name} | {x['seconds']} | {x['quads/s']:,} | {x['peak RSS MiB']:,} MiB | {fixed} |")
    rows.append("")
    rows.append(f"{f['documents']:,} documents, {f['quads']:,} quads, medians of {f['repeat']} runs.")
    rows.append(f"cluster / --jobs 2: {f['cluster / jobs 2']}× the time ({f['cluster / jobs 2, fixed costs aside']}× with the fixed start-up costs aside);")
    rows.append(f"load speed / bulk_load speed: {f['load / bulk_load (speed)']} ({f['load --no-checksums / bulk_load (speed)']} without checksums);")
    rows.append(
        f"in process, start-up aside: load() {f['load() in process s']} s, bulk_load {f['bulk_load in process s']} s: "
        f"{f['load() / bulk_load, in process (speed)']}."
    )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
