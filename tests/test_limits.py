"""The limit on one document's size, decompressed: past it a document is its own error,
the rest of the run is stored, and the reader never holds more than the limit."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import pytest
from conftest import SEED
from test_cli import gb

from graphbuild.errors import DocumentTooLarge, InputError
from graphbuild.model.records import Document
from graphbuild.pipeline.ingest import ingest
from graphbuild.readers import read_source
from graphbuild.readers.text import Bounded
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.text import parse_size, size_text

MIB = 1 << 20
TOO_LARGE = "larger than 1 MiB decompressed, the most one document may take; raise the limit to read it"


def _bomb(path: Path, size: int) -> Path:
    """A gzip file of a few KiB that unpacks to a summary document of ``size`` bytes."""
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"Pain and more pain " + b"a" * (size - 19) + b"\n")
    return path


def test_a_gzip_bomb_is_its_files_error_and_the_rest_is_stored(tmp_path: Path) -> None:
    """A 3 MB .txt.gz that unpacked to 3 GB took over 4 GB of memory."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bomb = _bomb(corpus / "bomb.txt.gz", 3 * MIB)
    assert bomb.stat().st_size < 10_000
    (corpus / SEED.name).write_bytes(SEED.read_bytes())
    with EmbeddedStore.open(tmp_path / "store") as store:
        report = ingest([corpus], store=store, max_size=MIB)
    assert (report.loaded, report.failed) == (1, 1)
    (error,) = report.errors
    assert isinstance(error, DocumentTooLarge)  # across the preparing process too
    assert str(error) == f"{bomb}: {TOO_LARGE}"
    with EmbeddedStore.open(tmp_path / "store2") as store:
        assert ingest([bomb], store=store, max_size=4 * MIB).loaded == 1


def test_each_json_lines_line_is_held_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    long_text = "x" * (2 * MIB)
    path.write_text(
        '{"id": "a", "text": "Pain."}\n' + f'{{"id": "b", "text": "{long_text}"}}\n' + '{"id": "c", "text": "More pain."}\n',
        encoding="utf-8",
    )
    items = list(read_source(path, max_size=MIB))
    assert [item.id if isinstance(item, Document) else str(item) for item in items] == ["a", f"{path}:2: {TOO_LARGE}", "c"]
    assert [type(item) for item in items] == [Document, DocumentTooLarge, Document]


def test_bounded_never_holds_more_than_the_limit() -> None:
    source = io.BytesIO(b"short\n" + b"y" * (5 * MIB) + b"\nlast\n")
    bounded = Bounded(source, MIB, source)
    assert list(bounded.lines()) == [b"short\n", None, b"last\n"]
    with pytest.raises(Exception, match="larger than 1 MiB"):
        Bounded(io.BytesIO(b"z" * (MIB + 1)), MIB, source).read()
    assert Bounded(io.BytesIO(b"z" * MIB), MIB, source).read() == b"z" * MIB


def test_standard_input_is_held_to_the_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = _bomb(tmp_path / "bomb.txt.gz", 2 * MIB).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    (error,) = read_source("-", max_size=MIB)
    assert isinstance(error, InputError) and str(error) == f"<stdin>: {TOO_LARGE}"


def test_the_cli_option_raises_the_limit_and_the_error_says_how(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.txt.gz", 2 * MIB)
    refused = gb("ingest", bomb, "--store", tmp_path / "store", "--max-document-size", "1M")
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"{bomb}: {TOO_LARGE}\n"
        "hint: --max-document-size SIZE raises the limit on one document's size (default 128M)\n"
    )
    taken = gb("ingest", bomb, "--store", tmp_path / "store", "--max-document-size", "3M")
    assert taken.exit_code == 0 and taken.stdout.startswith("1 document loaded")
    converted = gb("convert", bomb, "--output", tmp_path / "out", "--max-document-size", "1MiB")
    assert converted.exit_code == 1 and TOO_LARGE in converted.stderr
    bad = gb("ingest", bomb, "--store", tmp_path / "store", "--max-document-size", "lots")
    assert (bad.exit_code, bad.stderr) == (
        1,
        "Error: --max-document-size 'lots': expected a size such as 128M, 1G or 500000\n",
    )


@pytest.mark.parametrize(
    ("text", "size"), [("128M", 128 * MIB), ("1.5G", 3 * 512 * MIB), ("64KiB", 64 << 10), ("500000", 500_000), ("2mb", 2 * MIB)]
)
def test_sizes_read_as_people_write_them(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_sizes_written_as_people_read_them() -> None:
    assert [size_text(n) for n in (128 * MIB, 3 * 512 * MIB, 500_000, 900)] == ["128 MiB", "1.5 GiB", "488.3 KiB", "900 bytes"]


@pytest.mark.parametrize("text", ["", "M", "lots", "-1", "0", "nan"])
def test_what_is_not_a_size(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)
