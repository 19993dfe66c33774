"""`graphbuild validate` and `graphbuild report` timed side by side with the ingest of the
same store, in one run: medians of repeats and their ratios to the ingest's median.

A SciGraph-shaped corpus (bench/generate.py, summary format) is ingested ``--repeat``
times into a fresh store (each a child process, wall time and peak RSS), then the last
store is validated and reported ``--repeat`` times each; then the store is optimized
(`graphbuild optimize`, timed) and both run again on it, because reading a store that is
fresh from many bulk loads costs several times more than reading a compacted one. Each
command's CPU time (all its processes) is kept beside its wall time: on a shared machine
it is the steadier figure. Used by bench/validate_speed.py and bench/report_speed.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graphbuild.files import tree_size

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
GRAPHBUILD = [sys.executable, "-m", "graphbuild"]


@dataclass
class Runs:
    """Repeats of one command: wall seconds, CPU seconds and peak RSS of each."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    output: str = ""

    def add(self, seconds: float, cpu: float, rss: float, output: str) -> None:
        self.seconds.append(seconds)
        self.cpu.append(cpu)
        self.rss_mib.append(rss)
        self.output = output

    def figures(self, *, against: Runs | None = None) -> dict[str, object]:
        wall = statistics.median(self.seconds)
        figures: dict[str, object] = {
            "seconds": [round(s, 1) for s in self.seconds],
            "median s": round(wall, 1),
            "median CPU s": round(statistics.median(self.cpu), 1),
            "peak RSS MiB": round(max(self.rss_mib)),
        }
        if against is not None:
            figures["/ ingest"] = round(wall / statistics.median(against.seconds), 2)
            figures["CPU / ingest CPU"] = round(statistics.median(self.cpu) / statistics.median(against.cpu), 2)
        figures["says"] = self.output
        return figures


def main(description: str, commands: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, action="append", help="corpus size (repeatable); default 10000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/graphbuild-bench-publish"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--also", choices=["validate", "report"], action="append", default=[], help="time this command too"
    )
    parser.add_argument("--no-optimized", action="store_true", help="skip the runs on the optimized store")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    timed = list(dict.fromkeys([*commands, *args.also]))
    results = {}
    for documents in args.documents or [10_000]:
        results[documents] = measure(
            documents, args.work / str(documents), timed, repeat=args.repeat, optimized=not args.no_optimized
        )
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(render(results))


def measure(documents: int, work: Path, commands: Sequence[str], *, repeat: int, optimized: bool) -> dict[str, object]:
    corpus = work / "corpus"
    if not (corpus / "summary").is_dir():
        _run([sys.executable, str(BENCH / "generate.py"), str(corpus), "--documents", str(documents), "--formats", "summary"])
    store = work / "store"
    ingest = Runs()
    for _ in range(repeat):
        shutil.rmtree(store, ignore_errors=True)
        ingest.add(*timed([*GRAPHBUILD, "ingest", str(corpus / "summary"), "--store", str(store), "--quiet"]))
        _say(documents, "ingest", ingest.seconds[-1])
    figures: dict[str, object] = {"documents": documents, "ingest": ingest.figures()}
    stores = [("fresh", store)]
    if optimized:
        stores.append(("optimized", store))
    for state, path in stores:
        if state == "optimized":
            optimize = Runs()
            optimize.add(*timed([*GRAPHBUILD, "optimize", "--store", str(path)]))
            figures["optimize"] = optimize.figures(against=ingest)
        for command in commands:
            runs = Runs()
            for _ in range(repeat):
                runs.add(*timed(publish_command(command, path, work), ok=(0, 1)))
                _say(documents, f"{command} ({state})", runs.seconds[-1])
            figures[f"{command} ({state})"] = runs.figures(against=ingest)
    figures["store MiB"] = round(tree_size(store) / 2**20)
    if (work / "site").is_dir():
        figures["site"] = site_figures(work / "site")
    return figures


def site_figures(site: Path) -> dict[str, int]:
    """A report site's files and MiB on disk."""
    return {"files": sum(1 for p in site.rglob("*") if p.is_file()), "MiB": round(tree_size(site) / 2**20)}


def render(results: dict[int, dict[str, object]]) -> str:
    """One Markdown row per command and size: median wall time, ratio to ingest, CPU, RSS."""
    lines = [
        "| documents | command | store | median s | × ingest | CPU s | CPU × ingest CPU | peak RSS MiB |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for documents, figures in results.items():
        for name, value in figures.items():
            if not isinstance(value, dict) or "median s" not in value:
                continue
            command, _, state = name.partition(" (")
            lines.append(
                f"| {documents:,} | {command} | {state.rstrip(')') or '–'} | {value['median s']} | "
                f"{value.get('/ ingest', 1.0)} | {value['median CPU s']} | {value.get('CPU / ingest CPU', 1.0)} | "
                f"{value['peak RSS MiB']} |"
            )
    return "\n".join(lines)


def publish_command(name: str, store: Path, work: Path) -> list[str]:
    if name == "validate":
        return [*GRAPHBUILD, "validate", "--store", str(store)]
    return [*GRAPHBUILD, "report", "--store", str(store), "--output", str(work / "site")]


def timed(command: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of a command with its worker processes,
    and its last line of output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=REPO)
        # wait4's usage covers the child and the processes it waited for (its workers).
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        lines = out.read().decode().strip().splitlines()
        if os.waitstatus_to_exitcode(status) not in ok:
            raise SystemExit(f"{' '.join(command)} failed:\n{err.read().decode()}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def _say(documents: int, stage: str, seconds: float) -> None:
    print(f"{documents} {stage}: {seconds:.1f} s", file=sys.stderr, flush=True)


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
