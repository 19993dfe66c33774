from __future__ import annotations

import shutil
import time
from pathlib import Path

import pyoxigraph
import pytest
from conftest import SEED, SEED_NIF
from pyoxigraph import NamedNode

import graphbuild.pipeline.ingest as ingest_module
from graphbuild.model.quads import document_iri
from graphbuild.model.vocab import DBR, DEFAULT_BASE, FIGURES_GRAPH, METADATA_GRAPH, sparql_prologue
from graphbuild.pipeline.delete import delete
from graphbuild.pipeline.ingest import ingest
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.figures import is_current

SEED_ID = SEED.stem


def _rows(store: EmbeddedStore, sparql: str) -> list[tuple[str, ...]]:
    result = store.select(sparql_prologue() + sparql)
    return [tuple(term.value if term is not None else "" for term in row) for row in result.rows]


def _spans(store: EmbeddedStore) -> list[tuple[int, int, str]]:
    rows = _rows(store, "SELECT ?b ?e ?r WHERE { ?m a nif:Phrase ; nif:beginIndex ?b ; nif:endIndex ?e ; itsrdf:taIdentRef ?r }")
    return sorted((int(b), int(e), r) for b, e, r in rows)


def _nif_spans() -> list[tuple[int, int, str]]:
    nif = pyoxigraph.Store()
    nif.load(path=str(SEED_NIF), format=pyoxigraph.RdfFormat.TURTLE)
    result = nif.query(
        sparql_prologue() + "SELECT ?b ?e ?r WHERE { ?m a nif:Phrase ; nif:beginIndex ?b ; nif:endIndex ?e ; itsrdf:taIdentRef ?r }"
    )
    return sorted((int(s["b"].value), int(s["e"].value), s["r"].value) for s in result)


def _quads(store: EmbeddedStore) -> set[str]:
    return {str(q) for q in store.quads()}


def test_seed_gives_twelve_mentions_of_five_resources(seed_store: EmbeddedStore) -> None:
    stats = seed_store.stats()
    assert (stats.documents, stats.mentions, stats.resources, stats.unplaced, stats.graphs) == (1, 12, 5, 0, 3)


def test_seed_offsets_equal_spotlight_nif(seed_store: EmbeddedStore) -> None:
    spans = _spans(seed_store)
    assert spans == _nif_spans()
    pain = [(b, e) for b, e, r in spans if r == "http://dbpedia.org/resource/Pain"]
    assert pain == [(725, 729), (807, 811)]


def test_every_anchor_equals_its_text_slice(seed_store: EmbeddedStore) -> None:
    text = SEED.read_text(encoding="utf-8").split("\n")[0]
    rows = _rows(seed_store, "SELECT ?a ?b ?e WHERE { ?m nif:anchorOf ?a ; nif:beginIndex ?b ; nif:endIndex ?e }")
    assert len(rows) == 12
    assert all(text[int(b) : int(e)] == anchor for anchor, b, e in rows)


def test_provenance_records_source_hash_time_and_version(seed_store: EmbeddedStore) -> None:
    graph = document_iri(SEED_ID, DEFAULT_BASE)
    rows = _rows(
        seed_store,
        f"""SELECT ?src ?hash ?at ?version WHERE {{ GRAPH <{METADATA_GRAPH.value}> {{
              <{graph.value}> prov:wasDerivedFrom ?src ; gb:contentHash ?hash ; prov:generatedAtTime ?at ;
                 prov:wasGeneratedBy ?run . ?run gb:toolVersion ?version }} }}""",
    )
    assert len(rows) == 1
    src, digest, _, version = rows[0]
    assert src == SEED.resolve().as_uri()
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    assert version == "0.1.0"


def test_reingest_is_idempotent_and_skips_unchanged(seed_store: EmbeddedStore) -> None:
    before = _quads(seed_store)
    report = ingest([SEED], store=seed_store)
    assert (report.loaded, report.replaced, report.unchanged) == (0, 0, 1)
    assert _quads(seed_store) == before


def test_changed_document_is_replaced_whole(tmp_path: Path, store: EmbeddedStore) -> None:
    doc = tmp_path / "in" / f"{SEED_ID}.txt"
    doc.parent.mkdir()
    shutil.copy(SEED, doc)
    ingest([doc], store=store)
    lines = doc.read_text(encoding="utf-8").split("\n")
    # keep the text and only the focus group row: eleven mentions go away
    doc.write_text(lines[0] + "\n" + "\n".join(line for line in lines[1:] if "Focus_group" in line) + "\n", encoding="utf-8")
    report = ingest([doc], store=store)
    assert (report.loaded, report.replaced, report.unchanged) == (0, 1, 0)
    assert _spans(store) == [(296, 307, "http://dbpedia.org/resource/Focus_group")]
    hashes = _rows(store, f"SELECT ?h WHERE {{ GRAPH <{METADATA_GRAPH.value}> {{ ?g gb:contentHash ?h }} }}")
    assert len(hashes) == 1


def test_bad_row_fails_its_document_only(tmp_path: Path, store: EmbeddedStore) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED, folder / "good.txt")
    (folder / "bad.txt").write_text("Some text about focus group work.\n" + "focus group   1.0   http://dbpedia.org/resource/Focus_group\n")
    report = ingest([folder], store=store)
    assert (report.loaded, report.failed) == (1, 1)
    assert [str(e) for e in report.errors] == [
        f"{folder / 'bad.txt'}:2: cannot read mention row 'focus group   1.0   http://dbpedia.org/resource/Focus_group': "
        "expected a surface form, a confidence ending in ^^http://www.w3.org/2001/XMLSchema#double, then an IRI"
    ]
    assert store.document_graphs(["bad", "good"]).keys() == {"good"}


def test_empty_file_is_skipped_with_a_note(tmp_path: Path, store: EmbeddedStore) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    report = ingest([tmp_path / "empty.txt"], store=store)
    assert (report.loaded, report.empty, report.failed) == (0, 1, 0)
    assert report.notes[0].reason == "empty file, no text and no links"
    assert len(_quads(store)) == 0


def test_unplaceable_link_becomes_document_annotation(tmp_path: Path, store: EmbeddedStore) -> None:
    doc = tmp_path / "x.txt"
    doc.write_text(
        "Pain is common.\n"
        "pain                0.9^^http://www.w3.org/2001/XMLSchema#double                          http://dbpedia.org/resource/Pain\n\n"
        "nausea                        0.8^^http://www.w3.org/2001/XMLSchema#double                          http://dbpedia.org/resource/Nausea\n",
        encoding="utf-8",
    )
    report = ingest([doc], store=store)
    assert (report.mentions, report.unplaced) == (1, 1)
    rows = _rows(
        store, "SELECT ?ctx ?ann ?sf ?r WHERE { ?ctx nif:topic ?ann . ?ann gb:surfaceForm ?sf ; itsrdf:taIdentRef ?r }"
    )
    base = document_iri("x", DEFAULT_BASE).value
    assert rows == [(f"{base}#char=0,15", f"{base}#annotation-1", "nausea", "http://dbpedia.org/resource/Nausea")]
    assert _spans(store) == [(0, 4, "http://dbpedia.org/resource/Pain")]


def test_delete_removes_graph_and_metadata(seed_store: EmbeddedStore) -> None:
    deleted, missing = delete([SEED_ID, "nope"], store=seed_store)
    assert (deleted, missing) == ([SEED_ID], ["nope"])
    graph = document_iri(SEED_ID, DEFAULT_BASE)
    assert not any(True for _ in seed_store.quads(graph))
    assert not any(True for _ in seed_store.quads(METADATA_GRAPH, subject=graph))
    assert NamedNode(graph.value) not in seed_store.graphs()
    assert seed_store.stats().documents == 0


def test_base_iri_names_the_document(tmp_path: Path, store: EmbeddedStore) -> None:
    ingest([SEED], store=store, base="http://example.org/docs/")
    assert store.document_graphs([SEED_ID]) == {SEED_ID: NamedNode(f"http://example.org/docs/{SEED_ID}")}


def test_min_confidence_drops_links_and_is_recorded(store: EmbeddedStore) -> None:
    report = ingest([SEED], store=store, min_confidence=0.95)
    assert (report.loaded, report.mentions, report.dropped) == (1, 10, 2)
    assert _rows(store, "SELECT ?c WHERE { ?m itsrdf:taIdentRef dbr:Pain }") == []
    graph = document_iri(SEED_ID, DEFAULT_BASE)
    rows = _rows(store, f"SELECT ?x WHERE {{ GRAPH <{METADATA_GRAPH.value}> {{ <{graph.value}> gb:minConfidence ?x }} }}")
    assert rows == [("0.95",)]


def test_min_confidence_keeps_links_without_confidence(tmp_path: Path, store: EmbeddedStore) -> None:
    kore = Path(__file__).resolve().parent / "data" / "nif" / "good" / "kore50.ttl"
    report = ingest([kore], store=store, min_confidence=0.99)
    assert (report.loaded, report.mentions, report.dropped) == (3, 7, 0)


def test_repairs_are_reported_once_per_document(store: EmbeddedStore) -> None:
    kore = Path(__file__).resolve().parent / "data" / "nif" / "good" / "kore50.ttl"
    report = ingest([kore], store=store)
    assert len(report.repairs) == 8 and report.duplicates == 0
    assert {repair.source for repair in report.repairs} == {str(kore)}


def test_rerun_repairs_what_a_crashed_bulk_load_left(tmp_path: Path, store: EmbeddedStore) -> None:
    # A crash during the bulk load leaves part of a graph and no metadata for it.
    with EmbeddedStore.open(tmp_path / "clean") as clean:
        ingest([SEED], store=clean)
        whole = {str(q) for q in clean.quads(document_iri(SEED_ID, DEFAULT_BASE))}
    partial = sorted(whole)[: len(whole) // 2]
    store.bulk_add("".join(f"{line} .\n" for line in partial))
    assert store.content_hash(document_iri(SEED_ID, DEFAULT_BASE)) is None
    report = ingest([SEED], store=store)
    assert (report.loaded, report.replaced) == (0, 1)
    assert {str(q) for q in store.quads(document_iri(SEED_ID, DEFAULT_BASE))} == whole
    assert store.stats().mentions == 12


@pytest.mark.parametrize("threads", [2, 0], ids=["still-loading", "loaded"])
def test_batches_loading_in_the_background_keep_every_document_whole(
    tmp_path: Path, store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    # One document per batch. With two threads and slow loads, a document read again
    # right after its first copy must be checked against a batch still loading; with
    # none, against one already in the store (which was empty when the run began).
    monkeypatch.setattr(ingest_module, "_BATCH_CHARS", 1)
    monkeypatch.setattr(EmbeddedStore, "bulk_threads", threads)
    bulk_add = EmbeddedStore.bulk_add
    monkeypatch.setattr(EmbeddedStore, "bulk_add", lambda self, text: (time.sleep(0.2 if threads else 0), bulk_add(self, text)))
    folder = tmp_path / "in"
    for name in ["1/d1", "2/d1", "3/d2", "4/d2", "5/d3", "6/d4"]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SEED, folder / f"{name}.txt")
    changed = folder / "4" / "d2.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("0.9", "0.8", 1), encoding="utf-8")
    report = ingest([folder], store=store)
    assert (report.loaded, report.duplicates, report.failed) == (4, 1, 1)
    assert report.errors[0].path == str(changed)
    stats = store.stats()
    assert (stats.documents, stats.mentions, stats.resources) == (4, 48, 5)
    hashes = _rows(store, f"SELECT ?g WHERE {{ GRAPH <{METADATA_GRAPH.value}> {{ ?g gb:contentHash ?h }} }}")
    assert sorted(g.rsplit("/", 1)[-1] for g, in hashes) == ["d1", "d2", "d3", "d4"]
    pain = _rows(store, f"SELECT ?n WHERE {{ GRAPH <{FIGURES_GRAPH.value}> {{ dbr:Pain gb:mentionCount ?n }} }}")
    assert pain == [("8",)] and is_current(store)


def test_a_document_replaced_while_batches_load(tmp_path: Path, store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # The replacement's transaction runs while other documents' bulk loads are under way.
    earlier = tmp_path / "earlier" / "d0.txt"
    earlier.parent.mkdir()
    shutil.copy(SEED, earlier)
    ingest([earlier], store=store)
    monkeypatch.setattr(ingest_module, "_BATCH_CHARS", 1)
    bulk_add = EmbeddedStore.bulk_add
    monkeypatch.setattr(EmbeddedStore, "bulk_add", lambda self, text: (time.sleep(0.2), bulk_add(self, text)))
    folder = tmp_path / "in"
    for name in ["1/d1", "2/d2", "3/d0", "4/d3"]:
        (folder / name).parent.mkdir(parents=True)
        shutil.copy(SEED, folder / f"{name}.txt")
    lines = SEED.read_text(encoding="utf-8").split("\n")
    only_focus_group = lines[0] + "\n" + "\n".join(line for line in lines[1:] if "Focus_group" in line) + "\n"
    (folder / "3" / "d0.txt").write_text(only_focus_group, encoding="utf-8")
    report = ingest([folder], store=store)
    assert (report.loaded, report.replaced, report.failed) == (3, 1, 0)
    stats = store.stats()
    assert (stats.documents, stats.mentions) == (4, 3 * 12 + 1)
    counts = dict(_rows(store, f"SELECT ?e ?n WHERE {{ GRAPH <{FIGURES_GRAPH.value}> {{ ?e gb:mentionCount ?n }} }}"))
    assert (counts[DBR + "Pain"], counts[DBR + "Focus_group"]) == ("6", "4") and is_current(store)



def test_a_document_stored_in_the_full_form_is_replaced_by_the_lean_one(store: EmbeddedStore) -> None:
    """A store written before the lean form holds each phrase with its types, annotator and
    flag, and content hashes of that form: ingesting the same input again replaces each
    document with the lean form, and the figures stay what they were."""
    from graphbuild.output.full import full_graph

    ingest([SEED], store=store)
    graph = document_iri(SEED.stem, DEFAULT_BASE)
    lean = {str(q) for q in store.quads(graph)}
    figures = {str(q) for q in store.quads(FIGURES_GRAPH)}
    full = full_graph(store.quads(graph))
    # what an earlier version stored: the full form, under another content hash
    store.add(full)
    store.update(
        sparql_prologue()
        + f"DELETE {{ GRAPH <{graph.value}> {{ ?c ?p ?o }} }} WHERE {{ GRAPH <{graph.value}> {{ ?c a nif:Context ; ?p ?o "
        "FILTER (?p IN (itsrdf:taAnnotatorsRef, gb:offsetsInferred)) } };"
        f"DELETE {{ GRAPH <{METADATA_GRAPH.value}> {{ <{graph.value}> gb:contentHash ?h }} }} "
        f"INSERT {{ GRAPH <{METADATA_GRAPH.value}> {{ <{graph.value}> gb:contentHash \"sha256:earlier\" }} }} "
        f"WHERE {{ GRAPH <{METADATA_GRAPH.value}> {{ <{graph.value}> gb:contentHash ?h }} }}"
    )
    assert {str(q) for q in store.quads(graph)} == {str(q) for q in full} and len(full) == 146
    report = ingest([SEED], store=store)
    assert (report.loaded, report.replaced, report.unchanged) == (0, 1, 0)
    assert {str(q) for q in store.quads(graph)} == lean
    assert {str(q) for q in store.quads(FIGURES_GRAPH)} == figures and is_current(store)
