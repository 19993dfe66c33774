from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from pyoxigraph import Literal, NamedNode, Quad
from rdflib.compare import isomorphic

from graphbuild.errors import GraphbuildError
from graphbuild.model.quads import document_quads
from graphbuild.model.records import Document, Link
from graphbuild.model.vocab import (
    FIGURES_GRAPH,
    ITS_TA_ANNOTATORS_REF,
    METADATA_GRAPH,
    NIF_PHRASE,
    NIF_RFC5147_STRING,
    NIF_STRING,
    OFFSETS_INFERRED,
    RDF_TYPE,
    SPOTLIGHT,
    XSD_BOOLEAN,
)
from graphbuild.output import rdf
from graphbuild.output.full import full_quads
from graphbuild.output.rdf import ExportFormat, export, export_parts
from graphbuild.store.embedded import EmbeddedStore

SEED_ID = "000_70018b3530a68054"
RDFLIB_FORMATS = {
    ExportFormat.TURTLE: "turtle",
    ExportFormat.NTRIPLES: "nt",
    ExportFormat.NQUADS: "nquads",
    ExportFormat.TRIG: "trig",
    ExportFormat.JSONLD: "json-ld",
}


def _dump(store: EmbeddedStore, fmt: ExportFormat, document: str | None = None) -> bytes:
    out = io.BytesIO()
    export(store, out, format=fmt, document=document)
    return out.getvalue()


def _full_form(store: EmbeddedStore) -> set[str]:
    """The store's quads in the full NIF form, stated here on their own: the seed's 12
    phrases each typed nif:String and nif:RFC5147String, with the annotator and the
    offsetsInferred flag that the store says once on the context."""
    stored = [q for q in store.quads()]
    context = NamedNode(f"https://w3id.org/graphbuild/doc/{SEED_ID}#char=0,1161")
    shared = {ITS_TA_ANNOTATORS_REF, OFFSETS_INFERRED}
    assert {q.predicate for q in stored if q.subject == context} >= shared
    full = {str(q) for q in stored if not (q.subject == context and q.predicate in shared)}
    phrases = [q for q in stored if q.object == NIF_PHRASE]
    assert len(phrases) == 12
    for q in phrases:
        full |= {
            str(Quad(q.subject, RDF_TYPE, NIF_STRING, q.graph_name)),
            str(Quad(q.subject, RDF_TYPE, NIF_RFC5147_STRING, q.graph_name)),
            str(Quad(q.subject, ITS_TA_ANNOTATORS_REF, SPOTLIGHT, q.graph_name)),
            str(Quad(q.subject, OFFSETS_INFERRED, Literal("true", datatype=XSD_BOOLEAN), q.graph_name)),
        }
    return full


def _full_triples(store: EmbeddedStore) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data="\n".join(f"{q.rsplit(' ', 1)[0]} ." for q in _full_form(store)), format="nt")
    return graph


@pytest.mark.parametrize("fmt", list(ExportFormat), ids=[f.value for f in ExportFormat])
def test_export_parses_back_into_the_same_triples(fmt: ExportFormat, seed_store: EmbeddedStore) -> None:
    data = _dump(seed_store, fmt)
    assert seed_store.quad_count() == 157  # 111 of the document (lean) and metadata, 46 of the figures
    expected = _full_triples(seed_store)
    assert len(expected) == 203  # 157 of the document (full NIF form) and metadata, 46 of the figures (26 per resource, 20 per surface form)
    parsed = rdflib.Dataset()
    parsed.parse(data=data, format=RDFLIB_FORMATS[fmt])
    merged = rdflib.Graph()
    for quad in parsed.quads((None, None, None, None)):
        merged.add(quad[:3])
    assert isomorphic(merged, expected)
    oxi = list(pyoxigraph.parse(data, fmt.rdf_format))
    assert len({str(getattr(q, "triple", q)) for q in oxi}) == 203


@pytest.mark.parametrize("fmt", [ExportFormat.NQUADS, ExportFormat.TRIG], ids=["nquads", "trig"])
def test_quad_formats_keep_the_named_graphs(fmt: ExportFormat, seed_store: EmbeddedStore) -> None:
    quads = list(pyoxigraph.parse(_dump(seed_store, fmt), fmt.rdf_format))
    graphs = {q.graph_name.value for q in quads}
    assert graphs == {METADATA_GRAPH.value, FIGURES_GRAPH.value, f"https://w3id.org/graphbuild/doc/{SEED_ID}"}
    assert {str(q) for q in quads} == _full_form(seed_store)


@pytest.mark.parametrize("fmt", list(ExportFormat), ids=[f.value for f in ExportFormat])
def test_as_stored_writes_what_the_store_holds(fmt: ExportFormat, seed_store: EmbeddedStore) -> None:
    out = io.BytesIO()
    export(seed_store, out, format=fmt, as_stored=True)
    quads = fmt.rdf_format.supports_datasets
    written = {str(q if quads else q.triple) for q in pyoxigraph.parse(out.getvalue(), fmt.rdf_format)}
    stored = {str(q if quads else q.triple) for q in seed_store.quads()}
    assert written == stored and len(written) == 157


def test_a_store_in_the_full_form_exports_as_it_is(seed_store: EmbeddedStore) -> None:
    """A store written by an earlier version holds the full form: export adds nothing to it."""
    full = list(pyoxigraph.parse(_dump(seed_store, ExportFormat.NQUADS), pyoxigraph.RdfFormat.N_QUADS))
    with EmbeddedStore.memory() as earlier:
        earlier.add(full)
        assert earlier.quad_count() == 203
        for fmt in (ExportFormat.NQUADS, ExportFormat.TRIG):
            again = {str(q) for q in pyoxigraph.parse(_dump(earlier, fmt), fmt.rdf_format)}
            assert again == {str(q) for q in full}
        one = list(pyoxigraph.parse(_dump(earlier, ExportFormat.NQUADS, document=SEED_ID), pyoxigraph.RdfFormat.N_QUADS))
        assert len([q for q in one if q.graph_name != METADATA_GRAPH]) == 146


def test_a_phrase_with_its_own_annotator_and_flag_keeps_them() -> None:
    doc = Document(
        "d",
        "a a a",
        (
            Link("a", "http://dbpedia.org/resource/A", 0.5, 0, 1, inferred=True),
            Link("a", "http://dbpedia.org/resource/A", 0.5, 2, 3, annotator="http://example.org/other"),
        ),
        annotator=SPOTLIGHT.value,
    )
    with EmbeddedStore.memory() as store:
        store.bulk_add(document_quads(doc, base="http://example.org/").nquads)
        quads = list(pyoxigraph.parse(_dump(store, ExportFormat.NQUADS), pyoxigraph.RdfFormat.N_QUADS))
    first, second = NamedNode("http://example.org/d#char=0,1"), NamedNode("http://example.org/d#char=2,3")
    annotators = {(q.subject.value, q.object.value) for q in quads if q.predicate == ITS_TA_ANNOTATORS_REF}
    assert annotators == {(first.value, SPOTLIGHT.value), (second.value, "http://example.org/other")}
    assert [q.subject for q in quads if q.predicate == OFFSETS_INFERRED] == [first]


def test_turtle_uses_model_prefixes_and_groups_subjects(seed_store: EmbeddedStore) -> None:
    text = _dump(seed_store, ExportFormat.TURTLE).decode()
    for prefix in ("nif", "itsrdf", "schema", "dcterms", "prov", "xsd", "dbr"):
        assert f"@prefix {prefix}: <" in text
    assert text.count(f"<https://w3id.org/graphbuild/doc/{SEED_ID}#char=725,729> a nif:Phrase") == 1
    phrase_lines = [line for line in text.splitlines() if "#char=" in line and " a nif:Phrase" in line]
    begins = [int(line.split("#char=")[1].split(",")[0]) for line in phrase_lines]
    assert begins == sorted(begins) and len(begins) == 12


def test_one_document_with_its_provenance(tmp_path: Path, seed_store: EmbeddedStore) -> None:
    quads = list(pyoxigraph.parse(_dump(seed_store, ExportFormat.NQUADS, document=SEED_ID), pyoxigraph.RdfFormat.N_QUADS))
    doc = f"https://w3id.org/graphbuild/doc/{SEED_ID}"
    meta = [q for q in quads if q.graph_name == METADATA_GRAPH]
    assert meta and all(q.subject.value == doc for q in meta)
    assert len(quads) - len(meta) == 146  # the full NIF form of the store's 100


def test_unknown_document(seed_store: EmbeddedStore) -> None:
    with pytest.raises(GraphbuildError, match="no document with id 'nope'"):
        _dump(seed_store, ExportFormat.TURTLE, document="nope")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("x.ttl", ExportFormat.TURTLE), ("x.nq", ExportFormat.NQUADS), ("x.trig", ExportFormat.TRIG), ("x.nt", ExportFormat.NTRIPLES), ("x.jsonld", ExportFormat.JSONLD), ("x.txt", None)],
)
def test_format_guessed_from_extension(name: str, fmt: ExportFormat | None) -> None:
    assert ExportFormat.guess(Path(name)) is fmt


def test_a_document_graph_that_comes_in_two_runs_is_refused(seed_store: EmbeddedStore) -> None:
    doc = NamedNode(f"https://w3id.org/graphbuild/doc/{SEED_ID}")
    quads = list(seed_store.quads(doc))
    metadata = list(seed_store.quads(METADATA_GRAPH))
    # other graphs pass as they are, a document graph comes out whole and in the full form
    assert len(list(full_quads([*metadata, *quads]))) == len(metadata) + 146
    with pytest.raises(ValueError, match="came in two runs"):
        list(full_quads([*quads[:50], *metadata, *quads[50:]]))


@pytest.mark.parametrize(
    ("fmt", "as_stored"), [(ExportFormat.NQUADS, False), (ExportFormat.NQUADS, True), (ExportFormat.TURTLE, False)]
)
def test_export_reports_the_quads_read_out_of_all(
    fmt: ExportFormat, as_stored: bool, seed_store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rdf, "_REPORT_EVERY", 40)
    calls: list[tuple[str, int, int | None]] = []
    export(seed_store, tmp_path / "out", format=fmt, as_stored=as_stored, progress=lambda *call: calls.append(call))
    total = seed_store.quad_count()
    steps = [] if as_stored else [("quads", n, total) for n in range(40, total + 1, 40)]
    assert calls == [*steps, ("quads", total, total)]


def test_export_parts_reports_the_quads_read(seed_store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rdf, "_REPORT_EVERY", 100)
    calls: list[tuple[str, int, int | None]] = []
    manifest = export_parts(seed_store, tmp_path / "parts", progress=lambda *call: calls.append(call))
    total = seed_store.quad_count()
    assert calls == [("quads", 100, total), ("quads", total, total)] and total < 200
    assert manifest.quads > total  # the full form writes more than the store holds
