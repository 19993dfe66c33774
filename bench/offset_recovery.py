"""Measure how well ``graphbuild.offsets.place_links`` recovers Spotlight's offsets.

For every non-empty summary file ``summary-by-entity/<field>/<id>.txt`` under CORPUS_DIR,
place its rows with ``place_links`` and compare the multiset of recovered
(begin, end, resource) with the true spans in ``nif/<field>/<id>.ttl``.

    python bench/offset_recovery.py [CORPUS_DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, parse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from graphbuild.model.records import Link  # noqa: E402
from graphbuild.pipeline.offsets import place_links  # noqa: E402

DEFAULT_CORPUS = "tests/data/corpora/scigraph-dbpedia-spotlight/sample-045"

# Kept local on purpose: the bench measures offsets.py alone, not the reader.
_ROW = re.compile(
    r"^(?P<sf>.*?)(?P<conf>1\.0|0\.\d+(?:[eE]-?\d+)?)\^\^http://www\.w3\.org/2001/XMLSchema#double"
    r"\s*(?P<uri>\S+)\s*$"
)
_NIF = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
_PHRASE = NamedNode(_NIF + "Phrase")
_BEGIN = NamedNode(_NIF + "beginIndex")
_END = NamedNode(_NIF + "endIndex")
_IDENT = NamedNode("http://www.w3.org/2005/11/its/rdf#taIdentRef")
_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

Span = tuple[int, int, str]


@dataclass
class Tally:
    files: int = 0
    mentions: int = 0
    matched: int = 0
    unplaced: int = 0
    ambiguous: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)


def read_summary(path: Path) -> tuple[str, list[Link]]:
    """The text (line 1) and the mention rows of one summary file."""
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    text = lines[0].removesuffix("\r")
    links = []
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        match = _ROW.match(line)
        if match is None:
            raise ValueError(f"{path}:{number}: cannot read row {line!r}")
        links.append(
            Link(surface=match["sf"].rstrip(), resource=match["uri"], confidence=float(match["conf"]), line=number)
        )
    return text, links


def read_nif_spans(path: Path) -> Counter[Span]:
    """The (begin, end, resource) of every nif:Phrase in one NIF Turtle file."""
    phrases: dict[object, dict[NamedNode, list[object]]] = {}
    kinds: dict[object, set[object]] = {}
    with path.open("rb") as stream:
        for triple in parse(stream, format=RdfFormat.TURTLE):
            if triple.predicate == _TYPE:
                kinds.setdefault(triple.subject, set()).add(triple.object)
            else:
                phrases.setdefault(triple.subject, {}).setdefault(triple.predicate, []).append(triple.object)
    spans: Counter[Span] = Counter()
    for subject, values in phrases.items():
        if _PHRASE not in kinds.get(subject, ()):
            continue
        begin, end = int(values[_BEGIN][0].value), int(values[_END][0].value)
        for resource in values.get(_IDENT, []):
            spans[begin, end, resource.value] += 1
    return spans


def measure(corpus: Path, tally: Tally, examples: int) -> None:
    for summary in sorted((corpus / "summary-by-entity").glob("*/*.txt")):
        if summary.stat().st_size == 0:
            continue
        text, links = read_summary(summary)
        nif = corpus / "nif" / summary.parent.name / (summary.stem + ".ttl")
        truth = read_nif_spans(nif)
        started = time.perf_counter()
        placed = place_links(text, links)
        tally.seconds += time.perf_counter() - started
        _score(tally, summary, text, placed, truth, examples)


def _score(tally: Tally, path: Path, text: str, placed: tuple[Link, ...], truth: Counter[Span], examples: int) -> None:
    tally.files += 1
    tally.mentions += len(placed)
    tally.unplaced += sum(not link.placed for link in placed)
    tally.ambiguous += sum(link.ambiguous for link in placed)
    got: Counter[Span] = Counter((link.begin, link.end, link.resource) for link in placed if link.placed)
    tally.matched += sum((got & truth).values())
    for begin, end, resource in sorted((got - truth).elements()):
        if len(tally.misses) < examples:
            wanted = sorted(f"{b}-{e}" for b, e, r in (truth - got).elements() if r == resource)
            tally.misses.append(
                f"{path.parent.name}/{path.stem}: {text[begin:end]!r} -> {resource.rsplit('/', 1)[-1]}"
                f" placed at {begin}-{end}, truth at {', '.join(wanted) or '?'}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS, help="corpus dir (relative to the repo root)")
    parser.add_argument("--examples", type=int, default=8, help="how many misses to print")
    args = parser.parse_args(argv)
    corpus = (REPO / args.corpus).resolve()
    tally = Tally()
    measure(corpus, tally, args.examples)
    percent = 100.0 * tally.matched / tally.mentions if tally.mentions else 0.0
    print(f"corpus     {corpus}")
    print(f"files      {tally.files}")
    print(f"mentions   {tally.mentions}")
    print(f"matched    {tally.matched}  ({percent:.2f}% exact (begin, end, resource))")
    print(f"unplaced   {tally.unplaced}")
    print(f"ambiguous  {tally.ambiguous}")
    per_file = 1e6 * tally.seconds / max(tally.files, 1)
    print(f"time       {1e3 * tally.seconds:.1f} ms in place_links ({per_file:.0f} µs/file)")
    for miss in tally.misses:
        print(f"  miss: {miss}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
