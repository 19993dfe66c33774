"""Offset recovery on one huge document with one link: time and peak memory per shape.

Each shape runs in a process of its own, so that its peak resident size is its own:

    python bench/hostile_offsets.py [--mb 50] [SHAPE ...]

Shapes (a text of about MB megabytes, one summary row):
    abstract  the seed abstract repeated, row "pain" (non-ASCII: two U+2019)
    dotted    the same with "İstanbul" (İ lowers to two code points) after each copy
    words     "pain " repeated, row "pain": millions of free occurrences
    same      "a" repeated, row "a": millions of occurrences, none of them a whole word
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SHAPES = ("abstract", "dotted", "words", "same")


def text_of(shape: str, size: int) -> tuple[str, str]:
    """A text of about ``size`` code points and the surface form of its one row."""
    seed = (REPO / "seeds" / "000_70018b3530a68054.txt").read_text(encoding="utf-8").split("\n")[0]
    if shape == "abstract":
        return (seed + " ") * (size // (len(seed) + 1)), "pain"
    if shape == "dotted":
        return (seed + " İstanbul ") * (size // (len(seed) + 10)), "pain"
    if shape == "words":
        return "pain " * (size // 5), "pain"
    return "a" * size, "a"


def measure(shape: str, mb: int) -> dict[str, object]:
    """In this process: build the text, place the row, report seconds and peak MiB."""
    from graphbuild.model.records import Link
    from graphbuild.pipeline.offsets import place_links

    text, surface = text_of(shape, mb * 1_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    (link,) = place_links(text, [Link(surface, "http://dbpedia.org/resource/X", 0.5)])
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "shape": shape,
        "mb": mb,
        "seconds": round(seconds, 2),
        "peak_mib": round(peak / 1024),
        "text_mib": round(before / 1024),
        "placed": [link.begin, link.end, link.ambiguous],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shapes", nargs="*", metavar="SHAPE", help=", ".join(SHAPES))
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.shapes = args.shapes or list(SHAPES)
    if args.one:
        print(json.dumps(measure(args.shapes[0], args.mb)))
        return
    print(f"{'shape':<10}{'MB':>5}{'seconds':>10}{'peak MiB':>10}{'of which text':>15}")
    for shape in args.shapes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--mb", str(args.mb), shape], capture_output=True, text=True, check=True
        ).stdout
        row = json.loads(out)
        print(f"{shape:<10}{row['mb']:>5}{row['seconds']:>10}{row['peak_mib']:>10}{row['text_mib']:>15}")


if __name__ == "__main__":
    main()
