"""How long `graphbuild validate` takes, and how much memory it holds, on a real store.

Ingests the inputs with `graphbuild ingest` into a fresh on-disk store (timed apart),
then runs `graphbuild validate` on it as a user would (a child process, wall time), once
per --jobs value. Peak memory is the largest resident set of the validating processes
(GNU time, /usr/bin/time).
With --documents N, a synthetic corpus of N SciGraph-like abstracts (bench/generate.py)
is added to the inputs, to show time per document and that memory does not grow.

    python bench/validate_speed.py [INPUT ...] [--jobs 1,2] [--documents N] [--work DIR] [--keep]

Default inputs: seeds/ and the SciGraph sample's summaries,
tests/data/corpora/scigraph-dbpedia-spotlight/sample-045/summary-by-entity.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INPUTS = [REPO / "seeds", REPO / "tests/data/corpora/scigraph-dbpedia-spotlight/sample-045/summary-by-entity"]
GRAPHBUILD = [sys.executable, "-m", "graphbuild"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", type=Path, default=DEFAULT_INPUTS)
    parser.add_argument("--jobs", default="1,2", help="Comma-separated --jobs values to time (default 1,2).")
    parser.add_argument("--documents", type=int, default=0, help="Add this many synthetic documents.")
    parser.add_argument("--work", type=Path, help="Folder for the store (default: a temporary one).")
    parser.add_argument("--keep", action="store_true", help="Keep the store.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="validate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        inputs = [p.resolve() for p in args.inputs]
        if args.documents:
            inputs.append(_synthetic(work / "corpus", args.documents))
        figures = measure(work / "store", inputs, [int(j) for j in args.jobs.split(",")])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures, indent=2))


def measure(store: Path, inputs: list[Path], jobs: list[int]) -> dict[str, object]:
    started = time.perf_counter()
    ingest = _run([*GRAPHBUILD, "ingest", *map(str, inputs), "--store", str(store), "--quiet"])
    figures: dict[str, object] = {
        "inputs": [str(p) for p in inputs],
        "ingest": ingest.stdout.strip(),
        "ingest_seconds": round(time.perf_counter() - started, 2),
    }
    for job in jobs:
        started, cpu = time.perf_counter(), _children_cpu()
        # GNU time's %M: the largest resident set among the validating process and its workers.
        command = [*GRAPHBUILD, "validate", "--store", str(store), "--jobs", str(job)]
        result = _run(["/usr/bin/time", "-f", "%M", *command], ok=(0, 1))
        seconds = time.perf_counter() - started
        cpu = _children_cpu() - cpu
        summary = result.stdout.strip().splitlines()[-1]
        figures[f"validate_jobs_{job}"] = {
            "summary": summary,
            "exit": result.returncode,
            "seconds": round(seconds, 2),
            # CPU time of the validating processes, all workers together: steadier than wall
            # time on a busy machine.
            "cpu_seconds": round(cpu, 2),
            "cpu_ms_per_mention": round(1000 * cpu / max(1, _mentions(summary)), 2),
            "documents_per_second": round(int(summary.split()[0].replace(",", "")) / seconds, 1),
            "peak_rss_mib": round(int(result.stderr.strip().splitlines()[-1]) / 1024, 1),
        }
    return figures


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _mentions(summary: str) -> int:
    # "243 documents, 3,411 mentions checked: …"
    return int(summary.split(", ")[1].split()[0].replace(",", ""))


def _synthetic(folder: Path, documents: int) -> Path:
    _run(
        [
            sys.executable,
            str(REPO / "bench" / "generate.py"),
            str(folder),
            "--documents",
            str(documents),
            "--formats",
            "summary",
        ]
    )
    return folder


def _run(command: list[str], ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    if result.returncode not in ok:
        sys.exit(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")
    return result


if __name__ == "__main__":
    main()
