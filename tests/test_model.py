from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
import rdflib
from conftest import DATA, ROOT, SEED
from pyoxigraph import NamedNode
from rdflib.compare import isomorphic

from graphbuild.model.quads import document_iri, document_quads, provenance_nquads, run_iri
from graphbuild.model.records import Document, Link
from graphbuild.model.vocab import (
    DEFAULT_BASE,
    ITS_TA_ANNOTATORS_REF,
    METADATA_GRAPH,
    NIF_PHRASE,
    OFFSETS_INFERRED,
    RDF_TYPE,
)
from graphbuild.output.full import full_graph
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
    # The store's lean form: 100 quads; export's full NIF form of it is the golden file's 146.
    graph = document_quads(_seed(), base=DEFAULT_BASE)
    assert len(graph.quads) == 100
    golden = rdflib.Graph().parse(GOLDEN, format="turtle")
    full = full_graph(graph.quads)
    assert len(full) == 146
    assert isomorphic(_as_rdflib(tuple(full)), golden)


def test_the_lean_form_says_shared_facts_once_on_the_context() -> None:
    graph = document_quads(_seed(), base=DEFAULT_BASE)
    by_predicate: dict[str, list[str]] = {}
    for quad in graph.quads:
        by_predicate.setdefault(quad.predicate.value.rsplit("#", 1)[-1], []).append(quad.subject.value)
    context = f"{graph.iri}#char=0,1161"
    assert by_predicate["taAnnotatorsRef"] == [context]
    assert by_predicate["offsetsInferred"] == [context]
    phrases = [q.subject.value for q in graph.quads if q.object == NIF_PHRASE]
    assert len(phrases) == graph.mentions == 12
    types = [q for q in graph.quads if q.predicate == RDF_TYPE and q.subject.value in phrases]
    assert len(types) == 12  # nif:Phrase only


def _link(begin: int, *, inferred: bool = False, annotator: str | None = None) -> Link:
    return Link("a", "http://dbpedia.org/resource/A", 0.5, begin, begin + 1, inferred=inferred, annotator=annotator)


@pytest.mark.parametrize(
    ("doc", "on_context", "per_link"),
    [
        # Every phrase inferred, one annotator: both once, on the context.
        (Document("d", "a a a", (_link(0, inferred=True), _link(2, inferred=True)), annotator="http://x.org/a"), 2, 0),
        # Offsets mixed: the flag per inferred phrase only.
        (Document("d", "a a a", (_link(0, inferred=True), _link(2)), annotator="http://x.org/a"), 1, 1),
        # A link's own annotator outranks the document's and is kept on it.
        (Document("d", "a a a", (_link(0), _link(2, annotator="http://x.org/b")), annotator="http://x.org/a"), 1, 1),
        # No document annotator, links that differ: each keeps its own.
        (Document("d", "a a a", (_link(0, annotator="http://x.org/a"), _link(2, annotator="http://x.org/b"))), 0, 2),
        # No document annotator, links that agree: lifted to the context.
        (Document("d", "a a a", (_link(0, annotator="http://x.org/a"), _link(2, annotator="http://x.org/a"))), 1, 0),
        # No link: nothing to share.
        (Document("d", "a a a", (), annotator="http://x.org/a"), 0, 0),
    ],
)
def test_shared_facts_go_to_the_context_and_differences_stay(doc: Document, on_context: int, per_link: int) -> None:
    graph = document_quads(doc, base="http://example.org/")
    shared = [q for q in graph.quads if q.predicate in (ITS_TA_ANNOTATORS_REF, OFFSETS_INFERRED)]
    assert sum(q.subject.value.endswith("#char=0,5") for q in shared) == on_context
    assert sum(not q.subject.value.endswith("#char=0,5") for q in shared) == per_link
    # Export's full form gives every link its annotator and every inferred phrase its flag.
    full = full_graph(graph.quads)
    for link in doc.links:
        node = NamedNode(f"http://example.org/d#char={link.begin},{link.end}")
        annotators = {q.object.value for q in full if q.subject == node and q.predicate == ITS_TA_ANNOTATORS_REF}
        expected = link.annotator or doc.annotator
        assert annotators == ({expected} if expected else set())
        flags = [q for q in full if q.subject == node and q.predicate == OFFSETS_INFERRED]
        assert len(flags) == int(link.inferred)
    assert not [q for q in full if q.subject.value.endswith("#char=0,5") and q.predicate in (ITS_TA_ANNOTATORS_REF, OFFSETS_INFERRED)]


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


# Content hashes of documents read, placed and modelled by graphbuild. They are the
# documents' identity in a store (an unchanged hash skips the document on re-ingest), so
# the bytes must never drift by accident: every line, its order and its escapes. Pinned
# first by 0.1.0; pinned again once, on purpose, when the store's form became lean (issue
# 14: a store written earlier sees each document as changed on its next ingest and
# replaces it with the lean form). Summary rows (offsets recovered, one ambiguous), Spotlight
# types and scores, NIF annotations, escaped quotes, a U+2028 in a text, a non-ASCII IRI.
PINNED_HASHES = [
    ("seeds/000_70018b3530a68054.txt", '000_70018b3530a68054', "5feeff960c4b99fdf9038c64a4d41e9a5c31cca14d3773c6c300e185ac6900f0"),
    ("tests/data/spotlight/good/berlin.json", 'berlin', "459110c8294ba5abb3f7d219b6c58db0151aa55c109420c055beed0d1434bec9"),
    ("tests/data/nif/good/rss-500-edited.ttl", 'http://aksw.org/N3/RSS-500/221', "c0c030645bee7cdb74d4270419faf5a3663ac932ed839db7d68ef44c1670dca0"),
    ("tests/data/nif/good/rss-500-edited.ttl", 'http://aksw.org/N3/RSS-500/178', "f53c87bc5d5e930a604b91d2829a24bd27c201c86a0df4350bc2b450073f3230"),
    ("tests/data/jsonl/good/scigraph-03870b9a944aae2e7bf41938775a.jsonl", 'http://www.springernature.com/scigraph/things/articles/03870b9a944aae2e7bf41938775a', "d337389389050f947c19d2102baeed40c87e46c24febf3b74b54b32fac33936a"),
    ("tests/data/summary/good/line_separator_in_text.txt", 'line_separator_in_text', "4594a15901f70b757d8bdc5f905072c07689b560f93261d66cb2dee6b1c990d7"),
    ("tests/data/summary/good/nonascii_iri.txt", 'nonascii_iri', "be079fda541817feab5a2f521517b3b63a00b47084c2861c608ef6fcdd5e24bb"),
    ("tests/data/csv/good/scigraph-no-offsets.csv", '6a999a4d423d02b92a41b4226eb2', "5e329548f1903a4f5a0d0cd3c08734ef3a5ab790427f0753f06d72395fe9889f"),
    ("tests/data/csv/good/scigraph-no-offsets.csv", 'http://www.springernature.com/scigraph/things/articles/03870b9a944aae2e7bf41938775a', "498ce7ee36240bca41b3db5523282518c60333c6fe436cbb3427e221f36d312c"),
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
