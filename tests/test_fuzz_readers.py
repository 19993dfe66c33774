"""Property-based tests of every reader: arbitrary bytes and mutated real files give
documents, skip notes or clean ``path:line: …`` errors, never a traceback; and ingesting
them into a real store leaves each document graph either whole or absent.

Seeds are the real case files of tests/data/<format>/good (see each SOURCE.md).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path

import pyoxigraph
import pytest
from conftest import DATA, SEED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import NamedNode, Quad

from graphbuild.errors import InputError
from graphbuild.model.quads import document_quads
from graphbuild.model.records import Document, Skipped
from graphbuild.model.vocab import DEFAULT_BASE, FIGURES_GRAPH, METADATA_GRAPH
from graphbuild.pipeline.ingest import ingest
from graphbuild.pipeline.offsets import place_links
from graphbuild.readers import InputFormat, read_source
from graphbuild.store.embedded import EmbeddedStore

SEEDS: dict[InputFormat, list[Path]] = {
    InputFormat.SUMMARY: [SEED],
    InputFormat.NIF: [
        DATA / "nif" / "good" / name
        for name in ("kore50.ttl", "kore50.nt", "rss-500.ttl", "scigraph-03870b9a944aae2e7bf41938775a.ttl")
    ],
    InputFormat.SPOTLIGHT: [DATA / "spotlight" / "good" / name for name in ("oklahoma.json", "several-per-line.json")],
    InputFormat.JSONL: [DATA / "jsonl" / "good" / name for name in ("kore50.jsonl", "seed.jsonl")],
    InputFormat.CSV: [DATA / "csv" / "good" / name for name in ("reuters-128.csv", "scigraph-no-offsets.csv")],
}
EXTENSION = {
    InputFormat.SUMMARY: ".txt",
    InputFormat.NIF: ".ttl",
    InputFormat.SPOTLIGHT: ".json",
    InputFormat.JSONL: ".jsonl",
    InputFormat.CSV: ".csv",
}
# Pieces that sit on the edges of every grammar involved.
TOKENS = [
    b'"',
    b"'",
    b"<",
    b">",
    b"\\",
    b"\n",
    b"\r\n",
    b",",
    b"\t",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b".",
    b";",
    b" ",
    b"#char=0,",
    b"#offset_3_",
    b'"@offset":"',
    b'"begin": ',
    b"-1",
    b"1e309",
    b"NaN",
    b"\\ud800",
    b"\\u0000",
    "é".encode(),
    "🎓".encode(),
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"^^xsd:double",
    b"^^<http://www.w3.org/2001/XMLSchema#long>",
    b"http://dbpedia.org/page/X",
    b"_:b0",
    b"@prefix x: <y> .",
    b"null",
    b"true",
    b"1.5",
    b"0",
    b"99999999999",
]
FORMATS = list(SEEDS)


@st.composite
def mutated(draw: st.DrawFn, fmt: InputFormat) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS[fmt])).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "flip", "duplicate-line", "drop-line"]))
        if op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "replace":
            data[at : at + 1] = draw(st.sampled_from(TOKENS))
        elif op == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op in ("duplicate-line", "drop-line"):
            lines = bytes(data).split(b"\n")
            index = at % max(len(lines), 1)
            if op == "duplicate-line":
                lines.insert(index, lines[index])
            else:
                del lines[index]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def check_items(items: list[object], path: Path) -> list[Document]:
    """Every item is a well-formed record; returns the documents."""
    where = re.compile(re.escape(str(path)) + r"(?::\d+)?: \S")
    documents = []
    for item in items:
        if isinstance(item, Document):
            documents.append(item)
            for link in item.links:
                NamedNode(link.resource)
                assert link.surface
                assert link.confidence is None or 0.0 <= link.confidence <= 1.0
                if link.placed:
                    assert 0 <= link.begin < link.end <= len(item.text)  # type: ignore[operator]
                    assert item.text[link.begin : link.end] == link.surface
            for repair in item.repairs:
                assert where.match(str(repair)) and ": note: " in str(repair) and "\n" not in str(repair)
        elif isinstance(item, InputError):
            assert where.match(str(item)), str(item)
            assert "\n" not in str(item) and "Traceback" not in str(item)
        else:
            assert isinstance(item, Skipped) and item.source == str(path)
    return documents


def _as_stored(quads: list[Quad]) -> set[str]:
    # A store writes literals in canonical form ("1.0"^^xsd:double reads back as "1").
    memory = pyoxigraph.Store()
    memory.extend(quads)
    return {str(q) for q in memory}


def read_fuzzed(data: bytes, fmt: InputFormat, folder: Path, name: str = "fuzzed") -> tuple[Path, list[Document]]:
    path = folder / f"{name}{EXTENSION[fmt]}"
    path.write_bytes(data)
    return path, check_items(list(read_source(path, format=fmt)), path)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_arbitrary_bytes(fmt: InputFormat, data: st.DataObject):
    raw = data.draw(st.one_of(st.binary(max_size=400), st.lists(st.sampled_from(TOKENS), max_size=30).map(b"".join)))
    with tempfile.TemporaryDirectory() as folder:
        read_fuzzed(raw, fmt, Path(folder))


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_real_files(fmt: InputFormat, data: st.DataObject):
    raw = data.draw(mutated(fmt))
    with tempfile.TemporaryDirectory() as folder:
        read_fuzzed(raw, fmt, Path(folder))


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_ingested_documents_are_whole_or_absent(fmt: InputFormat, data: st.DataObject):
    raw = data.draw(mutated(fmt))
    with tempfile.TemporaryDirectory() as folder:
        path, documents = read_fuzzed(raw, fmt, Path(folder))
        wanted: dict[str, set[str]] = {}
        for document in documents:
            try:
                graph = document_quads(
                    replace(document, links=place_links(document.text, document.links)), base=DEFAULT_BASE
                )
            except ValueError:
                continue  # ingest reports it and stores nothing of it
            wanted.setdefault(graph.iri, _as_stored(graph.quads))  # the first of an id is the one stored
        with EmbeddedStore.open(Path(folder) / "store") as store:
            ingest([path], store=store, format=fmt)
            stored = {g.value for g in store.graphs()} - {METADATA_GRAPH.value, FIGURES_GRAPH.value}
            for iri in stored:
                assert {str(q) for q in store.quads(NamedNode(iri))} == wanted[iri]
                assert store.content_hash(NamedNode(iri)) is not None
        assert stored == set(wanted)


# Hostile nesting, in every syntax that has any: each is its file's error, with a line.
DEEP = 100_000
NESTED = {
    "deep.jsonl": (b'{"id": "ok", "text": "Pain."}\n' + b"[" * DEEP + b"\n", 2, "nested too deeply"),
    "deep.json": (b"[" * DEEP, 1, "nested too deeply"),
    "deep-lines.json": (b'{"id": "a", "@text": "Pain."}\n' + b'{"id": "b", "x": ' + b"[" * DEEP + b"\n", 2, "nested too deeply"),
    "deep.jsonld": (b"\n" + b'{"@id": "http://a", "http://p": ' * 5000 + b"{}" + b"}" * 5000, 2, "nested deeper than 1,000 levels"),
    "deep.rdf": (
        b'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
        b'<rdf:Description rdf:about="http://a">' + b'<e:p rdf:parseType="Resource">' * DEEP,
        2,
        "nested deeper than 1,000 levels",
    ),
}


@pytest.mark.parametrize("name", NESTED)
def test_deep_nesting_is_its_files_error(tmp_path: Path, name: str):
    """100,000 levels of [ used to raise RecursionError out of the JSON readers (and 5,000
    levels of JSON-LD objects crashed the process in pyoxigraph)."""
    data, line, message = NESTED[name]
    path = tmp_path / name
    path.write_bytes(data)
    errors = [item for item in read_source(path) if isinstance(item, InputError)]
    assert len(errors) == 1
    assert (errors[0].path, errors[0].line) == (str(path), line)
    assert message in errors[0].message


def test_a_hostile_file_in_a_folder_costs_only_itself(tmp_path: Path):
    """Inside a folder a RecursionError aborted the whole run, and no document of it was stored."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SEED.name).write_bytes(SEED.read_bytes())
    for name, (data, _, _) in NESTED.items():
        (corpus / name).write_bytes(data)
    with EmbeddedStore.open(tmp_path / "store") as store:
        report = ingest([corpus], store=store)
        # The seed, and the good lines before the bad ones in deep.jsonl and deep-lines.json.
        assert (report.loaded, report.failed) == (3, len(NESTED))
        ids = ["000_70018b3530a68054", "ok", "a"]
        assert sorted(store.document_graphs(ids)) == sorted(ids)
    assert sorted(Path(error.path).name for error in report.errors) == sorted(NESTED)


@st.composite
def hostile(draw: st.DrawFn, fmt: InputFormat) -> bytes:
    """A real file with a deep or wide structure spliced in."""
    data = bytearray(draw(st.sampled_from(SEEDS[fmt])).read_bytes())
    depth = draw(st.integers(1, 20_000))
    opening, closing = draw(st.sampled_from([(b"[", b"]"), (b"{", b"}"), (b"(", b")"), (b'{"a":', b"}"), (b"<a>", b"</a>")]))
    piece = opening * depth + (closing * depth if draw(st.booleans()) else b"")
    at = draw(st.integers(0, len(data)))
    data[at:at] = piece
    return bytes(data)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_structures(fmt: InputFormat, data: st.DataObject):
    raw = data.draw(hostile(fmt))
    with tempfile.TemporaryDirectory() as folder:
        read_fuzzed(raw, fmt, Path(folder))
