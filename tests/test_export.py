from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from rdflib.compare import isomorphic

from graphbuild.errors import GraphbuildError
from graphbuild.model.vocab import FIGURES_GRAPH, METADATA_GRAPH
from graphbuild.output.rdf import ExportFormat, export
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


def _store_triples(store: EmbeddedStore) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data="\n".join(f"{q.triple} ." for q in store.quads()), format="nt")
    return graph


@pytest.mark.parametrize("fmt", list(ExportFormat), ids=[f.value for f in ExportFormat])
def test_export_parses_back_into_the_same_triples(fmt: ExportFormat, seed_store: EmbeddedStore) -> None:
    data = _dump(seed_store, fmt)
    expected = _store_triples(seed_store)
    assert len(expected) == 203  # 157 of the document and metadata, 46 of the figures (26 per resource, 20 per surface form)
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
    assert {str(q) for q in quads} == {str(q) for q in seed_store.quads()}


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
    assert len(quads) - len(meta) == 146


def test_unknown_document(seed_store: EmbeddedStore) -> None:
    with pytest.raises(GraphbuildError, match="no document with id 'nope'"):
        _dump(seed_store, ExportFormat.TURTLE, document="nope")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("x.ttl", ExportFormat.TURTLE), ("x.nq", ExportFormat.NQUADS), ("x.trig", ExportFormat.TRIG), ("x.nt", ExportFormat.NTRIPLES), ("x.jsonld", ExportFormat.JSONLD), ("x.txt", None)],
)
def test_format_guessed_from_extension(name: str, fmt: ExportFormat | None) -> None:
    assert ExportFormat.guess(Path(name)) is fmt
