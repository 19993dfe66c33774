from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pyoxigraph
import pytest
from conftest import DATA, SEED, SEEDS
from servers import VirtuosoServer
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.pipeline import convert as convert_module
from graphbuild.pipeline import prepare as prepare_module
from graphbuild.pipeline.convert import convert
from graphbuild.pipeline.ingest import ingest
from graphbuild.store import open_store
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.remote import RemoteStore

runner = CliRunner()


def _quads(paths: list[Path]) -> list[pyoxigraph.Quad]:
    quads: list[pyoxigraph.Quad] = []
    for path in paths:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        quads.extend(pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_QUADS))
    return quads


def test_convert_writes_what_ingest_stores(tmp_path: Path) -> None:
    report = convert([SEEDS], output=tmp_path / "out", split=400, gzip=True)
    paths = report.files
    assert (report.written, report.empty, report.mentions) == (8, 1, 137)
    assert len(paths) > 1 and all(p.name.endswith(".nq.gz") for p in paths)
    with EmbeddedStore.open(tmp_path / "store") as store:
        ingest([SEEDS], store=store)
        stored = {str(q) for q in store.quads() if "w3.org/ns/prov#" not in str(q.predicate) and "#run-" not in str(q.subject)}
    # through a store too, which writes xsd:nonNegativeInteger as xsd:integer and "1.0" as "1"
    normalised = pyoxigraph.Store()
    normalised.extend(_quads(paths))
    written = {str(q) for q in normalised if "w3.org/ns/prov#" not in str(q.predicate) and "#run-" not in str(q.subject)}
    assert written == stored


def test_no_document_spans_two_files(tmp_path: Path) -> None:
    paths = convert([SEEDS], output=tmp_path / "out", split=1).files
    graphs_per_file = [{q.graph_name.value for q in _quads([p])} for p in paths]
    documents = [g for graphs in graphs_per_file for g in graphs if "/doc/" in g]
    assert len(documents) == len(set(documents)) == 8


def test_export_split_from_a_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert runner.invoke(app, ["ingest", str(SEED), "--store", str(store)]).exit_code == 0
    result = runner.invoke(
        app, ["export", "--store", str(store), "--format", "nquads", "--gzip", "--split", "100", "--output", str(tmp_path / "parts")]
    )
    assert result.exit_code == 0, result.output
    paths = sorted((tmp_path / "parts").glob("part-*.nq.gz"))
    assert result.stderr == f"wrote {len(paths)} files to {tmp_path / 'parts'}\n"
    assert len(_quads(paths)) == 203  # 157 of the document and metadata, 46 of the figures (26 per resource, 20 per surface form)
    refused = runner.invoke(app, ["export", "--store", str(store), "--split", "100"])
    assert refused.exit_code == 1 and "--split and --gzip write N-Quads files" in refused.stderr


def _mixed_corpus(folder: Path) -> Path:
    """Good documents, bad ones and an empty file, in several formats, in a known order."""
    folder.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, folder / f"a-{path.name}")
    for name in ["confidence_above_1.txt", "iri_with_gt.txt", "invalid_utf8_line3.txt"]:
        shutil.copy(DATA / "summary" / "bad" / name, folder / f"b-{name}")
    shutil.copy(DATA / "jsonl" / "good" / "kore50.jsonl", folder / "c-kore50.jsonl")
    shutil.copy(DATA / "summary" / "good" / "crlf.txt", folder / "d-crlf.txt")
    return folder


def _without_run(paths: list[Path]) -> list[str]:
    """The lines of the files, in order, but those that name this run or its time."""
    lines = [line for path in paths for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if "#run-" not in line and "generatedAtTime" not in line]


@pytest.mark.parametrize("split", [None, 300])
def test_two_processes_write_what_one_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: int | None) -> None:
    corpus = _mixed_corpus(tmp_path / "corpus")
    # Runs of two files, so that the second process has every other run to prepare.
    monkeypatch.setattr(prepare_module, "_RUN_FILES", 2)
    monkeypatch.setattr(prepare_module, "_CHUNK", 3)
    written = {}
    for processes in (1, 2):
        monkeypatch.setattr(convert_module, "PROCESSES", processes)
        written[processes] = convert([corpus], output=tmp_path / f"out-{processes}", split=split)
    one, two = written[1], written[2]
    one_paths, two_paths = one.files, two.files
    assert (two.written, two.failed, two.empty, two.mentions) == (one.written, one.failed, one.empty, one.mentions)
    assert (two.written, two.failed, two.empty) == (8 + 3 + 1, 3, 1)
    assert [str(e) for e in two.errors] == [str(e) for e in one.errors]
    assert [e.path for e in two.errors] == [str(corpus / f"b-{n}") for n in ["confidence_above_1.txt", "invalid_utf8_line3.txt", "iri_with_gt.txt"]]
    assert [p.name for p in two_paths] == [p.name for p in one_paths]
    assert len(two_paths) == (1 if split is None else len(one_paths)) and (split is None or len(two_paths) > 3)
    assert _without_run(two_paths) == _without_run(one_paths)


def test_cli_convert(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(SEEDS), "--output", str(tmp_path / "nq"), "--quiet"])
    assert result.exit_code == 0
    assert result.stdout == f"8 documents written to 1 file in {tmp_path / 'nq'}, 0 failed, 1 empty; 137 mentions, 0 unplaced\n"


def test_scaling_out_recipe_loads_into_virtuoso(writable_virtuoso: VirtuosoServer) -> None:
    """The README's "Scaling out" recipe: convert, then Virtuoso's bulk loader, then query."""
    virtuoso_server = writable_virtuoso
    folder = virtuoso_server.folder / "load" / "recipe"  # inside Virtuoso's DirsAllowed
    result = runner.invoke(app, ["convert", str(SEEDS), "--output", str(folder), "--gzip", "--split", "500", "--quiet"])
    assert result.exit_code == 0
    virtuoso_server.isql(f"ld_dir('{folder}', '*.nq.gz', 'urn:graphbuild:unused');\nrdf_loader_run();\ncheckpoint;\n")
    with open_store(virtuoso_server.query_url) as store:
        assert isinstance(store, RemoteStore)
        try:
            stats = store.stats()
            assert (stats.documents, stats.mentions, stats.resources) == (8, 137, 70)
        finally:
            store.replace(store.graphs(), [])
