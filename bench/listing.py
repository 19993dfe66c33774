"""What listing a corpus costs before ingest writes anything, two checkouts side by side.

    python bench/listing.py --corpus DIR --baseline CHECKOUT [--repeat 3]

Each run is a process of its own importing graphbuild from one checkout (the editable
install's finder set aside): ``find_sources`` of the corpus folder, the progress's
``Advance`` over the sources, then the preparing processes' runs (the list checked again
and cut by ``runs_of_files``), as ``ingest`` does before its first document. The two
checkouts alternate, ``--repeat`` times each. Prints the median seconds of each step and
the resident memory the three leave held, and the ratios current / baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import json, sys, time
checkout, corpus = sys.argv[1], sys.argv[2]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, checkout)
import graphbuild
assert graphbuild.__file__.startswith(checkout), graphbuild.__file__
from graphbuild.pipeline import prepare
from graphbuild.readers import find_sources
from graphbuild.workers.processes import runs_of_files

def rss():
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024

before, began = rss(), time.perf_counter()
sources = find_sources([corpus])
listed = time.perf_counter()
advance = prepare.Advance(None, sources)
advanced = time.perf_counter()
runs = runs_of_files(find_sources(sources), 2, files=prepare._RUN_FILES, size=prepare._RUN_BYTES)
cut = time.perf_counter()
print(json.dumps({
    "sources": len(sources), "find_sources": listed - began, "Advance": advanced - listed,
    "runs": cut - advanced, "held MiB": rss() - before,
}))
"""


def measure(checkout: Path, corpus: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(checkout.resolve()), str(corpus)], check=True, capture_output=True, text=True
    )
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of documents, as ingest is given")
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the commit to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    current = Path(__file__).resolve().parent.parent
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "current": []}
    for _ in range(args.repeat):
        for name, checkout in (("baseline", args.baseline), ("current", current)):
            runs[name].append(measure(checkout, args.corpus))
            print(f"{name}: {json.dumps(runs[name][-1])}", file=sys.stderr)
    steps = ["find_sources", "Advance", "runs", "held MiB"]
    medians = {name: {step: statistics.median(r[step] for r in results) for step in steps} for name, results in runs.items()}
    sources = int(runs["current"][0]["sources"])
    print(f"| {sources:,} sources, median of {args.repeat} | find_sources | Advance | runs | memory held |")
    print("|---|---:|---:|---:|---:|")
    for name, figures in medians.items():
        print(
            f"| {name} | {figures['find_sources']:.1f} s | {figures['Advance']:.1f} s | "
            f"{figures['runs']:.1f} s | {figures['held MiB']:,.0f} MiB |"
        )
    ratios = " | ".join(
        f"{medians['current'][s] / medians['baseline'][s]:.2f}" if medians["baseline"][s] > 0 else "–" for s in steps
    )
    print(f"| current / baseline | {ratios} |")


if __name__ == "__main__":
    main()
