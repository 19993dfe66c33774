"""Synthetic corpora with the shape of the SciGraph x Spotlight sample, for benchmarks.

Measured on the sample: ~14 mentions per abstract of ~150 words (~1,000 characters),
resources drawn Zipf-like from ~50,000 DBpedia IRIs, surface forms repeated within and
across documents. Written in the seed's summary format (one .txt per document, in
sub-folders of 1,000) and as one JSON Lines file.

Beside the corpus, ``enrichment.nt.gz`` is a synthetic DBpedia dump (N-Triples, gzip) about
every resource the corpus links to, for ``graphbuild enrich --from``: an English label from
the IRI's local name (its ``_N`` index left out, so that it matches the surface forms), 1-3
types drawn Zipf-like from 200 classes ``dbo:Class0..199``; 5% of the resources redirect to
another one, 2% are disambiguation pages listing 3 others (none of them among the 100 most
linked), 20% have a page redirecting to them (``…_(alt)``, with a lower-cased label), and
3% have a label unlike their surface forms (what suspicious-links reports).

    python bench/generate.py OUT_DIR --documents 10000 [--seed 1] [--formats summary,jsonl,csv,enrichment]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import gzip
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
ENRICHMENT = "enrichment.nt.gz"
CLASSES = 200
CLASS_ZIPF_S = 1.0
REDIRECT_SHARE = 0.05
DISAMBIGUATION_SHARE = 0.02
REDIRECTED_TO_SHARE = 0.20
MISLABELLED_SHARE = 0.03
ARTICLES = 100  # the most linked resources are articles: never redirects or disambiguation pages
_DBO = "http://dbpedia.org/ontology/"
_LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_REDIRECTS = f"<{_DBO}wikiPageRedirects>"
_DISAMBIGUATES = f"<{_DBO}wikiPageDisambiguates>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default="summary,jsonl,csv,enrichment")
    args = parser.parse_args()
    formats = set(args.formats.split(","))
    counts = generate(args.out, documents=args.documents, seed=args.seed, formats=formats)
    print(json.dumps(counts))


def generate(
    out: Path, *, documents: int, seed: int = 1, formats: set[str] = frozenset({"summary", "jsonl", "enrichment"})
) -> dict:
    """Write the corpus in ``formats``; with ``enrichment`` only, the documents are drawn (the
    same ones, from the same seed) but not written, and only the dump is."""
    rng = random.Random(seed)
    surfaces = [_surface(rng, i) for i in range(RESOURCES)]
    cumulative = list(itertools.accumulate(1 / (rank + 1) ** ZIPF_S for rank in range(RESOURCES)))
    out.mkdir(parents=True, exist_ok=True)
    jsonl = (out / "corpus.jsonl").open("w", encoding="utf-8") if "jsonl" in formats else None
    tables = _Tables(out / "tables") if "csv" in formats else None
    mentions = 0
    linked: set[str] = set()
    try:
        for number in range(documents):
            doc_id = f"doc{number:07d}"
            text, links = _document(rng, surfaces, cumulative)
            mentions += len(links)
            linked.update(iri for _, iri, _, _ in links)
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
    counts = {"documents": documents, "mentions": mentions, "resources": len(linked), "out": str(out)}
    if "enrichment" in formats:
        resources = [iri for _, iri in surfaces if iri in linked]
        counts["enrichment triples"] = write_enrichment(out / ENRICHMENT, resources, seed=seed)
    return counts


def write_enrichment(path: Path, iris: list[str], *, seed: int) -> int:
    """A DBpedia-like dump about the resources ``iris``; returns its triple count.

    Its own random stream, so that the corpus drawn from ``seed`` stays what it was."""
    rng = random.Random(f"enrichment-{seed}")
    classes = list(itertools.accumulate(1 / (rank + 1) ** CLASS_ZIPF_S for rank in range(CLASSES)))
    triples = 0
    # mtime 0: the same seed gives the same bytes
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as packed:
        for index, iri in enumerate(iris):
            lines = _resource_lines(rng, iri, index, iris, classes)
            packed.write("".join(lines).encode("utf-8"))
            triples += len(lines)
    return triples


def _resource_lines(rng: random.Random, iri: str, index: int, iris: list[str], classes: list[float]) -> list[str]:
    name = _label(iri)
    if rng.random() < MISLABELLED_SHARE:
        name = " ".join(_word(rng).capitalize() for _ in range(rng.randint(1, 3)))
    lines = [f'<{iri}> {_LABEL} "{name}"@en .\n']
    picked: set[int] = set()
    for _ in range(rng.randint(1, 3)):
        picked.add(bisect.bisect_left(classes, rng.random() * classes[-1]))
    lines += [f"<{iri}> {_TYPE} <{_DBO}Class{c}> .\n" for c in sorted(picked)]
    enough = len(iris) > 3 and _rank(iri) >= ARTICLES
    kind = rng.random()
    if enough and kind < REDIRECT_SHARE:
        lines.append(f"<{iri}> {_REDIRECTS} <{_other(rng, iris, index)}> .\n")
    elif enough and kind < REDIRECT_SHARE + DISAMBIGUATION_SHARE:
        options: set[str] = set()
        while len(options) < 3:
            options.add(_other(rng, iris, index))
        lines += [f"<{iri}> {_DISAMBIGUATES} <{option}> .\n" for option in sorted(options)]
    if rng.random() < REDIRECTED_TO_SHARE:
        alt = f"{iri}_(alt)"
        lines.append(f"<{alt}> {_REDIRECTS} <{iri}> .\n")
        lines.append(f'<{alt}> {_LABEL} "{name.lower()}"@en .\n')
    return lines


def _other(rng: random.Random, iris: list[str], index: int) -> str:
    """Another resource than ``iris[index]`` (there are at least two)."""
    pick = rng.randrange(len(iris) - 1)
    return iris[pick + 1 if pick >= index else pick]


def _rank(iri: str) -> int:
    return int(iri.rsplit("_", 1)[1])


def _label(iri: str) -> str:
    """``…/Kalo_Mine_12`` -> ``Kalo Mine``: the generator's index is not part of the name."""
    local = iri.rsplit("/", 1)[1]
    return local.rsplit("_", 1)[0].replace("_", " ")


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
    words = [_word(rng) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    surface = " ".join(words)
    return surface, f"http://dbpedia.org/resource/{'_'.join(w.capitalize() for w in words)}_{index}"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


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
