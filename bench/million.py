"""One run at a million documents, stage by stage, each stage's figures kept as it ends.

    python bench/million.py --work /data/gb-1m [--documents 1000000] [--stages generate,convert,…]
    python bench/million.py --work /data/gb-1m --render      (the table of what has run)

Stages, in order (each is skipped when its figures are already in WORK/figures.json, so a
run stopped part-way goes on where it stopped; --stages picks some):

  generate  the SciGraph-shaped corpus (bench/generate.py) and its DBpedia dump
  convert   `graphbuild convert --gzip` of the corpus into N-Quads parts (all cores)
  load      `graphbuild load` of the parts into a new store: the store's own bulk loader
            over one big load, so it stays about half the size of an ingest's store
  check     nothing lost: the store's quads equal the manifest's, and a sample of 100
            documents' graphs equal their quads in the parts
  enrich    `graphbuild enrich --from` the corpus's dump
  queries   bench/query_latency.py: every canned query's first page (and whole result)
  optimize  `graphbuild optimize`: time, size on disk before, at most while it runs, and
            after (skipped when the disk has less than a quarter of the store free)
  validate  `graphbuild validate`
  report    `graphbuild report` (paged lists, no page per document at this size)
  export    `graphbuild export --format nquads` against pyoxigraph's own dump, each for at
            most 10 minutes: quads written per second and memory every 30 s
  change    a replace (1,000 documents ingested again, each with a link fewer and its
            confidences lowered) and a delete (1,000 others), then the figures of every
            resource those documents link checked against their mentions
            (graphbuild.store.figures.differences)
  ingest    `graphbuild ingest` of the whole corpus into a fresh store, and the limit
            (`bulk_load` of the same quads) beside it when convert's parts are there:
            needs the disk for two more stores. Run with no load before it, the ingested
            store becomes the run's store (and the stages after it use that one)

Wall time, CPU time and peak RSS of each command come from wait4 (the command and the
processes it waited for).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from beside_ingest import site_figures, timed  # noqa: E402
from generate import ENRICHMENT  # noqa: E402
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse  # noqa: E402

from graphbuild.files import tree_size  # noqa: E402
from graphbuild.store.embedded import EmbeddedStore  # noqa: E402
from graphbuild.store.figures import differences, stored_shares  # noqa: E402

STAGES = (
    "generate", "convert", "load", "check", "enrich", "queries", "optimize", "validate", "report", "export", "change", "ingest",
)
# Documents the change stage replaces, and as many others it deletes (a tenth of a small run).
CHANGED = 1000
# Seconds each of export and pyoxigraph's dump runs for at most.
EXPORT_SECONDS = 600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated, from: " + ", ".join(STAGES))
    parser.add_argument("--render", action="store_true", help="print the table of the stages run so far")
    args = parser.parse_args()
    run = Run(args.work, args.documents)
    if args.render:
        print(render(run.figures))
        return
    for stage in args.stages.split(","):
        if stage not in STAGES:
            raise SystemExit(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
        if stage in run.figures:
            print(f"{stage}: done before", file=sys.stderr)
            continue
        print(f"{stage}: {time.strftime('%H:%M:%S')} …", file=sys.stderr, flush=True)
        run.keep(stage, getattr(run, stage)())
    print(render(run.figures))


class Run:
    def __init__(self, work: Path, documents: int) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.work, self.documents = work, documents
        self.corpus, self.parts, self.store = work / "corpus", work / "parts", work / "store"
        self.record = work / "figures.json"
        self.figures: dict[str, dict] = json.loads(self.record.read_text()) if self.record.exists() else {}

    def keep(self, stage: str, figures: dict) -> None:
        # Read again first: stages that only read the store (report, export) may run in
        # another process at the same time, each adding its own.
        if self.record.exists():
            self.figures = {**json.loads(self.record.read_text()), **self.figures}
        self.figures[stage] = figures
        temporary = self.record.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.figures, indent=2))
        temporary.replace(self.record)
        print(f"{stage}: {json.dumps(figures)}", file=sys.stderr, flush=True)

    def generate(self) -> dict:
        formats = "summary,enrichment"
        figures = _command([sys.executable, str(BENCH / "generate.py"), str(self.corpus), "--documents", str(self.documents), "--formats", formats])
        figures["corpus MiB"] = _mib(self.corpus)
        return figures

    def convert(self) -> dict:
        # A convert stopped part-way is taken up where it stopped (its finished partitions kept).
        figures = _command([*_graphbuild(), "convert", str(self.corpus / "summary"), "--output", str(self.parts), "--gzip", "--quiet"])
        manifest = json.loads((self.parts / "_SUCCESS.json").read_text())
        figures["quads"] = sum(part["quads"] for part in manifest["parts"])
        figures["quads/s"] = round(figures["quads"] / figures["seconds"])
        figures["parts MiB"] = _mib(self.parts)
        return figures

    def load(self) -> dict:
        shutil.rmtree(self.store, ignore_errors=True)
        figures = _command([*_graphbuild(), "load", str(self.parts), "--store", str(self.store), "--quiet"])
        figures["quads/s"] = round(self.figures["convert"]["quads"] / figures["seconds"])
        figures["store MiB"] = _mib(self.store)
        return figures

    def check(self) -> dict:
        manifest = json.loads((self.parts / "_SUCCESS.json").read_text())
        expected = sum(part["quads"] for part in manifest["parts"])
        with EmbeddedStore.open(self.store, read_only=True) as store:
            stored = store.quad_count()
            sample = _sample_graphs(self.parts, manifest, 100)
            differing = [graph.value for graph, quads in sample.items() if _values(store.quads(graph)) != _values(quads)]
        if stored != expected or differing:
            raise SystemExit(f"lost on the way: {stored:,} quads stored, {expected:,} written; graphs that differ: {differing[:5]}")
        return {"quads": stored, "sampled graphs equal": len(sample)}

    def optimize(self) -> dict:
        before = _mib(self.store)
        free = shutil.disk_usage(self.work).free // 2**20
        # Compaction writes new files before it deletes the old ones, a few at a time: at
        # 100k documents the store never grew past its size before (sampled every 3 s).
        if free < before // 4:
            return {"skipped": f"the store takes {before:,} MiB and the disk has {free:,} MiB free"}
        peak = _Peak(self.store, before)
        with peak:
            figures = _command([*_graphbuild(), "optimize", "--store", str(self.store)])
        figures.update({"store MiB before": before, "store MiB at most": peak.mib, "store MiB after": _mib(self.store)})
        return figures

    def queries(self) -> dict:
        done = subprocess.run(
            # Whole results stopped after 30 s: a result of millions of rows would take the run's hours.
            [sys.executable, str(BENCH / "query_latency.py"), str(self.store), "--whole-limit", "30"],
            capture_output=True, text=True, check=True,
        )
        return dict(json.loads(done.stdout))

    def validate(self) -> dict:
        return _command([*_graphbuild(), "validate", "--store", str(self.store)], ok=(0, 1))

    def report(self) -> dict:
        site = self.work / "site"
        figures = _command([*_graphbuild(), "report", "--store", str(self.store), "--output", str(site)])
        site_size = site_figures(site)
        figures.update({"files": site_size["files"], "site MiB": site_size["MiB"]})
        return figures

    def enrich(self) -> dict:
        return _command([*_graphbuild(), "enrich", "--store", str(self.store), "--from", str(self.corpus / ENRICHMENT), "--what", "labels,types,redirects"])

    def export(self) -> dict:
        # Each for at most EXPORT_SECONDS, its output counted and thrown away: the full NIF
        # form of a million documents takes hours on two cores and tens of gigabytes, and
        # both rates and memory stay level after the first minute.
        command = [*_graphbuild(), "export", "--store", str(self.store), "--format", "nquads"]
        ours = _streamed(command, EXPORT_SECONDS)
        theirs = _streamed([sys.executable, str(BENCH / "limit.py"), "--dump", str(self.store), "/dev/stdout"], EXPORT_SECONDS)
        return {"graphbuild export": ours, "pyoxigraph dump": theirs, "ratio": round(theirs["quads/s"] / ours["quads/s"], 2)}

    def change(self) -> dict:
        rng = random.Random(2)
        changed = min(CHANGED, self.documents // 10)
        picked = rng.sample(sorted((self.corpus / "summary").rglob("*.txt")), 2 * changed)
        replaced, deleted = picked[:changed], picked[changed:]
        folder = self.work / "changed"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for path in replaced:
            (folder / path.name).write_text(_changed(path.read_text(encoding="utf-8")), encoding="utf-8")
        with EmbeddedStore.open(self.store, read_only=True) as store:
            graphs = store.document_graphs(path.stem for path in picked)
            touched = {share[0] for graph in graphs.values() for share in stored_shares(store.quads(graph))}
            before = store.quad_count()
        replace = _command([*_graphbuild(), "ingest", str(folder), "--store", str(self.store), "--quiet"])
        remove = _command([*_graphbuild(), "delete", *(path.stem for path in deleted), "--store", str(self.store)])
        with EmbeddedStore.open(self.store, read_only=True) as store:
            start = time.perf_counter()
            off = differences(store, touched)
            checked = time.perf_counter() - start
            after = store.quad_count()
        if off:
            raise SystemExit(f"figures that differ from the mentions after the change ({len(off):,}): {off[:5]}")
        return {
            "replace": replace, "delete": remove, "quads before": before, "quads after": after,
            "resources checked": len(touched), "figures differing": 0, "check s": round(checked, 1),
        }

    def ingest(self) -> dict:
        kept = not self.store.exists()
        fresh = self.store if kept else self.work / "ingested"
        shutil.rmtree(fresh, ignore_errors=True)
        ours = _command([*_graphbuild(), "ingest", str(self.corpus / "summary"), "--store", str(fresh), "--quiet"])
        ours["store MiB"] = _mib(fresh)
        if not kept:
            shutil.rmtree(fresh)
        if not self.parts.exists():
            return {"graphbuild ingest": ours, "store kept": kept}
        nquads = self.work / "corpus.nq"
        with nquads.open("wb") as out:
            for part in sorted(self.parts.glob("*.nq*")):
                with (gzip.open(part) if part.suffix == ".gz" else part.open("rb")) as source:
                    shutil.copyfileobj(source, out, 1 << 20)
        limit_store = self.work / "limit"
        shutil.rmtree(limit_store, ignore_errors=True)
        limit = _command([sys.executable, str(BENCH / "limit.py"), str(nquads), str(limit_store)])
        limit["store MiB"] = _mib(limit_store)
        shutil.rmtree(limit_store)
        nquads.unlink()
        return {"graphbuild ingest": ours, "limit": limit, "ingest/limit": round(limit["seconds"] / ours["seconds"], 2)}


def _streamed(command: list[str], limit: float) -> dict:
    """A command run until it ends or for ``limit`` seconds: the lines (quads) it wrote,
    their rate, and its resident memory every 30 s (peak RSS covers the command alone)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    quads, stopped = 0, False
    samples: list[int] = []
    while chunk := os.read(proc.stdout.fileno(), 1 << 20):
        quads += chunk.count(b"\n")
        elapsed = time.perf_counter() - start
        if elapsed >= 30 * (len(samples) + 1):
            samples.append(_status(proc.pid).get("VmRSS", 0))
        if elapsed >= limit:
            stopped = True
            break
    cpu, peak = _cpu_and_peak(proc.pid)
    proc.kill()
    proc.wait()
    if not stopped and proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {proc.returncode}")
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 1), "CPU s": round(cpu, 1), "peak RSS MiB": peak, "quads": quads,
        "quads/s": round(quads / seconds), "stopped after the time limit": stopped, "RSS MiB every 30 s": samples,
    }


def _cpu_and_peak(pid: int) -> tuple[float, int]:
    """CPU seconds and peak RSS (MiB) of a running process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        cpu = 0.0
    return cpu, _status(pid).get("VmHWM", 0)


def _status(pid: int) -> dict[str, int]:
    """The memory lines of /proc/PID/status, in MiB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) // 1024 for k, _, v in (line.partition(":") for line in lines) if k in ("VmRSS", "VmHWM")}


def _command(command: list[str], ok: tuple[int, ...] = (0,)) -> dict:
    seconds, cpu, rss, says = timed(command, ok=ok)
    return {"seconds": round(seconds, 1), "CPU s": round(cpu, 1), "peak RSS MiB": round(rss), "says": says}


class _Peak:
    """The largest size a folder reaches while the ``with`` block runs, sampled every 5 s."""

    def __init__(self, folder: Path, mib: int) -> None:
        self.folder, self.mib = folder, mib
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(5):
            try:
                self.mib = max(self.mib, _mib(self.folder))
            except OSError:  # a file compacted away while it was being sized
                continue


def _changed(summary: str) -> str:
    """A summary with its last link left out and every confidence lowered by a tenth."""
    text, *rows = [line for line in summary.split("\n") if line.strip()]
    lowered = [re.sub(r"^(.*?\s)(\d\.\d+)(\^\^)", lambda m: f"{m[1]}{float(m[2]) * 0.9!r}{m[3]}", row) for row in rows[:-1]]
    return text + "\n" + "\n\n".join(lowered) + "\n"


def _sample_graphs(parts: Path, manifest: dict, count: int) -> dict[NamedNode, set[Quad]]:
    """The quads of ``count`` document graphs, one drawn from each of ``count`` parts."""
    rng = random.Random(1)
    files = [parts / part["name"] for part in manifest["parts"] if part["documents"]]
    sample: dict[NamedNode, set[Quad]] = {}
    for path in rng.sample(files, min(count, len(files))):
        opened: Callable = gzip.open if path.suffix == ".gz" else open
        graphs: dict[NamedNode, set[Quad]] = {}
        with opened(path, "rb") as data:
            for quad in parse(data, RdfFormat.N_QUADS):
                if isinstance(quad.graph_name, NamedNode) and "/doc/" in quad.graph_name.value:
                    graphs.setdefault(quad.graph_name, set()).add(quad)
        graph = rng.choice(sorted(graphs, key=lambda g: g.value))
        sample[graph] = graphs[graph]
    return sample


def _values(quads: Iterable[Quad]) -> set[tuple[str, str, str]]:
    # By lexical value: Oxigraph keeps an xsd:nonNegativeInteger as an xsd:integer.
    return {(str(q.subject), str(q.predicate), q.object.value if isinstance(q.object, Literal) else str(q.object)) for q in quads}


def _graphbuild() -> list[str]:
    return [sys.executable, "-m", "graphbuild"]


def _mib(path: Path) -> int:
    return round(tree_size(path) / 2**20)


def render(figures: dict[str, dict]) -> str:
    lines = ["| stage | wall | CPU | peak RSS | what it says / figures |", "|---|---:|---:|---:|---|"]
    for stage, value in figures.items():
        if stage == "queries":
            for name, ms in value.get("latencies", {}).items():
                whole = value.get("whole", {}).get(name, {})
                rows = f", whole: {whole['rows']:,} rows at {whole['rows/s']:,} rows/s" if "rows" in whole else ""
                lines.append(f"| query {name} | {ms:,.1f} ms | | | first page{rows} |")
            continue
        if "seconds" in value:
            commands, rest = {stage: value}, {}
        else:
            # A stage of several commands (export beside the dump, change's replace and delete): a row each.
            commands = {f"{stage}: {k}": v for k, v in value.items() if isinstance(v, dict) and "seconds" in v}
            rest = {k: v for k, v in value.items() if f"{stage}: {k}" not in commands}
        for name, command in commands.items():
            extra = {k: v for k, v in command.items() if k not in ("seconds", "CPU s", "peak RSS MiB")}
            lines.append(f"| {name} | {command['seconds']:,} s | {command['CPU s']:,} s | {command['peak RSS MiB']:,} MiB | {json.dumps(extra)} |")
        if rest:
            lines.append(f"| {stage} | | | | {json.dumps(rest)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
