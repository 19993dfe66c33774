"""convert on a real Dask scheduler and workers (127.0.0.1), against the local run."""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import threading
import time
from pathlib import Path

import pyoxigraph
import pytest
from conftest import DATA, ROOT, SEEDS
from servers import DaskCluster, free_port, start_dask
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.errors import GraphbuildError
from graphbuild.files import TEMPORARY
from graphbuild.pipeline.convert import convert

sys.path.insert(0, str(ROOT / "bench"))

from generate import generate

runner = CliRunner()
DOC = "https://w3id.org/graphbuild/doc/"


def _corpus(folder: Path) -> Path:
    """The seeds, two bad documents and KORE50 (JSON Lines): 8 + 3 documents, 2 failing."""
    folder.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy(path, folder / path.name)
    for name in ["confidence_above_1.txt", "iri_with_gt.txt"]:
        shutil.copy(DATA / "summary" / "bad" / name, folder / f"bad-{name}")
    shutil.copy(DATA / "jsonl" / "good" / "kore50.jsonl", folder / "kore50.jsonl")
    return folder


def _lines(path: Path) -> list[str]:
    """A part's lines but those that name the run or its time (they differ between runs)."""
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    return [line for line in text.splitlines() if "#run-" not in line and "generatedAtTime" not in line and "startedAtTime" not in line]


def _documents(folder: Path) -> list[str]:
    """Every document graph in the folder's parts, once per time it occurs."""
    graphs = []
    for part in sorted(folder.glob("part-*.nq*")):
        data = gzip.decompress(part.read_bytes()) if part.suffix == ".gz" else part.read_bytes()
        graphs.extend({q.graph_name.value for q in pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_QUADS) if q.graph_name.value.startswith(DOC)})
    return graphs


def test_the_cluster_writes_what_the_local_run_writes(tmp_path: Path, dask_cluster: DaskCluster) -> None:
    corpus = _corpus(tmp_path / "corpus")
    local = convert([corpus], output=tmp_path / "local", gzip=True, jobs=2, partition_files=3)
    remote = convert([corpus], output=tmp_path / "cluster", gzip=True, scheduler=dask_cluster.address, partition_files=3)
    assert (remote.written, remote.failed, remote.empty, remote.mentions) == (local.written, local.failed, local.empty, local.mentions)
    assert (remote.written, remote.failed, remote.empty) == (11, 2, 1)
    assert [p.name for p in remote.parts] == [p.name for p in local.parts] == [f"part-{i:05d}.nq.gz" for i in range(4)] + ["figures.nq.gz"]
    for part in local.parts:
        assert _lines(tmp_path / "cluster" / part.name) == _lines(tmp_path / "local" / part.name), part.name
    # The errors come back to the client, in input order, with the absolute paths the workers read.
    assert [str(e) for e in remote.errors] == [
        f"{corpus / 'bad-confidence_above_1.txt'}:4: confidence 0.95E1 is outside [0, 1]",
        f"{corpus / 'bad-iri_with_gt.txt'}:4: the link is not a valid IRI: 'http://dbpedia.org/resource/Cancer>pain'",
    ]
    manifest = json.loads((tmp_path / "cluster" / "_SUCCESS.json").read_text())
    assert manifest["failed"] == [str(e) for e in remote.errors]
    assert (manifest["documents"], manifest["inputs"]) == (11, 12)
    assert manifest["quads"] == json.loads((tmp_path / "local" / "_SUCCESS.json").read_text())["quads"]


def test_cli_convert_on_the_cluster(tmp_path: Path, dask_cluster: DaskCluster) -> None:
    result = runner.invoke(app, ["convert", str(SEEDS), "--output", str(tmp_path / "out"), "--scheduler", dask_cluster.address, "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"8 documents written to 2 files in {tmp_path / 'out'}, 0 failed, 1 empty; 137 mentions, 0 unplaced\n"
    assert sorted(_documents(tmp_path / "out")) == sorted(set(_documents(tmp_path / "out")))
    assert len(_documents(tmp_path / "out")) == 8


def test_a_worker_killed_mid_run(tmp_path: Path) -> None:
    """One of two workers dies while the run goes on: Dask gives its tasks to the other;
    every document is in the output exactly once, and no temporary file is left."""
    corpus = tmp_path / "corpus"
    generate(corpus, documents=600, formats={"summary"})
    records = tmp_path / "out" / "_partitions"
    with start_dask(tmp_path / "dask") as cluster:
        victim = cluster.workers[0]
        killed = threading.Event()

        def kill_once_under_way() -> None:
            # Once the first partitions are written, the workers are busy with the next ones.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not (records.is_dir() and len(list(records.iterdir())) >= 2):
                time.sleep(0.02)
            victim.kill()
            killed.set()

        killer = threading.Thread(target=kill_once_under_way, daemon=True)
        killer.start()
        report = convert([corpus], output=tmp_path / "out", scheduler=cluster.address, partition_files=20)
        killer.join()
        assert killed.is_set() and victim.wait(10) == -9
        assert cluster.joined() == 1
    assert (report.written, report.failed, report.partitions) == (600, 0, 30)
    documents = _documents(tmp_path / "out")
    assert len(documents) == len(set(documents)) == 600
    assert not [p for p in (tmp_path / "out").rglob("*") if TEMPORARY in p.name]
    manifest = json.loads((tmp_path / "out" / "_SUCCESS.json").read_text())
    assert manifest["documents"] == 600 and len(manifest["parts"]) == 31


def test_scheduler_unreachable(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["convert", str(SEEDS), "--output", str(tmp_path / "out"), "--scheduler", address])
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot reach the Dask scheduler at {address}: Connection refused\n"
    assert not (tmp_path / "out").exists()


def test_scheduler_without_dask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what an install without the extra gives
    with pytest.raises(GraphbuildError) as caught:
        convert([SEEDS], output=tmp_path / "out", scheduler="tcp://127.0.0.1:8786")
    assert str(caught.value) == (
        "running on a Dask scheduler (tcp://127.0.0.1:8786) needs dask.distributed: pip install 'graphbuild[cluster]'"
    )
    assert not (tmp_path / "out").exists()
    # The local path does without it.
    assert convert([SEEDS], output=tmp_path / "out", jobs=1).written == 8


def test_a_local_cluster(tmp_path: Path) -> None:
    report = convert([SEEDS], output=tmp_path / "out", scheduler="local", jobs=2, partition_files=4)
    local = convert([SEEDS], output=tmp_path / "here", jobs=1, partition_files=4)
    assert [p.name for p in report.parts] == [p.name for p in local.parts] == ["part-00000.nq", "part-00001.nq", "part-00002.nq", "figures.nq"]
    for part in local.parts:
        assert _lines(tmp_path / "out" / part.name) == _lines(tmp_path / "here" / part.name)
