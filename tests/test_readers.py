"""Tests for the reader registry (graphbuild.readers): formats by extension, gzip, mixed
folders, standard input; and the helpers in graphbuild.readers.text."""

from __future__ import annotations

import gzip
import io
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import DATA, SEED

from graphbuild.errors import InputError
from graphbuild.model.records import Document, Skipped
from graphbuild.pipeline.ingest import ingest
from graphbuild.readers import InputFormat, find_sources, plain_name, read_documents, read_source
from graphbuild.readers.text import decode, stem
from graphbuild.store.embedded import EmbeddedStore


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.txt", InputFormat.SUMMARY),
        ("a.TXT.GZ", InputFormat.SUMMARY),
        ("a.ttl", InputFormat.NIF),
        ("a.nt.gz", InputFormat.NIF),
        ("a.nq", InputFormat.NIF),
        ("a.trig", InputFormat.NIF),
        ("a.nif", InputFormat.NIF),
        ("a.rdf", InputFormat.NIF),
        ("a.jsonld", InputFormat.NIF),
        ("a.n3", InputFormat.NIF),
        ("a.json", InputFormat.SPOTLIGHT),
        ("a.json.gz", InputFormat.SPOTLIGHT),
        ("a.jsonl", InputFormat.JSONL),
        ("a.ndjson", InputFormat.JSONL),
        ("a.csv", InputFormat.CSV),
        ("a.tsv.gz", InputFormat.CSV),
        ("a.gz", None),
        (".gz", None),
        ("a.xml", None),
        ("a.md", None),
        ("a", None),
    ],
)
def test_guess(name: str, fmt: InputFormat | None):
    assert InputFormat.guess(Path(name)) is fmt


def test_formats_and_names():
    assert [f.value for f in InputFormat] == ["summary", "nif", "spotlight", "jsonl", "csv"]
    assert plain_name(Path("x/kore50.ttl.gz")) == "kore50.ttl" and plain_name(Path("a.gz")) == "a"
    assert stem("6a99.conf045.summary.txt") == "6a99.conf045.summary" and stem("stdin") == "stdin"


def _mixed(root: Path) -> None:
    shutil.copy(SEED, root / "seed.txt")
    (root / "nif").mkdir()
    shutil.copy(DATA / "nif" / "good" / "kore50.ttl", root / "nif" / "kore50.ttl")
    (root / "nif" / "rss.nt.gz").write_bytes(gzip.compress((DATA / "nif" / "good" / "kore50.nt").read_bytes()))
    shutil.copy(DATA / "spotlight" / "good" / "berlin.json", root / "berlin.json")
    shutil.copy(DATA / "jsonl" / "good" / "news-100.jsonl", root / "news.jsonl")
    shutil.copy(DATA / "csv" / "good" / "kore50.tsv", root / "links.tsv")
    shutil.copy(DATA / "csv" / "good" / "kore50.texts.tsv", root / "links.texts.tsv")
    (root / "README.md").write_text("not an input\n")
    (root / ".cache").mkdir()
    shutil.copy(SEED, root / ".cache" / "copy.txt")


def test_mixed_folder_is_read_by_extension(tmp_path: Path):
    _mixed(tmp_path)
    names = [p.relative_to(tmp_path).as_posix() for p in find_sources([tmp_path])]
    assert names == ["berlin.json", "links.tsv", "news.jsonl", "nif/kore50.ttl", "nif/rss.nt.gz", "seed.txt"]
    per_file = Counter(Path(item.source).name for item in read_documents([tmp_path]) if isinstance(item, Document))
    assert per_file == {
        "berlin.json": 1,
        "links.tsv": 3,
        "news.jsonl": 2,
        "kore50.ttl": 3,
        "rss.nt.gz": 3,
        "seed.txt": 1,
    }


def test_format_option_keeps_only_that_format_in_folders(tmp_path: Path):
    _mixed(tmp_path)
    names = [p.name for p in find_sources([tmp_path], format=InputFormat.NIF)]
    assert names == ["kore50.ttl", "rss.nt.gz"]


def test_mixed_folder_ingests(tmp_path: Path):
    (tmp_path / "in").mkdir()
    _mixed(tmp_path / "in")
    with EmbeddedStore.open(tmp_path / "store") as store:
        report = ingest([tmp_path / "in"], store=store)
    # The three KORE50 sentences come as Turtle, as gzipped N-Triples and as a TSV table with
    # its side file: the same graphs each time, so stored once and noted twice each.
    assert (report.loaded, report.duplicates, report.failed, report.empty) == (7, 6, 0, 0)
    assert report.mentions == 16 + 18 + 7 + 12  # berlin, news, KORE50 once, the seed


def test_gzip_is_recognised_by_its_bytes_not_its_name(tmp_path: Path):
    packed = tmp_path / "seed.txt"
    packed.write_bytes(gzip.compress(SEED.read_bytes()))
    (document,) = read_source(packed)
    assert isinstance(document, Document) and len(document.links) == 12
    plain = tmp_path / "plain.txt.gz"
    shutil.copy(SEED, plain)
    (document,) = read_source(plain)
    assert isinstance(document, Document) and document.id == "plain"


def test_broken_gzip_is_an_input_error(tmp_path: Path):
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 20)
    (error,) = read_source(path)
    assert isinstance(error, InputError) and error.line is None
    assert error.message.startswith("cannot read the file: ")


def test_folder_given_as_a_file_is_an_input_error(tmp_path: Path):
    (tmp_path / "d.ttl").mkdir()
    (error,) = read_source(tmp_path / "d.ttl")
    assert isinstance(error, InputError) and error.message == "cannot read the file: Is a directory"


def test_stdin_is_the_summary_format_unless_told(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(SEED.read_bytes()))))
    (document,) = read_documents(["-"])
    assert (document.id, len(document.links)) == ("stdin", 12)


def test_stdin_broken_gzip(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x1f\x8bnot gzip")))
    (error,) = read_documents(["-"], format=InputFormat.JSONL)
    assert isinstance(error, InputError) and error.path == "<stdin>"
    assert error.message.startswith("cannot read standard input: ")


def test_unknown_extension_lists_the_known_ones(tmp_path: Path):
    path = tmp_path / "notes.md"
    path.write_text("x")
    (error,) = read_source(path)
    assert error.message == (
        "unknown input format (known extensions: .txt, .ttl, .nt, .nq, .trig, .n3, .rdf, .jsonld, .nif, .json, "
        ".jsonl, .ndjson, .csv, .tsv); rename the file or name its format"
    )


def test_decode():
    assert decode(b"\xef\xbb\xbfabc", "s") == "abc"
    error = decode(b"ok\nok\n\xff", "s")
    assert isinstance(error, InputError) and (error.line, error.message) == (
        3,
        "not valid UTF-8 (byte 6); save the file as UTF-8",
    )
    assert isinstance(Skipped("s", "r"), Skipped)
