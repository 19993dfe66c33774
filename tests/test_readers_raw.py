"""Raw texts (no links) for annotate: .txt, JSON Lines, CSV/TSV; folders, gzip, standard input."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import pytest
from conftest import DATA

from graphbuild.errors import InputError
from graphbuild.model.records import RawText, Skipped
from graphbuild.readers import RawFormat, find_raw_sources, read_raw_source, read_raw_texts

TEXTS = DATA / "annotate"


def _read(path: Path, format: RawFormat | None = None) -> list[object]:
    return list(read_raw_source(path, format=format))


def test_the_test_texts_read_in_every_format() -> None:
    found = list(read_raw_texts([TEXTS]))
    assert [(item.id, item.source, item.line) for item in found if isinstance(item, RawText)] == [
        ("berlin", str(TEXTS / "berlin.txt"), None),
        ("nozomi", str(TEXTS / "texts.csv"), 2),
        ("oklahoma", str(TEXTS / "texts.jsonl"), 1),
        ("graduation", str(TEXTS / "texts.jsonl"), 2),
    ]
    berlin = found[0]
    assert isinstance(berlin, RawText) and berlin.text == (TEXTS / "berlin.txt").read_text(encoding="utf-8")
    assert berlin.text.endswith("embassies.\n")


def test_a_text_file_is_one_document_gzipped_or_not(tmp_path: Path) -> None:
    (tmp_path / "doc one.txt.gz").write_bytes(gzip.compress("\ufeffLine one.\nLine two.".encode()))
    assert _read(tmp_path / "doc one.txt.gz") == [RawText("doc one", "Line one.\nLine two.", str(tmp_path / "doc one.txt.gz"))]


def test_empty_and_bad_text_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text(" \n")
    (tmp_path / "latin1.txt").write_bytes("ok\nCaf\xe9".encode("latin-1"))
    assert _read(tmp_path / "empty.txt") == [Skipped(str(tmp_path / "empty.txt"), "empty file, no text; nothing to annotate")]
    (error,) = _read(tmp_path / "latin1.txt")
    assert str(error) == f"{tmp_path / 'latin1.txt'}:2: not valid UTF-8 (byte 6); save the file as UTF-8"


def test_json_lines_report_bad_lines_and_read_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"id": 7, "text": "Seven.", "links": []}\n'
        "\n"
        '{"id": "x"}\n'
        "not json\n"
        '["id", "text"]\n'
        '{"id": "blank", "text": "  "}\n'
        '{"id": "last", "text": "Last."}\n',
        encoding="utf-8",
    )
    assert [str(item) if isinstance(item, InputError) else item for item in _read(path)] == [
        RawText("7", "Seven.", str(path), 1),
        f'{path}:3: "text" must be a string',
        f"{path}:4: not valid JSON: Expecting value (column 1)",
        f'{path}:5: expected a JSON object with "id" and "text"',
        Skipped(str(path), "line 6: the text is blank; nothing to annotate"),
        RawText("last", "Last.", str(path), 7),
    ]


def test_tables_of_texts_report_bad_rows_and_read_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text('text\tid\n"Two\nlines."\ta\nno id\t\nthree\tfields\there\n', encoding="utf-8")
    assert [str(item) if isinstance(item, InputError) else item for item in _read(path)] == [
        RawText("a", "Two\nlines.", str(path), 2),
        f"{path}:4: the row has no document id",
        f"{path}:5: expected 2 fields (id, text), found 3",
    ]
    (tmp_path / "links.csv").write_text("id,surface,uri\n", encoding="utf-8")
    assert [str(item) for item in _read(tmp_path / "links.csv")] == [
        f"{tmp_path / 'links.csv'}:1: unknown column 'surface'; the columns are id, text"
    ]
    (tmp_path / "empty.csv").write_text("id,text\n", encoding="utf-8")
    assert _read(tmp_path / "empty.csv") == [Skipped(str(tmp_path / "empty.csv"), "a header and no rows, so no documents")]


def test_folders_give_the_raw_formats_only_and_a_format_named_reads_any_file(tmp_path: Path) -> None:
    for name in ("a.txt", "b.jsonl", "c.csv", "d.tsv.gz", "e.ttl", "README.md", ".hidden/f.txt", "x.texts.csv"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [Path(p).name for p in find_raw_sources([tmp_path])] == ["a.txt", "b.jsonl", "c.csv", "d.tsv.gz", "x.texts.csv"]
    assert [Path(p).name for p in find_raw_sources([tmp_path], format=RawFormat.JSONL)] == ["b.jsonl"]
    (tmp_path / "notes.md").write_text("A text.", encoding="utf-8")
    (error,) = _read(tmp_path / "notes.md")
    assert str(error) == (
        f"{tmp_path / 'notes.md'}: unknown format of raw texts (known extensions: .txt, .jsonl, .ndjson, .csv, .tsv); "
        "name the format to read it as"
    )
    assert _read(tmp_path / "notes.md", RawFormat.TEXT) == [RawText("notes", "A text.", str(tmp_path / "notes.md"))]


def test_standard_input_is_one_text_unless_a_format_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(b"Berlin is a city."))))
    assert list(read_raw_source("-")) == [RawText("stdin", "Berlin is a city.", "<stdin>")]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"id": "a", "text": "A."}\n')))
    assert list(read_raw_source("-", format=RawFormat.JSONL)) == [RawText("a", "A.", "<stdin>", 1)]
