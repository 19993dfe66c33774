from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph
from typer.testing import CliRunner

from conftest import SEED, SEEDS
from graphbuild.backends import open_store
from graphbuild.cli import app
from graphbuild.convert import convert
from graphbuild.ingest import ingest
from graphbuild.remote import RemoteStore
from graphbuild.store import GraphStore
from servers import VirtuosoServer

runner = CliRunner()


def _quads(paths: list[Path]) -> list[pyoxigraph.Quad]:
    quads: list[pyoxigraph.Quad] = []
    for path in paths:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        quads.extend(pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_QUADS))
    return quads


def test_convert_writes_what_ingest_stores(tmp_path: Path) -> None:
    report, paths = convert([SEEDS], output=tmp_path / "out", split=400, gzip=True)
    assert (report.loaded, report.empty, report.mentions) == (8, 1, 137)
    assert len(paths) > 1 and all(p.name.endswith(".nq.gz") for p in paths)
    with GraphStore.open(tmp_path / "store") as store:
        ingest([SEEDS], store=store)
        stored = {str(q) for q in store.quads() if "w3.org/ns/prov#" not in str(q.predicate) and "#run-" not in str(q.subject)}
    # through a store too, which writes xsd:nonNegativeInteger as xsd:integer and "1.0" as "1"
    normalised = pyoxigraph.Store()
    normalised.extend(_quads(paths))
    written = {str(q) for q in normalised if "w3.org/ns/prov#" not in str(q.predicate) and "#run-" not in str(q.subject)}
    assert written == stored


def test_no_document_spans_two_files(tmp_path: Path) -> None:
    _, paths = convert([SEEDS], output=tmp_path / "out", split=1)
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
    assert len(_quads(paths)) == 183  # 157 of the document and metadata, 26 of the figures
    refused = runner.invoke(app, ["export", "--store", str(store), "--split", "100"])
    assert refused.exit_code == 1 and "--split and --gzip write N-Quads files" in refused.stderr


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
