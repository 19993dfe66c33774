from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pyoxigraph
import pytest
from conftest import DATA, SEED, SEEDS
from servers import VirtuosoServer
from typer.testing import CliRunner

from graphbuild import __version__
from graphbuild.cli import app
from graphbuild.errors import GraphbuildError
from graphbuild.pipeline import convert as convert_module
from graphbuild.pipeline.convert import convert, partitions
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
    paths = [Path(f) for f in report.files]
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
    paths = [Path(f) for f in convert([SEEDS], output=tmp_path / "out", split=1, partition_files=4).files]
    assert [p.name for p in paths] == [f"part-{i:05d}-{k:05d}.nq" for i, n in [(0, 4), (1, 3), (2, 1)] for k in range(n)] + ["figures.nq"]
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
    assert result.stderr == f"wrote {len(paths)} files to {tmp_path / 'parts'}: 203 quads\n"
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
def test_two_processes_write_what_one_writes(tmp_path: Path, split: int | None) -> None:
    corpus = _mixed_corpus(tmp_path / "corpus")
    written = {}
    for jobs in (1, 2):
        # Partitions of two files: the second process has every other one to write.
        written[jobs] = convert([corpus], output=tmp_path / f"out-{jobs}", split=split, jobs=jobs, partition_files=2)
    one, two = written[1], written[2]
    one_paths, two_paths = [Path(f) for f in one.files], [Path(f) for f in two.files]
    assert (two.written, two.failed, two.empty, two.mentions) == (one.written, one.failed, one.empty, one.mentions)
    assert (two.written, two.failed, two.empty) == (8 + 3 + 1, 3, 1)
    assert [str(e) for e in two.errors] == [str(e) for e in one.errors]
    assert [e.path for e in two.errors] == [str(corpus / f"b-{n}") for n in ["confidence_above_1.txt", "invalid_utf8_line3.txt", "iri_with_gt.txt"]]
    assert [p.name for p in two_paths] == [p.name for p in one_paths]
    if split is None:  # partition 5 holds only bad documents: no part
        assert [p.name for p in two_paths] == [f"part-0000{i}.nq" for i in (0, 1, 2, 3, 4, 6)] + ["figures.nq"]
    else:
        assert len(two_paths) > 7
    assert _without_run(two_paths) == _without_run(one_paths)


def test_partition_rule() -> None:
    """Consecutive files of the sorted list: a new partition past N files or once M bytes are reached."""
    sources = [f"f{i}" for i in range(7)]
    assert [p.sources for p in partitions(sources, [1] * 7, files=3, size=100)] == [("f0", "f1", "f2"), ("f3", "f4", "f5"), ("f6",)]
    cut = partitions(sources, [10, 50, 60, 1, 200, 1, 1], files=100, size=100)
    assert [p.sources for p in cut] == [("f0", "f1", "f2"), ("f3", "f4"), ("f5", "f6")]
    assert [p.stem for p in cut] == ["part-00000", "part-00001", "part-00002"]


def test_same_bytes_whatever_the_jobs(tmp_path: Path) -> None:
    """A rerun takes up the folder's run: with one process or two, the same files, byte for byte."""
    first = convert([SEEDS], output=tmp_path / "out", gzip=True, jobs=2, partition_files=2)
    before = {p.name: (tmp_path / "out" / p.name).read_bytes() for p in first.parts}
    for part in first.parts:
        (tmp_path / "out" / part.name).unlink()
    again = convert([SEEDS], output=tmp_path / "out", gzip=True, jobs=1, partition_files=2)
    assert again.resumed == 0 and [p.sha256 for p in again.parts] == [p.sha256 for p in first.parts]
    assert {p.name: (tmp_path / "out" / p.name).read_bytes() for p in again.parts} == before


def test_a_rerun_redoes_only_the_missing_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    first = convert([SEEDS], output=out, jobs=1, partition_files=3)
    manifest = (out / "_SUCCESS.json").read_text()
    # As a run stopped half-way leaves it: no manifest, one part gone, another without its record.
    (out / "_SUCCESS.json").unlink()
    (out / "part-00001.nq").unlink()
    (out / "_partitions" / "00002.json").unlink()
    done: list[int] = []
    real = convert_module.convert_partition

    def counted(job: convert_module.ConvertJob, partition: convert_module.Partition) -> convert_module.PartitionResult:
        done.append(partition.index)
        return real(job, partition)

    monkeypatch.setattr(convert_module, "convert_partition", counted)
    again = convert([SEEDS], output=out, jobs=1, partition_files=3)
    assert done == [1, 2]
    assert again.resumed == 1
    assert again.summary() == f"8 documents written to 4 files in {out}, 0 failed, 1 empty; 137 mentions, 0 unplaced; 1 of 3 partitions already written"
    assert (out / "_SUCCESS.json").read_text() == manifest
    assert [p.sha256 for p in again.parts] == [p.sha256 for p in first.parts]


def test_a_folder_of_another_run_is_refused_or_cleared(tmp_path: Path) -> None:
    out = tmp_path / "out"
    convert([SEEDS], output=out, jobs=1)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(GraphbuildError) as caught:
        convert([SEED], output=out, jobs=1)
    assert str(caught.value) == (
        f"{out} already holds 5 files of another run (_RUN.json, _SUCCESS.json, _partitions/00000.json, …); "
        "write to an empty folder, or ask for these to be cleared first (overwrite)"
    )
    result = runner.invoke(app, ["convert", str(SEED), "--output", str(out), "--quiet"])
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {out} already holds 5 files of another run")
    result = runner.invoke(app, ["convert", str(SEED), "--output", str(out), "--quiet", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "_RUN.json", "_SUCCESS.json", "_partitions/00000.json", "figures.nq", "notes.txt", "part-00000.nq"
    ]
    assert json.loads((out / "_SUCCESS.json").read_text())["documents"] == 1


def test_the_manifest(tmp_path: Path) -> None:
    corpus = _mixed_corpus(tmp_path / "corpus")
    report = convert([corpus], output=tmp_path / "out", gzip=True, jobs=1, partition_files=5)
    manifest = json.loads((tmp_path / "out" / "_SUCCESS.json").read_text())
    assert manifest["made_by"] == "convert" and manifest["graphbuild"] == __version__
    assert manifest["run"] == report.manifest.run and manifest["run"].startswith("https://w3id.org/graphbuild/ns#run-")
    assert manifest["inputs"] == 14
    assert manifest["inputs_sha256"] == hashlib.sha256("\n".join(sorted(str(p) for p in corpus.iterdir())).encode()).hexdigest()
    assert manifest["failed"] == [str(e) for e in report.errors] and len(manifest["failed"]) == 3
    assert [p["name"] for p in manifest["parts"]] == ["part-00000.nq.gz", "part-00001.nq.gz", "part-00002.nq.gz", "figures.nq.gz"]
    assert manifest["figures"] == "figures.nq.gz"
    for part in manifest["parts"]:
        data = (tmp_path / "out" / part["name"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (part["bytes"], part["sha256"])
        assert len(_quads([tmp_path / "out" / part["name"]])) == part["quads"]
    assert [p["documents"] for p in manifest["parts"]] == [5, 3, 4, 0]
    assert (manifest["documents"], manifest["quads"]) == (12, sum(p["quads"] for p in manifest["parts"]))


def test_cli_convert(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(SEEDS), "--output", str(tmp_path / "nq"), "--quiet"])
    assert result.exit_code == 0
    assert result.stdout == f"8 documents written to 2 files in {tmp_path / 'nq'}, 0 failed, 1 empty; 137 mentions, 0 unplaced\n"


def test_scaling_out_recipe_loads_into_virtuoso(writable_virtuoso: VirtuosoServer) -> None:
    """The scaling-out recipe (docs/scaling.md): convert, then Virtuoso's bulk loader, then query."""
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


def test_partitions_figures_are_summed_in_partition_order_and_not_kept() -> None:
    # Confidences whose sum depends on the order it is taken in: 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1.
    def result(index: int, confidence: float) -> convert_module.PartitionResult:
        row = ("http://dbpedia.org/resource/Pain", 1, 1, 1, confidence, confidence, (("pain", 1, 1),))
        return convert_module.PartitionResult(index, 1, (), 1, 1, 0, 0, (), (), (), (row,))

    figures = convert_module._FiguresInOrder([0, 1, 2])
    kept = [figures.add(result(index, confidence)) for index, confidence in ((2, 0.3), (1, 0.2), (0, 0.1))]
    assert [k.figures for k in kept] == [(), (), ()]
    (pain,) = figures.totals.rows()
    assert pain[:4] == ("http://dbpedia.org/resource/Pain", 3, 3, 3)
    assert pain[4] == 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1
    assert pain[6] == (("pain", 3, 3),)
