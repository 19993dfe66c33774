from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
import rdflib
from conftest import DATA, ROOT, SEED
from rdflib.compare import isomorphic

from graphbuild.model.quads import document_iri, document_quads, provenance_nquads, run_iri
from graphbuild.model.records import Document, Link
from graphbuild.model.vocab import DEFAULT_BASE, METADATA_GRAPH
from graphbuild.pipeline.offsets import place_links
from graphbuild.readers import read_documents
from graphbuild.readers.summary import parse_summary

GOLDEN = DATA / "golden" / "000_70018b3530a68054.ttl"


def _seed() -> Document:
    doc = parse_summary(SEED.read_bytes(), source=str(SEED), doc_id=SEED.stem)
    assert isinstance(doc, Document)
    return replace(doc, links=place_links(doc.text, doc.links))


def _as_rdflib(quads: tuple) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data="\n".join(f"{q.triple} ." for q in quads), format="nt")
    return graph


def test_seed_graph_matches_golden_file() -> None:
    graph = document_quads(_seed(), base=DEFAULT_BASE)
    assert len(graph.quads) == 146
    golden = rdflib.Graph().parse(GOLDEN, format="turtle")
    assert isomorphic(_as_rdflib(graph.quads), golden)


def test_all_quads_live_in_the_document_graph() -> None:
    graph = document_quads(_seed(), base=DEFAULT_BASE)
    assert {q.graph_name.value for q in graph.quads} == {graph.iri}
    assert graph.iri != METADATA_GRAPH.value


def test_same_input_gives_same_quads_and_hash() -> None:
    first, second = document_quads(_seed(), base=DEFAULT_BASE), document_quads(_seed(), base=DEFAULT_BASE)
    assert first.quads == second.quads
    assert first.content_hash == second.content_hash


def test_hash_follows_content() -> None:
    doc = _seed()
    changed = replace(doc, links=doc.links[:-1])
    assert document_quads(doc, base=DEFAULT_BASE).content_hash != document_quads(changed, base=DEFAULT_BASE).content_hash


@pytest.mark.parametrize(
    ("doc_id", "iri"),
    [
        ("000_70018b3530a68054", DEFAULT_BASE + "000_70018b3530a68054"),
        ("a b/c", DEFAULT_BASE + "a%20b%2Fc"),
        ("Zürich#1", DEFAULT_BASE + "Z%C3%BCrich%231"),
    ],
)
def test_document_iri_is_percent_encoded(doc_id: str, iri: str) -> None:
    assert document_iri(doc_id, DEFAULT_BASE).value == iri


def test_mention_iris_use_rfc5147_offsets_in_code_points() -> None:
    doc = Document("d", "Zürich is in Switzerland.", (Link("Switzerland", "http://dbpedia.org/resource/Switzerland", 0.9, 13, 24),))
    graph = document_quads(doc, base="http://example.org/")
    subjects = {q.subject.value for q in graph.quads}
    assert subjects == {"http://example.org/d", "http://example.org/d#char=0,25", "http://example.org/d#char=13,24"}
    assert (graph.mentions, graph.unplaced) == (1, 0)


def test_unplaced_links_are_numbered_annotations() -> None:
    links = (Link("x", "http://dbpedia.org/resource/X", 0.5), Link("y", "http://dbpedia.org/resource/Y", None))
    graph = document_quads(Document("d", "no match here", links), base="http://example.org/")
    topics = sorted(q.object.value for q in graph.quads if q.predicate.value.endswith("#topic"))
    assert topics == ["http://example.org/d#annotation-1", "http://example.org/d#annotation-2"]
    assert (graph.mentions, graph.unplaced) == (0, 2)
    confidences = [q for q in graph.quads if q.predicate.value.endswith("taConfidence")]
    assert len(confidences) == 1


# Content hashes of documents read, placed and modelled by graphbuild 0.1.0 before its
# N-Quads writer was rewritten for speed. They are the documents' identity in a store (an
# unchanged hash skips the document on re-ingest), so the bytes must never drift: every
# line, its order and its escapes. Summary rows (offsets recovered, one ambiguous), Spotlight
# types and scores, NIF annotations, escaped quotes, a U+2028 in a text, a non-ASCII IRI.
PINNED_HASHES = [
    ("seeds/000_70018b3530a68054.txt", '000_70018b3530a68054', "f811ff4a9949fe427784c9029e085a7b9839a642082d2cc1c6784b0fe4ad5458"),
    ("tests/data/spotlight/good/berlin.json", 'berlin', "d237d2a5318363b4cdf1e9375a94698e4758d9b125c9834c749ebd688e25d6bd"),
    ("tests/data/nif/good/rss-500-edited.ttl", 'http://aksw.org/N3/RSS-500/221', "041a0610dfffd9641aa8cee08f97aa1024d348f997f36c29c0b413756dd3f251"),
    ("tests/data/nif/good/rss-500-edited.ttl", 'http://aksw.org/N3/RSS-500/178', "c0c1ab1ad3e8566d700421642c61cb2cc52fb31f17d4c0abcd79c4ece935b987"),
    ("tests/data/jsonl/good/scigraph-03870b9a944aae2e7bf41938775a.jsonl", 'http://www.springernature.com/scigraph/things/articles/03870b9a944aae2e7bf41938775a', "332f83f58278bd4da5bd67fc37a050730ffd4594b84e8d3eb01c9b944788fd45"),
    ("tests/data/summary/good/line_separator_in_text.txt", 'line_separator_in_text', "6f4692da8de2e44e97f70b73af3e6b832f33bfa002a00d16d161bc42d1455275"),
    ("tests/data/summary/good/nonascii_iri.txt", 'nonascii_iri', "55d4a4973445ee90e24ea9ccd560b4ae9a58b3794d1faf6775154baf5ae6bade"),
    ("tests/data/csv/good/scigraph-no-offsets.csv", '6a999a4d423d02b92a41b4226eb2', "20feb93613e63a7f1c2d2bd264fb4556f129821877c2bbbc352e882c1a1970db"),
    ("tests/data/csv/good/scigraph-no-offsets.csv", 'http://www.springernature.com/scigraph/things/articles/03870b9a944aae2e7bf41938775a', "fc0bdb2a4387944501a272084630835d21cf2c992e45907c4e140a30806c5685"),
]


@pytest.mark.parametrize(("path", "doc_id", "digest"), PINNED_HASHES)
def test_content_hashes_do_not_drift(path: str, doc_id: str, digest: str) -> None:
    docs = {d.id: d for d in read_documents([ROOT / path]) if isinstance(d, Document)}
    doc = docs[doc_id]
    graph = document_quads(replace(doc, links=place_links(doc.text, doc.links)), base=DEFAULT_BASE)
    assert graph.content_hash == f"sha256:{digest}"


def test_an_invalid_iri_is_refused_every_time() -> None:
    bad = Document("d", "text", (Link("t", "http://dbpedia.org/resource/A b", 0.5, 0, 1),))
    good = Document("d", "text", (Link("t", "http://dbpedia.org/resource/A_b", 0.5, 0, 1),))
    for _ in range(2):  # checked IRIs are remembered; refused ones must not be
        with pytest.raises(ValueError, match="not a valid IRI: 'http://dbpedia.org/resource/A b'"):
            document_quads(bad, base=DEFAULT_BASE)
        assert document_quads(good, base=DEFAULT_BASE).mentions == 1


@pytest.mark.parametrize(
    "relative",
    ["real/doc.txt", "linked/doc.txt", "doc-link.txt", "real/../linked/doc.txt", "./real//doc.txt", "real/a b%.txt", "missing/x.txt"],
)
def test_provenance_names_the_resolved_source_file(tmp_path: Path, relative: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "doc.txt").write_text("x")
    (tmp_path / "real" / "a b%.txt").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "linked")
    os.symlink(tmp_path / "real" / "doc.txt", tmp_path / "doc-link.txt")
    monkeypatch.chdir(tmp_path)
    started = datetime(2024, 1, 2, tzinfo=timezone.utc)
    graph = document_quads(Document("d", "text"), base=DEFAULT_BASE)
    metadata = provenance_nquads(graph, source=relative, run=run_iri(started), at=started)
    derived = [line for line in metadata.splitlines() if "wasDerivedFrom" in line]
    assert derived == [
        f"<{graph.iri}> <http://www.w3.org/ns/prov#wasDerivedFrom> <{Path(relative).resolve().as_uri()}> <{METADATA_GRAPH.value}> ."
    ]
    assert Path(relative).resolve().as_uri().startswith(f"file://{tmp_path.resolve()}/")
