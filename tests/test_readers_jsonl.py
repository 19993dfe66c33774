"""Tests for the JSON Lines reader (graphbuild.readers.jsonl).

Case files live in tests/data/jsonl/ (see its SOURCE.md), each with ``<name>.jsonl.expected.json``.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest
from conftest import SEED_NIF
from reader_cases import cases, expected, shape

from graphbuild.errors import InputError
from graphbuild.model.records import Document, RepairKind, Skipped
from graphbuild.model.vocab import sparql_prologue
from graphbuild.pipeline.ingest import ingest
from graphbuild.readers import InputFormat, read_documents, read_source
from graphbuild.readers.jsonl import EXTENSIONS, read_jsonl
from graphbuild.store.embedded import EmbeddedStore

HERE = Path(__file__).resolve().parent
CASES = HERE / "data" / "jsonl"
GOOD = cases(CASES / "good")
BAD = cases(CASES / "bad")


def test_case_folders_are_complete():
    assert len(GOOD) == 4 and len(BAD) == 1
    for path in GOOD + BAD:
        assert path.with_name(path.name + ".expected.json").is_file(), path
        assert InputFormat.guess(path) is InputFormat.JSONL


@pytest.mark.parametrize("path", GOOD + BAD, ids=lambda p: p.name)
def test_case(path: Path):
    result = shape(path, read_source(path))
    assert result == expected(path)
    assert ("errors" in result) == (path.parent.name == "bad")


def test_each_bad_line_fails_only_itself():
    items = list(read_source(CASES / "bad" / "one-fault-per-line.jsonl"))
    assert [(type(i).__name__, getattr(i, "line", None)) for i in items] == [
        ("Document", None),
        *[("InputError", line) for line in (2, 3, 4, 5, 6, 7, 8, 9, 11, 12)],
        ("Document", None),
    ]


def test_seed_links_with_and_without_offsets_land_on_the_same_spans(tmp_path: Path):
    with EmbeddedStore.open(tmp_path / "s") as store:
        report = ingest([CASES / "good" / "seed.jsonl"], store=store)
        assert (report.loaded, report.mentions, report.unplaced) == (2, 24, 0)
        rows = store.select(
            sparql_prologue()
            + "SELECT ?id ?b ?e ?r ?c WHERE { ?d dcterms:identifier ?id . GRAPH ?d { ?m nif:beginIndex ?b ; "
            "nif:endIndex ?e ; itsrdf:taIdentRef ?r ; itsrdf:taConfidence ?c } }"
        )
        spans: dict[str, list] = {}
        for doc_id, b, e, r, c in rows.rows:
            spans.setdefault(doc_id.value, []).append((int(b.value), int(e.value), r.value, float(c.value)))
    with_offsets = sorted(spans["6a999a4d423d02b92a41b4226eb2"])
    assert with_offsets == sorted(spans["6a999a4d423d02b92a41b4226eb2-without-offsets"])
    assert (
        len(with_offsets) == 12 and (725, 729, "http://dbpedia.org/resource/Pain", 0.9350527805613198) in with_offsets
    )
    assert "#offset_725_729" in SEED_NIF.read_text(encoding="utf-8")


def test_byte_offsets_are_repaired():
    documents = list(read_source(CASES / "good" / "kore50.jsonl"))
    kinds = [r.kind for d in documents for r in d.repairs]
    assert kinds == [RepairKind.OFFSETS_BYTES] * 5
    for document in documents:
        assert all(document.text[lk.begin : lk.end] == lk.surface for lk in document.links)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"id": "a", "text": "x", "links": [{"surface": "x", "uri": "http://x.org/", "confidence": 1.5}]}',
            'links[0]: "confidence": confidence 1.5 is outside [0, 1]',
        ),
        (
            '{"id": "a", "text": "x", "links": [{"surface": "x", "uri": "http://x.org/", "begin": -1, "end": 1}]}',
            'links[0]: "begin": -1 is not a non-negative integer offset',
        ),
        (
            '{"id": "a", "text": "x", "links": [{"surface": "", "uri": "http://x.org/"}]}',
            'links[0]: "surface" must be a non-empty string',
        ),
        ('{"id": "", "text": "x"}', "\"id\" must be a non-empty string or an integer, not ''"),
        ('{"id": "a", "text": "x", "annotator": "spotlight"}', "\"annotator\" must be an IRI, not 'spotlight'"),
        (
            '{"id": "a", "text": "\\udc80"}',
            '"text" holds a lone surrogate (\\udc80) at position 0, which is no character',
        ),
        (
            '{"id": "a", "text": "ab", "links": [{"surface": "a", "uri": "http://x.org/a", "begin": 0, "end": 1},'
            ' {"surface": "a", "uri": "http://x.org/b", "begin": 0, "end": 1}]}',
            "link 'a' -> http://x.org/b: two different links on [0,1) (http://x.org/a, http://x.org/b); "
            "a span holds one link",
        ),
        (
            '{"id": 1, "text": "x", "links": [{"surface": "x", "uri": "http://x.org/", "types": ["x"]}]}',
            'links[0]: "types" must be a list of IRIs',
        ),
    ],
)
def test_line_errors(tmp_path: Path, line: str, message: str):
    path = tmp_path / "case.jsonl"
    path.write_text("\n" + line + "\n", encoding="utf-8")
    (error,) = read_source(path)
    assert isinstance(error, InputError)
    assert (error.line, error.message) == (2, message)


def test_integer_id_bom_and_crlf(tmp_path: Path):
    path = tmp_path / "ids.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + b'{"id": 7, "text": "Pain.", "links": [{"surface": "Pain", "uri": "http://dbpedia.org/resource/Pain"}]}\r\n'
    )
    (document,) = read_source(path)
    assert (document.id, document.text, document.links[0].begin) == ("7", "Pain.", None)


def test_invalid_utf8_fails_its_line_only(tmp_path: Path):
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(b'{"id": "a", "text": "\xff"}\n{"id": "b", "text": "ok"}\n')
    error, document = read_source(path)
    assert (error.line, error.message) == (1, "not valid UTF-8 (byte 21 of the line); save the file as UTF-8")
    assert document.id == "b"


def test_empty_file_is_skipped(tmp_path: Path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert list(read_source(path)) == [Skipped(str(path), "empty file, no documents")]


def test_gzip_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = (CASES / "good" / "news-100.jsonl").read_bytes()
    packed = tmp_path / "news.jsonl.gz"
    packed.write_bytes(gzip.compress(data))
    assert [d.id for d in read_source(packed)] == ["http://aksw.org/N3/News-100/37", "http://aksw.org/N3/News-100/29"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert len(list(read_documents(["-"], format=InputFormat.JSONL))) == 2


def test_truncated_gzip_keeps_the_documents_before_the_cut(tmp_path: Path):
    lines = [json.dumps({"id": str(i), "text": "word " * 2000}) for i in range(40)]
    packed = gzip.compress("\n".join(lines).encode("utf-8"))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    items = list(read_source(path))
    assert isinstance(items[-1], InputError) and items[-1].line is None
    assert items[-1].message.startswith("cannot read the file: ")
    assert len(items) > 1 and all(isinstance(i, Document) for i in items[:-1])


def test_reader_takes_a_stream():
    data = (CASES / "good" / "seed.jsonl").read_bytes()
    documents = list(read_jsonl(io.BytesIO(data), source="x", name="x.jsonl"))
    assert [d.id for d in documents] == ["6a999a4d423d02b92a41b4226eb2", "6a999a4d423d02b92a41b4226eb2-without-offsets"]
    assert EXTENSIONS == (".jsonl", ".ndjson")
