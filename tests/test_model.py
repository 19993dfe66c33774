from __future__ import annotations

from dataclasses import replace

import pytest
import rdflib
from rdflib.compare import isomorphic

from conftest import DATA, SEED
from graphbuild.model import document_graph, document_iri
from graphbuild.offsets import place_links
from graphbuild.readers.summary import parse_summary
from graphbuild.records import Document, Link
from graphbuild.vocab import DEFAULT_BASE, METADATA_GRAPH

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
    graph = document_graph(_seed(), base=DEFAULT_BASE)
    assert len(graph.quads) == 146
    golden = rdflib.Graph().parse(GOLDEN, format="turtle")
    assert isomorphic(_as_rdflib(graph.quads), golden)


def test_all_quads_live_in_the_document_graph() -> None:
    graph = document_graph(_seed(), base=DEFAULT_BASE)
    assert {q.graph_name.value for q in graph.quads} == {graph.iri}
    assert graph.iri != METADATA_GRAPH.value


def test_same_input_gives_same_quads_and_hash() -> None:
    first, second = document_graph(_seed(), base=DEFAULT_BASE), document_graph(_seed(), base=DEFAULT_BASE)
    assert first.quads == second.quads
    assert first.content_hash == second.content_hash


def test_hash_follows_content() -> None:
    doc = _seed()
    changed = replace(doc, links=doc.links[:-1])
    assert document_graph(doc, base=DEFAULT_BASE).content_hash != document_graph(changed, base=DEFAULT_BASE).content_hash


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
    graph = document_graph(doc, base="http://example.org/")
    subjects = {q.subject.value for q in graph.quads}
    assert subjects == {"http://example.org/d", "http://example.org/d#char=0,25", "http://example.org/d#char=13,24"}
    assert (graph.mentions, graph.unplaced) == (1, 0)


def test_unplaced_links_are_numbered_annotations() -> None:
    links = (Link("x", "http://dbpedia.org/resource/X", 0.5), Link("y", "http://dbpedia.org/resource/Y", None))
    graph = document_graph(Document("d", "no match here", links), base="http://example.org/")
    topics = sorted(q.object.value for q in graph.quads if q.predicate.value.endswith("#topic"))
    assert topics == ["http://example.org/d#annotation-1", "http://example.org/d#annotation-2"]
    assert (graph.mentions, graph.unplaced) == (0, 2)
    confidences = [q for q in graph.quads if q.predicate.value.endswith("taConfidence")]
    assert len(confidences) == 1
