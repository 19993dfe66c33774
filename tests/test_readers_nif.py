"""Tests for the NIF reader (graphbuild.readers.nif).

Case files live in tests/data/nif/ (see its SOURCE.md): good/ and bad/ hold real corpus
excerpts (some edited, as SOURCE.md says), each with ``<name>.expected.json``: documents,
errors, skip notes and repair notes, with paths shown relative to the case folder.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pyoxigraph
import pytest
from conftest import SEED
from pyoxigraph import NamedNode, RdfFormat
from reader_cases import cases, expected, shape

from graphbuild.model.quads import document_iri
from graphbuild.model.records import Document, RepairKind, Skipped
from graphbuild.model.vocab import DEFAULT_BASE, ITSRDF, NIF
from graphbuild.output.rdf import ExportFormat, export
from graphbuild.pipeline.ingest import ingest
from graphbuild.pipeline.offsets import place_links
from graphbuild.readers import InputFormat, read_documents, read_source
from graphbuild.readers.nif import EXTENSIONS, read_nif
from graphbuild.store.embedded import EmbeddedStore

HERE = Path(__file__).resolve().parent
CASES = HERE / "data" / "nif"
GOOD = cases(CASES / "good")
BAD = cases(CASES / "bad")
# Unedited excerpts: every phrase in them must come back as stated, unless a repair says so.
REAL = [p for p in GOOD if "edited" not in p.name]
EXPORT_EXTENSIONS = {"turtle": "ttl", "ntriples": "nt", "nquads": "nq", "trig": "trig", "jsonld": "jsonld"}
KORE = "http://www.mpi-inf.mpg.de/yago-naga/aida/download/KORE50.tar.gz/AIDA.tsv/"
DBR = "http://dbpedia.org/resource/"


def test_case_folders_are_complete():
    assert len(GOOD) == 8 and len(BAD) == 10
    for path in GOOD + BAD:
        assert path.with_name(path.name + ".expected.json").is_file(), path
        assert InputFormat.guess(path) is InputFormat.NIF


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_case(path: Path):
    assert shape(path, read_source(path)) == expected(path)
    assert "errors" not in expected(path)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_case(path: Path):
    result = shape(path, read_source(path))
    assert result == expected(path)
    assert len(result["errors"]) == 1


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_every_anchor_is_its_text_slice(path: Path):
    for document in read_source(path):
        for link in document.links:
            if link.placed:
                assert document.text[link.begin : link.end] == link.surface


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_excerpt_gives_back_every_phrase_as_stated_unless_repaired(path: Path):
    """Compare with the file read by pyoxigraph alone: (anchor, begin, end, resource) per phrase."""
    syntax = RdfFormat.N_TRIPLES if path.suffix == ".nt" else RdfFormat.TURTLE
    stated: dict[str, dict[str, object]] = {}
    for triple in pyoxigraph.parse(path=str(path), format=syntax):
        stated.setdefault(triple.subject.value, {})[triple.predicate.value] = triple.object.value
    phrases = {iri: p for iri, p in stated.items() if NIF + "referenceContext" in p}
    documents = list(read_source(path))
    repaired = {repair.subject for d in documents for repair in d.repairs}
    read = Counter((d.id, lk.surface, lk.begin, lk.end, lk.resource) for d in documents for lk in d.links)
    kept = 0
    for iri, p in phrases.items():
        key = (
            iri.split("#")[0],
            p[NIF + "anchorOf"],
            int(p[NIF + "beginIndex"]),
            int(p[NIF + "endIndex"]),
            p[ITSRDF + "taIdentRef"],
        )
        if iri in repaired:
            assert read[key] == 0, key
        else:
            assert read[key] == 1, key
            kept += 1
    assert sum(read.values()) == len(phrases)
    assert kept == len(phrases) - len(repaired & set(phrases))


def test_kore50_byte_offsets_are_repaired_to_characters():
    documents = {d.id: d for d in read_source(CASES / "good" / "kore50.ttl")}
    assert sorted(documents) == [KORE + "CEL01", KORE + "SPO04", KORE + "SPO07"]
    spo04 = documents[KORE + "SPO04"]
    assert spo04.text == "Müller scored a hattrick against England."
    assert [(lk.surface, lk.begin, lk.end) for lk in spo04.links] == [("Müller", 0, 6), ("England", 33, 40)]
    kinds = Counter(r.kind for d in documents.values() for r in d.repairs)
    assert kinds == {RepairKind.OFFSETS_BYTES: 5, RepairKind.CONTEXT_IRI: 3}
    assert documents[KORE + "CEL01"].annotator is None
    assert all(lk.confidence is None for d in documents.values() for lk in d.links)


def test_spotlight_nif_keeps_confidence_types_and_annotator():
    (document,) = read_source(CASES / "good" / "scigraph-03870b9a944aae2e7bf41938775a.ttl")
    assert document.id == "http://www.springernature.com/scigraph/things/articles/03870b9a944aae2e7bf41938775a"
    assert document.annotator == "http://model.dbpedia-spotlight.org"
    assert document.text.endswith("In terms of \\\n")
    carbonate = document.links[-1]
    assert (carbonate.surface, carbonate.confidence) == ("calcium carbonate", 0.9984236137391796)
    assert carbonate.types == (
        "http://dbpedia.org/ontology/ChemicalCompound",
        "http://dbpedia.org/ontology/ChemicalSubstance",
    )
    assert all(link.annotator is None for link in document.links)  # lifted to the document


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"0.1_5"', "itsrdf:taConfidence '0.1_5' is not a number"),
        ('"1.5"', "itsrdf:taConfidence 1.5 is outside [0, 1]"),
        ('"-0.5"', "itsrdf:taConfidence -0.5 is outside [0, 1]"),
        ('"-3"', "gb:support -3.0 is not a non-negative integer"),
        ('"2.5"', "gb:support 2.5 is not a non-negative integer"),
        ('"-0.2"', "gb:percentageOfSecondRank -0.2 is negative"),
    ],
)
def test_a_score_that_cannot_be_stored_as_written_is_an_error(tmp_path: Path, value: str, message: str):
    """Scores are stored as written or refused: a bad gb:support used to be dropped without a word."""
    predicate = message.split()[0]
    path = tmp_path / "doc.ttl"
    path.write_text(
        "@prefix nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> .\n"
        "@prefix itsrdf: <http://www.w3.org/2005/11/its/rdf#> .\n"
        "@prefix gb: <https://w3id.org/graphbuild/ns#> .\n"
        '<http://ex.org/d#char=0,4> a nif:Context ; nif:isString "Pain" .\n'
        '<http://ex.org/d#char=0,4p> nif:referenceContext <http://ex.org/d#char=0,4> ; nif:anchorOf "Pain" ;\n'
        '  nif:beginIndex 0 ; nif:endIndex 4 ; itsrdf:taIdentRef <http://dbpedia.org/resource/Pain> ;\n'
        f"  {predicate} {value} .\n",
        encoding="utf-8",
    )
    (error,) = read_source(path)
    assert str(error) == f"{path}:5: <http://ex.org/d#char=0,4p>: {message}"


def test_links_outside_dbpedia_are_kept_as_stated():
    documents = {d.id: d for d in read_source(CASES / "good" / "reuters-128.ttl")}
    resources = {lk.resource for d in documents.values() for lk in d.links}
    assert "http://aksw.org/notInWiki/Thermo-Print_GmbH" in resources
    assert "http://de.dbpedia.org/resource/Lohn_(Eschweiler)" in resources
    assert DBR + "Data_I/O" in resources


def test_document_id_comes_from_the_context_iri_without_fragment():
    ids = [d.id for d in read_source(CASES / "good" / "rss-500.ttl")]
    assert ids == ["http://aksw.org/N3/RSS-500/221", "http://aksw.org/N3/RSS-500/178"]


def test_kore50_collection_context_is_no_document():
    items = list(read_source(CASES / "good" / "kore50.ttl"))
    assert all(isinstance(item, Document) for item in items) and len(items) == 3


def test_file_without_contexts_is_skipped(tmp_path: Path):
    path = tmp_path / "dataid.ttl"
    path.write_text('@prefix dc: <http://purl.org/dc/terms/> .\n<http://example.org/d> dc:title "N3" .\n')
    (item,) = read_source(path)
    assert item == Skipped(str(path), "no nif:Context with a nif:isString, so no documents")


def test_gzip_reads_like_the_plain_file(tmp_path: Path):
    plain = CASES / "good" / "news-100.ttl"
    packed = tmp_path / "news-100.ttl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    result = shape(packed, read_source(packed))
    assert json.loads(json.dumps(result).replace("news-100.ttl.gz:", "news-100.ttl:")) == expected(plain)


def test_standard_input_with_format_nif(monkeypatch: pytest.MonkeyPatch):
    data = (CASES / "good" / "rss-500.ttl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data))))
    documents = list(read_documents(["-"], format=InputFormat.NIF))
    assert [d.id for d in documents] == ["http://aksw.org/N3/RSS-500/221", "http://aksw.org/N3/RSS-500/178"]
    assert {d.source for d in documents} == {"<stdin>"}


def test_extensions():
    assert EXTENSIONS == (".ttl", ".nt", ".nq", ".trig", ".n3", ".rdf", ".jsonld", ".nif")
    for name in ["a.ttl", "a.nt.gz", "a.NQ", "a.trig", "a.jsonld", "a.rdf"]:
        assert InputFormat.guess(Path(name)) is InputFormat.NIF


def _seed_document() -> Document:
    (document,) = read_source(SEED)
    return document


@pytest.mark.parametrize("fmt", list(ExportFormat), ids=lambda f: f.value)
def test_graphbuild_export_reads_back_as_the_same_document(tmp_path: Path, fmt: ExportFormat):
    with EmbeddedStore.open(tmp_path / "a") as store:
        ingest([SEED], store=store)
        out = (
            tmp_path
            / f"seed.{EXPORT_EXTENSIONS[fmt.value]}"
        )
        export(store, out, format=fmt)
    (document,) = read_source(out)
    original = _seed_document()
    placed = place_links(original.text, original.links)
    assert (document.id, document.text, document.annotator) == (original.id, original.text, original.annotator)
    as_set = lambda links: Counter(  # noqa: E731
        (lk.surface, lk.begin, lk.end, lk.resource, lk.confidence, lk.inferred, lk.ambiguous) for lk in links
    )
    assert as_set(document.links) == as_set(placed)
    assert document.repairs == ()


def test_export_ingested_again_gives_the_same_graph(tmp_path: Path):
    with EmbeddedStore.open(tmp_path / "a") as store:
        ingest([SEED], store=store)
        export(store, tmp_path / "seed.nq", format=ExportFormat.NQUADS)
        first = {str(q) for q in store.quads(document_iri(SEED.stem, DEFAULT_BASE))}
    with EmbeddedStore.open(tmp_path / "b") as store:
        report = ingest([tmp_path / "seed.nq"], store=store)
        assert (report.loaded, report.failed, report.repairs) == (1, 0, [])
        second = {str(q) for q in store.quads(document_iri(SEED.stem, DEFAULT_BASE))}
    assert first == second and len(first) == 100


def test_the_store_form_reads_back_as_the_same_document(tmp_path: Path):
    """What the store holds (and convert writes) says the annotator and offsetsInferred
    once on the context: read as NIF, it gives the same document as the full form."""
    with EmbeddedStore.open(tmp_path / "a") as store:
        ingest([SEED], store=store)
        export(store, tmp_path / "lean.nq", format=ExportFormat.NQUADS, as_stored=True)
        export(store, tmp_path / "full.nq", format=ExportFormat.NQUADS)
    (lean,) = [d for d in read_documents([tmp_path / "lean.nq"]) if isinstance(d, Document)]
    (full,) = [d for d in read_documents([tmp_path / "full.nq"]) if isinstance(d, Document)]
    def unlined(doc: Document) -> tuple:
        return doc.id, doc.text, doc.annotator, tuple(replace(link, line=None) for link in doc.links)

    assert unlined(lean) == unlined(full)
    assert lean.annotator == "http://model.dbpedia-spotlight.org"
    assert all(link.inferred for link in lean.links) and len(lean.links) == 12


def test_duplicate_identical_documents_are_stored_once_and_noted(tmp_path: Path):
    with EmbeddedStore.open(tmp_path / "s") as store:
        report = ingest([CASES / "duplicate"], store=store)
    assert (report.loaded, report.duplicates, report.failed, report.unchanged) == (1, 1, 0, 0)
    (repair,) = report.repairs
    first, second = sorted((CASES / "duplicate").rglob("*.ttl"))
    assert repair.kind is RepairKind.DUPLICATE_DOCUMENT
    assert str(repair) == (
        f"{second}: note: document "
        "'http://www.springernature.com/scigraph/things/articles/0426cb1fbba04695415a9ed992b4' "
        f"is identical to the one read from {first}; stored once"
    )


def test_same_id_with_other_content_in_one_run_is_an_error(tmp_path: Path):
    folder = tmp_path / "in"
    first = folder / "16" / "a.ttl"
    second = folder / "21" / "a.ttl"
    first.parent.mkdir(parents=True)
    second.parent.mkdir(parents=True)
    source = next((CASES / "duplicate").rglob("*.ttl"))
    shutil.copy(source, first)
    second.write_text(source.read_text(encoding="utf-8").replace('"0.99', '"0.98', 1), encoding="utf-8")
    with EmbeddedStore.open(tmp_path / "s") as store:
        report = ingest([folder], store=store)
    assert (report.loaded, report.failed) == (1, 1)
    (error,) = report.errors
    assert error.path == str(second) and error.line is None
    assert error.message.endswith(f"was read from {first} earlier in this run, with other content; not loaded")


def test_reingesting_is_not_a_duplicate(tmp_path: Path):
    path = CASES / "good" / "kore50.ttl"
    with EmbeddedStore.open(tmp_path / "s") as store:
        ingest([path], store=store)
        again = ingest([path], store=store)
    assert (again.unchanged, again.duplicates, again.loaded) == (3, 0, 0)
    assert Counter(r.kind for r in again.repairs) == {RepairKind.OFFSETS_BYTES: 5, RepairKind.CONTEXT_IRI: 3}


def test_ntriples_bad_line_fails_only_its_document(tmp_path: Path):
    path = CASES / "bad" / "ntriples_bad_line.nt"
    with EmbeddedStore.open(tmp_path / "s") as store:
        report = ingest([path], store=store)
        stored = {str(d) for d in store.document_graphs([KORE + "CEL01", KORE + "SPO04", KORE + "SPO07"])}
    assert (report.loaded, report.failed) == (2, 1)
    assert stored == {KORE + "CEL01", KORE + "SPO07"}


def test_reader_takes_a_stream():
    data = (CASES / "good" / "rss-500.ttl").read_bytes()
    items = list(read_nif(io.BytesIO(data), source="x", name="x.ttl"))
    assert [type(i) for i in items] == [Document, Document]
    assert NamedNode(items[0].links[0].resource)
