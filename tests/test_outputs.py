"""Output files that look complete but are not (issue 13): export and convert killed at
several moments leave nothing partial under a final name; a reused folder is refused."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest
from conftest import ROOT, SEED, SEEDS
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.files import TEMPORARY
from graphbuild.pipeline.convert import convert
from graphbuild.pipeline.load import load
from graphbuild.store.embedded import EmbeddedStore

sys.path.insert(0, str(ROOT / "bench"))

from generate import generate

runner = CliRunner()
GRAPHBUILD = str(Path(sys.executable).with_name("graphbuild"))
DOC = "https://w3id.org/graphbuild/doc/"
DOCUMENTS = 400


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outputs") / "corpus"
    generate(folder, documents=DOCUMENTS, formats={"summary"})
    return folder / "summary"


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    work = tmp_path_factory.mktemp("outputs")
    convert([corpus], output=work / "parts", jobs=2)
    with EmbeddedStore.open(work / "store") as store:
        assert load([work / "parts"], store=store).documents == DOCUMENTS
    return work / "store"


def _killed_when(command: list[str], moment: Callable[[], bool], *, timeout: float = 120) -> None:
    """Run ``command`` and SIGKILL it, children and all, once ``moment()`` holds; fail if it
    finished first (then nothing was tested)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not moment():
            assert process.poll() is None, f"finished before the moment came: {process.stderr.read().decode() if process.stderr else ''}"
            assert time.monotonic() < deadline, "the moment never came"
            time.sleep(0.002)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(30)
    assert process.returncode == -signal.SIGKILL


def _whole(path: Path) -> int:
    """The quads of a part file, which must be whole (gzip complete, N-Quads to the end)."""
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    assert data.endswith(b" .\n"), path
    return len(list(pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_QUADS)))


def _finals(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and TEMPORARY not in p.name)


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if TEMPORARY in p.name] if folder.is_dir() else []


def test_export_to_a_file_killed_half_way(tmp_path: Path, big_store: Path) -> None:
    target = tmp_path / "all.nq"
    command = [GRAPHBUILD, "export", "--store", str(big_store), "--output", str(target)]
    _killed_when(command, lambda: any(p.stat().st_size > 1 << 16 for p in _temporaries(tmp_path)))
    assert not target.exists()
    # Whole, it is there, and what the killed run left is gone.
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert _whole(target) > 50_000 and not _temporaries(tmp_path)


@pytest.mark.parametrize("moment", ["writing the first part", "after the first part"])
def test_export_split_killed_half_way(tmp_path: Path, big_store: Path, moment: str) -> None:
    out = tmp_path / "parts"
    command = [GRAPHBUILD, "export", "--store", str(big_store), "--format", "nquads", "--split", "20000", "--gzip", "--output", str(out)]
    if moment == "writing the first part":
        _killed_when(command, lambda: bool(_temporaries(out)))
    else:
        _killed_when(command, lambda: any(p.name.startswith("part-") for p in _finals(out)) if out.is_dir() else False)
    assert not (out / "_SUCCESS.json").exists()
    for part in _finals(out):
        _whole(part)
    refused = runner.invoke(app, ["load", str(out), "--store", str(tmp_path / "store")])
    assert refused.exit_code == 1 and "_SUCCESS.json not found" in refused.stderr


@pytest.mark.parametrize("moment", ["run recorded", "writing a part", "three partitions written"])
def test_convert_killed_half_way_then_rerun(tmp_path: Path, corpus: Path, moment: str) -> None:
    out = tmp_path / "parts"
    call = f"from graphbuild.pipeline.convert import convert; convert([{str(corpus)!r}], output={str(out)!r}, gzip=True, jobs=2, partition_files=20)"
    command = [sys.executable, "-c", call]
    records = out / "_partitions"
    moments = {
        "run recorded": lambda: (out / "_RUN.json").exists(),
        "writing a part": lambda: bool(_temporaries(out)),
        "three partitions written": lambda: records.is_dir() and len([p for p in records.iterdir() if TEMPORARY not in p.name]) >= 3,
    }
    _killed_when(command, moments[moment])
    assert not (out / "_SUCCESS.json").exists()
    for part in _finals(out):
        if part.name.endswith(".nq.gz"):
            _whole(part)
    report = convert([corpus], output=out, gzip=True, jobs=2, partition_files=20)
    assert (report.written, report.partitions) == (DOCUMENTS, 20)
    assert moment != "three partitions written" or report.resumed >= 3
    assert not _temporaries(out)
    documents = []
    for part in report.parts:
        data = gzip.decompress((out / part.name).read_bytes())
        documents.extend({q.graph_name.value for q in pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_QUADS) if q.graph_name.value.startswith(DOC)})
    assert len(documents) == len(set(documents)) == DOCUMENTS
    with EmbeddedStore.open(tmp_path / "store") as store:
        assert load([out], store=store).documents == DOCUMENTS
        assert store.stats().documents == DOCUMENTS


def test_a_reused_split_folder_is_refused_or_cleared(tmp_path: Path) -> None:
    """Reusing a --split folder kept the old parts: loading it gave 1,740 documents for 8."""
    seeds, seed, out = tmp_path / "seeds", tmp_path / "seed", tmp_path / "parts"
    assert runner.invoke(app, ["ingest", str(SEEDS), "--store", str(seeds), "--quiet"]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(SEED), "--store", str(seed), "--quiet"]).exit_code == 0
    export = ["export", "--format", "nquads", "--split", "50", "--output", str(out)]
    first = runner.invoke(app, [*export, "--store", str(seeds)])
    assert first.exit_code == 0, first.output
    files = len(json.loads((out / "_SUCCESS.json").read_text())["parts"])
    assert files > 5
    again = runner.invoke(app, [*export, "--store", str(seed)])
    assert again.exit_code == 1
    assert again.stderr == (
        f"Error: {out} already holds {files + 1} files of another run (_SUCCESS.json, part-00000.nq, part-00001.nq, …); "
        "write to an empty folder, or ask for these to be cleared first (overwrite)\n"
    )
    cleared = runner.invoke(app, [*export, "--store", str(seed), "--overwrite"])
    assert cleared.exit_code == 0, cleared.output
    manifest = json.loads((out / "_SUCCESS.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(["_SUCCESS.json", *(p["name"] for p in manifest["parts"])])
    assert manifest["documents"] == 1
    loaded = runner.invoke(app, ["load", str(out), "--store", str(tmp_path / "store")])
    assert loaded.exit_code == 0, loaded.output
    with EmbeddedStore.open(tmp_path / "store") as store:
        assert store.stats().documents == 1


def test_convert_into_a_folder_of_an_export_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "parts"
    assert runner.invoke(app, ["ingest", str(SEED), "--store", str(tmp_path / "store"), "--quiet"]).exit_code == 0
    assert runner.invoke(app, ["export", "--store", str(tmp_path / "store"), "--format", "nquads", "--split", "1000", "--output", str(out)]).exit_code == 0
    result = runner.invoke(app, ["convert", str(SEED), "--output", str(out), "--quiet"])
    assert result.exit_code == 1 and "already holds 2 files of another run" in result.stderr
    assert convert([SEED], output=out, overwrite=True, jobs=1).written == 1
