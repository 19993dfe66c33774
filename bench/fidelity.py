"""Measure NIF fidelity: each corpus in, NIF out, every mention back.

For each corpus under CORPORA_DIR: ingest its NIF files into a fresh temporary store with
graphbuild's library (as ``graphbuild ingest`` does), export the store as N-Quads with
graphbuild's exporter, and compare the mentions of every document as (anchor, begin, end,
resource, confidence), read independently from the source files and from the export
(pyoxigraph only, no graphbuild reader). A source mention that does not come back as it
was must be one graphbuild reported a repair for (same phrase IRI); any other is lost.
Document and mention counts are checked against the figures in each corpus's SOURCE.md.
Then the seed abstract read from its summary file and from its NIF must give the same
mentions.

    python bench/fidelity.py [CORPORA_DIR]        (default tests/data/corpora)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, parse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from graphbuild.model.records import RepairKind  # noqa: E402
from graphbuild.output.rdf import ExportFormat, export  # noqa: E402
from graphbuild.pipeline.ingest import ingest  # noqa: E402
from graphbuild.store.embedded import EmbeddedStore  # noqa: E402

NIF = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
ITS = "http://www.w3.org/2005/11/its/rdf#"
IDENTIFIER = "http://purl.org/dc/terms/identifier"

Mention = tuple[str, int | None, int | None, str, float | None]


@dataclass(frozen=True)
class Corpus:
    name: str
    paths: tuple[str, ...]  # relative to CORPORA_DIR
    documents: int  # as stated in the corpus's SOURCE.md
    mentions: int


CORPORA = (
    # scigraph-dbpedia-spotlight/SOURCE.md: "264 files = 257 distinct documents … 3,734 distinct annotation nodes"
    Corpus("SciGraph sample-045", ("scigraph-dbpedia-spotlight/sample-045/nif",), 257, 3734),
    # kore50-nif/SOURCE.md: "50 documents (sentences), 144 annotations"
    Corpus("KORE50", ("kore50-nif/kore50-nif.ttl",), 50, 144),
    # n3-collection/SOURCE.md, table of counts
    Corpus("Reuters-128", ("n3-collection/Reuters-128.ttl",), 128, 880),
    Corpus("RSS-500", ("n3-collection/RSS-500.ttl",), 500, 1000),
    Corpus("News-100", ("n3-collection/News-100.ttl",), 100, 1655),
)
SEEDS = (
    ("seed 0.45", "6a999a4d423d02b92a41b4226eb2.conf045.summary.txt", "6a999a4d423d02b92a41b4226eb2.conf045.nif.ttl"),
    ("seed 0.35", "6a999a4d423d02b92a41b4226eb2.conf035.summary.txt", "6a999a4d423d02b92a41b4226eb2.conf035.nif.ttl"),
)


@dataclass
class Row:
    corpus: Corpus
    files: int = 0
    documents: int = 0
    source_mentions: int = 0
    mentions: int = 0
    exact: int = 0
    repaired: int = 0
    lost: int = 0
    extra: int = 0
    anchors_equal_text: int = 0
    outside_dbpedia: Counter[str] = field(default_factory=Counter)
    repairs: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="?", default=str(REPO / "tests" / "data" / "corpora"))
    root = Path(parser.parse_args().corpora)
    rows = [measure(corpus, root) for corpus in CORPORA]
    print_table(rows)
    print()
    for label, summary, nif in SEEDS:
        print(seed_line(label, root / "scigraph-dbpedia-spotlight" / "seed-abstract", summary, nif))
    failed = any(
        r.lost or r.extra or r.documents != r.corpus.documents or r.mentions != r.corpus.mentions for r in rows
    )
    sys.exit(1 if failed else 0)


def measure(corpus: Corpus, root: Path) -> Row:
    row = Row(corpus)
    files = [p for rel in corpus.paths for p in _nif_files(root / rel)]
    row.files = len(files)
    source = _source_mentions(files)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with EmbeddedStore.open(Path(tmp) / "store") as store:
            report = ingest(files, store=store)
            export(store, Path(tmp) / "out.nq", format=ExportFormat.NQUADS)
        row.seconds = time.perf_counter() - started
        exported, texts = _exported_mentions(Path(tmp) / "out.nq")
    assert not report.errors, report.errors
    repaired_iris = {r.subject for r in report.repairs if r.subject}
    row.repairs = Counter(r.kind.value for r in report.repairs)
    row.documents = len(exported)
    row.source_mentions = sum(len(m) for m in source.values())
    for doc_id, mentions in exported.items():
        row.mentions += len(mentions)
        text = texts[doc_id]
        row.anchors_equal_text += sum(1 for a, b, e, _, _ in mentions if b is not None and text[b:e] == a)
        row.outside_dbpedia.update(
            _host(r) for *_, r, _ in mentions if not r.startswith("http://dbpedia.org/resource/")
        )
    for doc_id, stated in source.items():
        back = Counter(exported.get(doc_id, []))
        unmatched = []
        for iri, mention in stated.items():
            if back[mention] > 0:
                back[mention] -= 1
                row.exact += 1
            else:
                unmatched.append(iri)
        row.repaired += sum(1 for iri in unmatched if iri in repaired_iris)
        row.lost += sum(1 for iri in unmatched if iri not in repaired_iris)
        row.extra += max(0, sum(back.values()) - sum(1 for iri in unmatched if iri in repaired_iris))
    return row


def _host(resource: str) -> str:
    return "aksw.org/notInWiki" if "/notInWiki/" in resource else resource.split("/")[2]


def _nif_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.ttl")) if path.is_dir() else [path]


def _source_mentions(files: list[Path]) -> dict[str, dict[str, Mention]]:
    """doc id (context IRI without fragment) -> phrase IRI -> mention, as the files state them."""
    docs: dict[str, dict[str, Mention]] = defaultdict(dict)
    for path in files:
        phrases = _by_subject(parse(path=str(path), format=RdfFormat.TURTLE))
        for subject, props in phrases.items():
            if NIF + "referenceContext" not in props or ITS + "taIdentRef" not in props:
                continue
            doc_id = props[NIF + "referenceContext"][0].value.split("#", 1)[0]
            docs[doc_id][subject] = _mention(props)
    return docs


def _exported_mentions(path: Path) -> tuple[dict[str, list[Mention]], dict[str, str]]:
    quads = list(parse(path=str(path), format=RdfFormat.N_QUADS))
    ids = {
        q.graph_name.value: q.object.value
        for q in quads
        if q.predicate.value == IDENTIFIER and q.subject == q.graph_name
    }
    by_graph: dict[str, list] = defaultdict(list)
    for quad in quads:
        if quad.graph_name.value in ids:
            by_graph[quad.graph_name.value].append(quad)
    mentions: dict[str, list[Mention]] = {}
    texts: dict[str, str] = {}
    for graph, graph_quads in by_graph.items():
        subjects = _by_subject(graph_quads)
        doc_id = ids[graph]
        mentions[doc_id] = []
        for props in subjects.values():
            if NIF + "isString" in props:
                texts[doc_id] = props[NIF + "isString"][0].value
            if ITS + "taIdentRef" in props:
                mentions[doc_id].append(_mention(props))
    return mentions, texts


def _by_subject(quads) -> dict[str, dict[str, list]]:
    subjects: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for quad in quads:
        if isinstance(quad.subject, NamedNode):
            subjects[quad.subject.value][quad.predicate.value].append(quad.object)
    return subjects


def _mention(props: dict[str, list]) -> Mention:
    def one(predicate: str) -> Literal | None:
        values = props.get(predicate)
        return values[0] if values else None

    anchor = one(NIF + "anchorOf") or one("https://w3id.org/graphbuild/ns#surfaceForm")
    begin, end, confidence = one(NIF + "beginIndex"), one(NIF + "endIndex"), one(ITS + "taConfidence")
    return (
        anchor.value if anchor else "",
        int(begin.value) if begin else None,
        int(end.value) if end else None,
        props[ITS + "taIdentRef"][0].value,
        float(confidence.value) if confidence else None,
    )


def seed_line(label: str, folder: Path, summary: str, nif: str) -> str:
    found = {}
    for path in (folder / summary, folder / nif):
        with tempfile.TemporaryDirectory() as tmp:
            with EmbeddedStore.open(Path(tmp) / "store") as store:
                ingest([path], store=store)
                export(store, Path(tmp) / "out.nq", format=ExportFormat.NQUADS)
            mentions, _ = _exported_mentions(Path(tmp) / "out.nq")
        found[path.name] = Counter(m for ms in mentions.values() for m in ms)
    a, b = found[summary], found[nif]
    same = "same mentions" if a == b else f"DIFFER: {sorted((a - b).elements())} vs {sorted((b - a).elements())}"
    return (
        f"{label}: summary {sum(a.values())} mentions, NIF {sum(b.values())} mentions "
        f"(anchor, begin, end, resource, confidence): {same}"
    )


def print_table(rows: list[Row]) -> None:
    head = (
        "corpus",
        "files",
        "docs (SOURCE.md)",
        "docs back",
        "mentions (SOURCE.md)",
        "mentions back",
        "exact",
        "repaired",
        "lost",
        "extra",
        "anchor = text",
        "seconds",
    )
    lines = [head]
    for r in rows:
        lines.append(
            (
                r.corpus.name,
                str(r.files),
                f"{r.corpus.documents:,}",
                f"{r.documents:,}",
                f"{r.corpus.mentions:,}",
                f"{r.mentions:,}",
                f"{r.exact:,}",
                str(r.repaired),
                str(r.lost),
                str(r.extra),
                f"{r.anchors_equal_text:,}/{r.mentions:,}",
                f"{r.seconds:.1f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for index, line in enumerate(lines):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print()
    kinds = [k.value for k in RepairKind]
    for r in rows:
        shown = ", ".join(f"{r.repairs[k]} {k}" for k in kinds if r.repairs[k])
        kept = ", ".join(f"{n:,} {host}" for host, n in r.outside_dbpedia.most_common())
        print(
            f"{r.corpus.name}: repairs reported: {shown or 'none'}; "
            f"links outside dbpedia.org kept as stated: {kept or 'none'}"
        )


if __name__ == "__main__":
    main()
