"""Tests for the CSV/TSV link-table reader (graphbuild.readers.tables, ``--format csv``).

Case files live in tests/data/csv/ (see its SOURCE.md), each with ``<name>.expected.json``.
"""

from __future__ import annotations

import gzip
import io
import shutil
import sys
from pathlib import Path

import pytest
from reader_cases import cases, expected, shape

from graphbuild.errors import InputError
from graphbuild.model.records import Skipped
from graphbuild.pipeline.ingest import ingest
from graphbuild.readers import InputFormat, find_sources, read_documents, read_source
from graphbuild.readers.tables import COLUMNS, EXTENSIONS, is_side_file, read_table
from graphbuild.store.embedded import EmbeddedStore

HERE = Path(__file__).resolve().parent
CASES = HERE / "data" / "csv"
GOOD = cases(CASES / "good")
BAD = cases(CASES / "bad")
KORE = "http://www.mpi-inf.mpg.de/yago-naga/aida/download/KORE50.tar.gz/AIDA.tsv/"


def test_case_folders_are_complete():
    assert len(GOOD) == 5 and len(BAD) == 3
    for path in GOOD + BAD:
        assert path.with_name(path.name + ".expected.json").is_file(), path
        assert InputFormat.guess(path) is InputFormat.CSV


@pytest.mark.parametrize("path", GOOD + BAD, ids=lambda p: p.name)
def test_case(path: Path):
    result = shape(path, read_source(path))
    assert result == expected(path)
    assert ("errors" in result) == (path.parent.name == "bad")


def test_columns():
    assert COLUMNS == ("id", "surface", "uri", "confidence", "begin", "end", "types", "text")
    assert EXTENSIONS == (".csv", ".tsv")


def test_texts_from_a_side_file():
    documents = list(read_source(CASES / "good" / "kore50.tsv"))
    assert [d.id for d in documents] == [KORE + "CEL01", KORE + "SPO04", KORE + "SPO07"]
    assert documents[1].text == "Müller scored a hattrick against England."


def test_side_file_is_not_a_table():
    side = CASES / "good" / "kore50.texts.tsv"
    assert is_side_file(side) and is_side_file(Path("x.texts.csv.gz")) and not is_side_file(Path("texts.csv"))
    assert list(read_source(side)) == [
        Skipped(str(side), "a side file of texts; it is read with its table, not on its own")
    ]
    assert side not in find_sources([CASES / "good"])


def test_gzipped_table_and_side_file(tmp_path: Path):
    for name in ("kore50.tsv", "kore50.texts.tsv"):
        (tmp_path / (name + ".gz")).write_bytes(gzip.compress((CASES / "good" / name).read_bytes()))
    documents = list(read_source(tmp_path / "kore50.tsv.gz"))
    assert [len(d.links) for d in documents] == [2, 2, 3]


def test_rows_of_a_document_need_not_be_adjacent():
    documents = {d.id: d for d in read_source(CASES / "good" / "scigraph-no-offsets.csv")}
    assert len(documents["6a999a4d423d02b92a41b4226eb2"].links) == 12
    carbonate = documents["http://www.springernature.com/scigraph/things/articles/03870b9a944aae2e7bf41938775a"].links[
        2
    ]
    assert carbonate.types == (
        "http://dbpedia.org/ontology/ChemicalCompound",
        "http://dbpedia.org/ontology/ChemicalSubstance",
    )


def test_table_ingests_with_offsets_recovered(tmp_path: Path):
    with EmbeddedStore.open(tmp_path / "s") as store:
        report = ingest([CASES / "good" / "scigraph-no-offsets.csv"], store=store)
    assert (report.loaded, report.mentions, report.unplaced, report.failed) == (2, 15, 0, 0)


def test_side_file_text_conflicting_with_the_column(tmp_path: Path):
    (tmp_path / "t.csv").write_text(
        "id,surface,uri,text\nd,Pain,http://dbpedia.org/resource/Pain,Pain hurts.\n", encoding="utf-8"
    )
    (tmp_path / "t.texts.csv").write_text("id,text\nd,Pain hurts a lot.\n", encoding="utf-8")
    (error,) = read_source(tmp_path / "t.csv")
    assert (error.line, error.message) == (2, "the text of 'd' differs from the side file's (line 2)")


def test_side_file_without_links_gives_documents_without_mentions(tmp_path: Path):
    (tmp_path / "t.csv").write_text("id,surface,uri\n", encoding="utf-8")
    (tmp_path / "t.texts.csv").write_text('id,text\nd,"A text, quoted."\n', encoding="utf-8")
    (document,) = read_source(tmp_path / "t.csv")
    assert (document.id, document.text, document.links) == ("d", "A text, quoted.", ())


@pytest.mark.parametrize(
    ("table", "line", "message"),
    [
        ("", 1, "no header row; expected the columns id, surface, uri, confidence, begin, end, types, text"),
        ("id,surface\n", 1, "no 'uri' column; required: id, surface, uri"),
        ("id,surface,uri,id\n", 1, "a column is named twice"),
        ("id,surface,uri,text\nd,Pain,Pain,Pain.\n", 2, "link 'Pain' -> Pain: not an absolute IRI: 'Pain'"),
        ("id,surface,uri,types,text\nd,Pain,http://x.org/P,a b>,Pain.\n", 2, "types: 'a' is not an absolute IRI"),
        (
            "id,surface,uri,begin,end,text\nd,Pain,http://x.org/P,1,x,Pain.\n",
            2,
            "end: 'x' is not a non-negative integer offset",
        ),
        (
            "id,surface,uri\n\nd,Pain,http://x.org/P\n",
            3,
            "no text for document 'd': add a text column or a side file t.texts.csv",
        ),
    ],
)
def test_table_errors(tmp_path: Path, table: str, line: int, message: str):
    path = tmp_path / "t.csv"
    path.write_text(table, encoding="utf-8")
    (error,) = read_source(path)
    assert isinstance(error, InputError)
    assert (error.path, error.line, error.message) == (str(path), line, message)


def test_header_without_rows_is_skipped(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("id,surface,uri\n", encoding="utf-8")
    assert list(read_source(path)) == [Skipped(str(path), "a header and no rows, so no documents")]


def test_standard_input_sniffs_tabs(monkeypatch: pytest.MonkeyPatch):
    data = b"id\tsurface\turi\ttext\nd\tPain\thttp://dbpedia.org/resource/Pain\tPain, it hurts.\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    (document,) = read_documents(["-"], format=InputFormat.CSV)
    assert (document.id, document.text, document.links[0].surface) == ("d", "Pain, it hurts.", "Pain")


def test_reader_takes_a_stream(tmp_path: Path):
    shutil.copy(CASES / "good" / "reuters-128.csv", tmp_path / "r.csv")
    with (tmp_path / "r.csv").open("rb") as stream:
        documents = list(read_table(stream, source="r", name="r.csv", path=tmp_path / "r.csv"))
    assert [len(d.links) for d in documents] == [5, 2]
