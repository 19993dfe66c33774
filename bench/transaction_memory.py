"""What writing through transactions costs in memory, with and without flushing RocksDB's
write buffers, side by side in one run.

    python bench/transaction_memory.py [--quads 10000000] [--batch 50000] [--work DIR]

Each variant runs in a process of its own on a fresh on-disk store, through graphbuild's
store layer (``EmbeddedStore.add``: one transaction per batch, as enrich writes): quads of
the shape of the per-resource figures (a resource IRI, a graphbuild predicate, a number) in
one named graph. ``flushed`` is graphbuild as it is (the buffers flushed after every
``_FLUSH_AFTER_QUADS`` quads); ``unflushed`` never flushes until the store closes. Prints
the wall time, CPU time and peak resident memory of each, and their ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from pyoxigraph import Literal, NamedNode, Quad
from graphbuild.store import embedded
quads, batch, path, flushed = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] == "flushed"
if not flushed:
    embedded._FLUSH_AFTER_QUADS = quads + 1
graph = NamedNode("https://w3id.org/graphbuild/graph/figures")
predicates = [NamedNode(f"https://w3id.org/graphbuild/ns#p{i}") for i in range(5)]
start, cpu = time.perf_counter(), time.process_time()
with embedded.EmbeddedStore.open(path) as store:
    for first in range(0, quads, batch):
        store.add([
            Quad(NamedNode(f"http://dbpedia.org/resource/R_{i}"), predicates[i % 5], Literal(i), graph)
            for i in range(first, min(first + batch, quads))
        ])
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "cpu": time.process_time() - cpu,
    "peak MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
}))
"""


def run(variant: str, quads: int, batch: int, work: Path) -> dict[str, float]:
    store = work / variant
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(quads), str(batch), str(store), variant],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quads", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        results = {}
        for variant in ("unflushed", "flushed"):
            began = time.strftime("%H:%M:%S")
            results[variant] = run(variant, args.quads, args.batch, Path(tmp))
            print(f"{variant} (from {began}): {json.dumps(results[variant])}", file=sys.stderr)
    print(f"| {args.quads:,} quads in transactions of {args.batch:,} | wall | CPU | peak RSS |")
    print("|---|---:|---:|---:|")
    for variant, figures in results.items():
        print(f"| {variant} | {figures['seconds']:.1f} s | {figures['cpu']:.1f} s | {figures['peak MiB']:,.0f} MiB |")
    flushed, unflushed = results["flushed"], results["unflushed"]
    print(
        f"| flushed / unflushed | {flushed['seconds'] / unflushed['seconds']:.2f} | "
        f"{flushed['cpu'] / unflushed['cpu']:.2f} | {flushed['peak MiB'] / unflushed['peak MiB']:.2f} |"
    )


if __name__ == "__main__":
    main()
