"""Synthetic corpora with the shape of the SciGraph x Spotlight sample, for benchmarks.

Measured on the sample: ~14 mentions per abstract of ~150 words (~1,000 characters),
resources drawn Zipf-like from ~50,000 DBpedia IRIs, surface forms repeated within and
across documents. Written in the seed's summary format (one .txt per document, in
sub-folders of 1,000) and as one JSON Lines file.

    python bench/generate.py OUT_DIR --documents 10000 [--seed 1] [--formats summary,jsonl,csv]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import json
import random
from pathlib import Path

RESOURCES = 50_000
MENTIONS = 14
TEXT_CHARS = 1_000
ZIPF_S = 1.05
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "xe", "zu", "bra", "cen", "dor", "fil", "gan", "hep", "tor"]
_FILLER = (
    "the of and in to a is that for with as on by this we are from be was were study results "
    "between these which an using our data model analysis based show method effect two high new"
).split()
_XSD_DOUBLE = "^^http://www.w3.org/2001/XMLSchema#double"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default="summary,jsonl,csv")
    args = parser.parse_args()
    formats = set(args.formats.split(","))
    counts = generate(args.out, documents=args.documents, seed=args.seed, formats=formats)
    print(json.dumps(counts))


def generate(out: Path, *, documents: int, seed: int = 1, formats: set[str] = frozenset({"summary", "jsonl"})) -> dict:
    rng = random.Random(seed)
    surfaces = [_surface(rng, i) for i in range(RESOURCES)]
    cumulative = list(itertools.accumulate(1 / (rank + 1) ** ZIPF_S for rank in range(RESOURCES)))
    out.mkdir(parents=True, exist_ok=True)
    jsonl = (out / "corpus.jsonl").open("w", encoding="utf-8") if "jsonl" in formats else None
    tables = _Tables(out / "tables") if "csv" in formats else None
    mentions = 0
    try:
        for number in range(documents):
            doc_id = f"doc{number:07d}"
            text, links = _document(rng, surfaces, cumulative)
            mentions += len(links)
            if "summary" in formats:
                folder = out / "summary" / f"{number // 1000:04d}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{doc_id}.txt").write_text(_summary(text, links), encoding="utf-8")
            if jsonl is not None:
                record = {"id": doc_id, "text": text, "links": [{"surface": s, "uri": u, "confidence": c} for s, u, c, _ in links]}
                jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
            if tables is not None:
                tables.write(doc_id, text, links)
    finally:
        if jsonl is not None:
            jsonl.close()
        if tables is not None:
            tables.close()
    return {"documents": documents, "mentions": mentions, "out": str(out)}


class _Tables:
    """documents.csv (id, text, length) and mentions.csv (one row per mention, with offsets):
    the input of the RML mapping that Morph-KGC runs in the benchmark."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._docs = (folder / "documents.csv").open("w", encoding="utf-8", newline="")
        self._mentions = (folder / "mentions.csv").open("w", encoding="utf-8", newline="")
        self._doc_rows = csv.writer(self._docs)
        self._mention_rows = csv.writer(self._mentions)
        self._doc_rows.writerow(["id", "text", "length"])
        self._mention_rows.writerow(["doc", "length", "begin", "end", "surface", "uri", "confidence"])

    def write(self, doc_id: str, text: str, links: list[tuple[str, str, float, int]]) -> None:
        self._doc_rows.writerow([doc_id, text, len(text)])
        for surface, iri, confidence, begin in links:
            self._mention_rows.writerow([doc_id, len(text), begin, begin + len(surface), surface, iri, repr(confidence)])

    def close(self) -> None:
        self._docs.close()
        self._mentions.close()


def _surface(rng: random.Random, index: int) -> tuple[str, str]:
    words = [
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(rng.choice((1, 1, 2, 2, 3)))
    ]
    surface = " ".join(words)
    return surface, f"http://dbpedia.org/resource/{'_'.join(w.capitalize() for w in words)}_{index}"


def _document(
    rng: random.Random, surfaces: list[tuple[str, str]], cumulative: list[float]
) -> tuple[str, list[tuple[str, str, float, int]]]:
    """A text and its links as (surface, IRI, confidence, begin)."""
    total = cumulative[-1]
    picks = [bisect.bisect_left(cumulative, rng.random() * total) for _ in range(rng.randint(MENTIONS - 5, MENTIONS + 5))]
    words: list[str] = ["Abstract"]
    length = len(words[0])
    links = []
    for resource in picks:
        for _ in range(rng.randint(3, 12)):
            words.append(rng.choice(_FILLER))
            length += 1 + len(words[-1])
        surface, iri = surfaces[resource]
        words.append(surface)
        links.append((surface, iri, round(rng.uniform(0.45, 1.0), 12), length + 1))
        length += 1 + len(surface)
    while length < TEXT_CHARS:
        words.append(rng.choice(_FILLER))
        length += 1 + len(words[-1])
    text = " ".join(words) + "."
    rng.shuffle(links)
    return text, links


def _summary(text: str, links: list[tuple[str, str, float, int]]) -> str:
    rows = []
    for index, (surface, iri, confidence, _) in enumerate(links):
        number = f"{confidence!r}{_XSD_DOUBLE}"
        rows.append(surface.ljust(20 if index == 0 else 30) + number.ljust(70) + iri.ljust(50) + "\n")
    return text + "\n" + "\n".join(rows)


if __name__ == "__main__":
    main()
