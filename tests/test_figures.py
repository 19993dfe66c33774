"""Tests for the per-resource figures (graphbuild.store.figures): always equal to the aggregate
over the mentions in the store, through ingest, replace, delete and interrupted runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DATA, SEED, SEEDS
from pyoxigraph import Literal, NamedNode, Quad

from graphbuild.errors import StoreError
from graphbuild.model.quads import document_quads
from graphbuild.model.records import Document, Link
from graphbuild.model.vocab import DBR, DEFAULT_BASE, FIGURES_GRAPH, GB
from graphbuild.pipeline.delete import delete
from graphbuild.pipeline.ingest import ingest
from graphbuild.pipeline.offsets import place_links
from graphbuild.query.canned import load_query, run
from graphbuild.readers import read_documents
from graphbuild.store import Stats
from graphbuild.store import stats as store_stats
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.figures import FiguresKeeper, differences, is_current, rebuild, shares, stored_shares

SEED_ID = "000_70018b3530a68054"
INPUTS = [SEEDS, DATA / "nif", DATA / "spotlight", DATA / "jsonl", DATA / "csv"]

# The definition the figures must always agree with, written out independently here.
AGGREGATE = """
PREFIX itsrdf: <http://www.w3.org/2005/11/its/rdf#>
PREFIX schema: <http://schema.org/>
SELECT ?e ?mentions ?documents ?confidences ?sum ?max WHERE {
  { SELECT ?e (COUNT(DISTINCT ?m) AS ?mentions) (COUNT(?c) AS ?confidences) (SUM(?c) AS ?sum) (MAX(?c) AS ?max)
    WHERE { ?m itsrdf:taIdentRef ?e OPTIONAL { ?m itsrdf:taConfidence ?c } } GROUP BY ?e }
  { SELECT ?e (COUNT(DISTINCT ?d) AS ?documents) WHERE { ?d schema:mentions ?e } GROUP BY ?e }
}
"""
# Per (resource, surface form): mention nodes with that anchor (or unplaced surface form), and their graphs.
FORMS_AGGREGATE = """
PREFIX itsrdf: <http://www.w3.org/2005/11/its/rdf#>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
PREFIX gb: <https://w3id.org/graphbuild/ns#>
SELECT ?e ?form (COUNT(DISTINCT ?m) AS ?mentions) (COUNT(DISTINCT ?g) AS ?documents)
WHERE { GRAPH ?g { ?m itsrdf:taIdentRef ?e . { ?m nif:anchorOf ?form } UNION { ?m gb:surfaceForm ?form } } }
GROUP BY ?e ?form
"""
FORMS_STORED = """
PREFIX gb: <https://w3id.org/graphbuild/ns#>
SELECT ?e ?form ?mentions ?documents WHERE { GRAPH <https://w3id.org/graphbuild/graph/figures> {
  ?node gb:formOf ?e ; gb:form ?form ; gb:formMentionCount ?mentions ; gb:formDocumentCount ?documents } }
"""
STORED = """
PREFIX gb: <https://w3id.org/graphbuild/ns#>
SELECT ?e ?mentions ?documents ?confidences ?sum ?max WHERE { GRAPH <https://w3id.org/graphbuild/graph/figures> {
  ?e gb:mentionCount ?mentions ; gb:documentCount ?documents ; gb:confidenceCount ?confidences ; gb:confidenceSum ?sum .
  OPTIONAL { ?e gb:maxConfidence ?max } } }
"""


def figures(store: EmbeddedStore, sparql: str = STORED) -> dict[str, tuple]:
    result = store.select(sparql)
    return {
        row[0].value: (int(row[1].value), int(row[2].value), int(row[3].value), round(float(row[4].value), 9),
                       None if row[5] is None else float(row[5].value))
        for row in result.rows
    }


def forms(store: EmbeddedStore, sparql: str = FORMS_STORED) -> dict[tuple[str, str], tuple[int, int]]:
    result = store.select(sparql)
    return {(row[0].value, row[1].value): (int(row[2].value), int(row[3].value)) for row in result.rows}


def assert_current(store: EmbeddedStore) -> None:
    assert is_current(store)
    assert figures(store) == figures(store, AGGREGATE)
    assert forms(store) == forms(store, FORMS_AGGREGATE)


def _documents(path: Path) -> list[Document]:
    return [item for item in read_documents([path]) if isinstance(item, Document)]


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_a_documents_tally_matches_its_graph(path: Path) -> None:
    documents = _documents(path)
    assert documents
    for doc in documents:
        placed = replace(doc, links=place_links(doc.text, doc.links))
        graph = document_quads(placed, base=DEFAULT_BASE)
        assert sorted(shares(placed)) == sorted(stored_shares(graph.quads))


def test_two_links_on_one_span_count_as_one_node_per_resource() -> None:
    doc = Document("d", "Pain and pain.", (
        Link("Pain", DBR + "Pain", 0.5, 0, 4),
        Link("Pain", DBR + "Pain", 0.7, 0, 4),
        Link("Pain", DBR + "Ache", 0.9, 0, 4),
        Link("pain", DBR + "Pain", None, 9, 13),
    ))
    by_resource = {resource: rest for resource, *rest in shares(doc)}
    # The span 0-4 is one node with both resources and all three confidences, as in RDF;
    # each node counts once for its form, the text slice.
    mentions, confidences, total, _, surface_forms = by_resource[DBR + "Pain"]
    assert (mentions, confidences, total) == (2, 3, pytest.approx(2.1))
    assert sorted(surface_forms) == [("Pain", 1), ("pain", 1)]
    mentions, _, _, highest, surface_forms = by_resource[DBR + "Ache"]
    assert (mentions, highest, surface_forms) == (1, 0.9, (("Pain", 1),))


def test_ingest_keeps_the_figures(store: EmbeddedStore) -> None:
    ingest([SEEDS], store=store)
    assert_current(store)
    assert figures(store)[DBR + "Decision_making"] == (6, 1, 6, round(6 * 0.999999999953161, 9), 0.999999999953161)
    assert forms(store)[(DBR + "Decision_making", "self-management")] == (6, 1)


def test_replace_and_delete_keep_the_figures(store: EmbeddedStore, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    ingest([corpus], store=store)
    seed = corpus / SEED.name
    lines = seed.read_text(encoding="utf-8").split("\n")
    # Keep Focus_group only: Decision_making loses its most confident mentions.
    seed.write_text(lines[0] + "\n" + "\n".join(line for line in lines[1:] if "Focus_group" in line) + "\n", encoding="utf-8")
    report = ingest([corpus], store=store)
    assert (report.replaced, report.unchanged) == (1, 7)  # seeds/ holds 8 documents and an empty file
    assert_current(store)
    assert DBR + "Decision_making" not in figures(store)
    assert not [pair for pair in forms(store) if pair[0] == DBR + "Decision_making"]
    assert delete(["016c47f14cd178b649ed16cb8c53"], store=store) == (["016c47f14cd178b649ed16cb8c53"], [])
    assert_current(store)
    assert differences(store) == []
    assert differences(store, [DBR + "Pain", DBR + "Focus_group", DBR + "Decision_making"]) == []


def test_differences_names_each_figure_that_is_off(seed_store: EmbeddedStore) -> None:
    store = seed_store
    assert differences(store) == []
    focus = NamedNode(DBR + "Focus_group")
    (kept,) = [q for q in store.quads(FIGURES_GRAPH, subject=focus) if q.predicate == NamedNode(GB + "mentionCount")]
    figures_graph = f"GRAPH {FIGURES_GRAPH}"
    store.update(
        f"DELETE DATA {{ {figures_graph} {{ {focus} {kept.predicate} {kept.object} }} }} ; "
        f"INSERT DATA {{ {figures_graph} {{ {focus} {kept.predicate} 99 }} }}"
    )
    expected = [f"{focus.value}: mentions 99 kept, {kept.object.value} in the mentions"]
    assert differences(store, [focus.value]) == expected
    assert differences(store) == expected
    # Past a thousand resources asked, the stored figures are read whole: still only those asked.
    many = [focus.value, *(f"{DBR}Unmentioned_{n}" for n in range(1000))]
    assert differences(store, many) == expected
    assert differences(store, many[1:]) == []
    # Past a thousand resources that hold most mentions, all mentions are counted in one
    # pass: still only those asked, forms included.
    every = {q.subject.value for q in store.quads(FIGURES_GRAPH) if q.predicate == NamedNode(GB + "mentionCount")}
    assert differences(store, [*every, *many]) == expected
    assert differences(store, [*(every - {focus.value}), *many[1:]]) == []


def test_delete_rereads_a_maximum_that_went_away(store: EmbeddedStore, tmp_path: Path) -> None:
    for name, confidence in (("a", "0.9"), ("b", "0.6")):
        (tmp_path / f"{name}.txt").write_text(f"Pain is pain, {name}.\nPain    {confidence}^^http://www.w3.org/2001/XMLSchema#double    http://dbpedia.org/resource/Pain\n", encoding="utf-8")
    ingest([tmp_path / "a.txt", tmp_path / "b.txt"], store=store)
    assert figures(store)[DBR + "Pain"][4] == 0.9
    delete(["a"], store=store)
    assert figures(store)[DBR + "Pain"] == (1, 1, 1, 0.6, 0.6)
    assert_current(store)


def test_an_interrupted_run_is_rebuilt_by_the_next(store: EmbeddedStore, tmp_path: Path) -> None:
    ingest([SEED], store=store)
    keeper = FiguresKeeper(store)
    keeper.changing()  # a run starts writing, then dies before commit
    store.replace_subjects(FIGURES_GRAPH, [NamedNode(DBR + "Pain")], [
        Quad(NamedNode(DBR + "Pain"), NamedNode(GB + "mentionCount"), Literal(99), FIGURES_GRAPH)
    ])
    assert not is_current(store)
    report = ingest([SEEDS], store=store)
    assert (report.loaded, report.unchanged) == (7, 1)
    assert_current(store)


def test_rebuild_recomputes_from_the_mentions(seed_store: EmbeddedStore) -> None:
    seed_store.replace_subjects(FIGURES_GRAPH, [NamedNode(DBR + "Pain"), FIGURES_GRAPH], [])
    assert not is_current(seed_store)
    assert rebuild(seed_store) == 5
    assert_current(seed_store)


def test_unchanged_reingest_writes_no_figures(seed_store: EmbeddedStore) -> None:
    before = sorted(str(q) for q in seed_store.quads(FIGURES_GRAPH))
    ingest([SEED], store=seed_store)
    assert sorted(str(q) for q in seed_store.quads(FIGURES_GRAPH)) == before


def test_many_new_resources_go_the_bulk_way_and_end_current(store: EmbeddedStore, tmp_path: Path) -> None:
    words = [f"term{i}x" for i in range(300)]
    rows = [f"{w}    0.{i % 9 + 1}^^http://www.w3.org/2001/XMLSchema#double    http://dbpedia.org/resource/R{i}" for i, w in enumerate(words)]
    (tmp_path / "many.txt").write_text(" ".join(words) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest([tmp_path / "many.txt"], store=store)  # 300 resources: 1,500 new figure quads
    assert len(figures(store)) == 300
    assert figures(store)[DBR + "R10"] == (1, 1, 1, 0.2, 0.2)
    assert_current(store)


class _Killed(Exception):
    """Stands for the process dying at a write."""


def _top_entities(store: EmbeddedStore) -> list[tuple[str, ...]]:
    return [tuple("" if t is None else t.value for t in row) for row in run(load_query("top-entities"), {}, store=store)]


def _reads(path: Path) -> tuple[list[tuple[str, ...]], Stats]:
    """What a reader sees: top-entities and stats on the store opened read-only."""
    with EmbeddedStore.open(path, read_only=True) as store:
        return _top_entities(store), store_stats(store)


GONE = ["016c47f14cd178b649ed16cb8c53", "02233a0e1e2add02a017a0ecbd14"]


@pytest.mark.parametrize("dies_at", [1, 2, 3])
def test_a_delete_killed_at_any_write_leaves_figures_readers_can_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dies_at: int
) -> None:
    """A delete killed between removing the documents and writing the figures used to leave
    top-entities counting the deleted documents, and a second delete found nothing to do."""
    remaining = tmp_path / "remaining"
    shutil.copytree(SEEDS, remaining)
    for doc_id in GONE:
        (remaining / f"{doc_id}.txt").unlink()
    with EmbeddedStore.open(tmp_path / "fresh") as fresh:
        ingest([remaining], store=fresh)
    expected = _reads(tmp_path / "fresh")

    with EmbeddedStore.open(tmp_path / "store") as store:
        ingest([SEEDS], store=store)
    writes = 0
    real_write = EmbeddedStore._write

    def dying_write(self: EmbeddedStore, action: Callable[[], object]) -> None:
        nonlocal writes
        writes += 1
        if writes == dies_at:
            raise _Killed()
        real_write(self, action)

    monkeypatch.setattr(EmbeddedStore, "_write", dying_write)
    with EmbeddedStore.open(tmp_path / "store") as store:
        try:
            delete(GONE, store=store)
        except _Killed:
            pass
    monkeypatch.setattr(EmbeddedStore, "_write", real_write)
    top, counts = _reads(tmp_path / "store")
    deleted = counts.documents == expected[1].documents
    assert counts.documents in (expected[1].documents, expected[1].documents + 2)
    if deleted:
        assert (top, counts) == expected
    with EmbeddedStore.open(tmp_path / "store") as store:
        assert delete(GONE, store=store) == (([], GONE) if deleted else (GONE, []))
        assert_current(store)
    assert _reads(tmp_path / "store") == expected


def test_figures_left_out_of_date_are_rebuilt_where_writable_and_refused_where_not(tmp_path: Path) -> None:
    with EmbeddedStore.open(tmp_path / "store") as store:
        ingest([SEEDS], store=store)
        expected = _top_entities(store), store_stats(store)
        FiguresKeeper(store).changing()  # a run that stopped part-way
        assert not is_current(store)
    with EmbeddedStore.open(tmp_path / "store", read_only=True) as store:
        message = (
            f"the per-resource figures in the store at {tmp_path / 'store'} are not up to date: a write to the "
            "store is under way, or one stopped part-way; once no write runs, `graphbuild optimize` "
            "rebuilds them (so does any ingest or delete)"
        )
        for read in (_top_entities, store_stats):
            with pytest.raises(StoreError) as info:
                read(store)
            assert str(info.value) == message
        assert [row[0] for row in run(load_query("documents-mentioning"), {"entity": "dbr:Pain"}, store=store)]
    with EmbeddedStore.open(tmp_path / "store") as store:
        assert (_top_entities(store), store_stats(store)) == expected
        assert_current(store)


def test_a_delete_rebuilds_figures_an_earlier_run_left_out_of_date(tmp_path: Path) -> None:
    """Rerunning a delete that had removed its documents used to say "0 documents deleted"
    and leave the figures wrong."""
    with EmbeddedStore.open(tmp_path / "store") as store:
        ingest([SEEDS], store=store)
        FiguresKeeper(store).changing()
        store.replace([store.document_graphs(GONE[:1])[GONE[0]]], [])  # removed, figures not yet changed
        assert delete(GONE[:1], store=store) == ([], GONE[:1])
        assert_current(store)
