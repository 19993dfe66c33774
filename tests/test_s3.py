"""Inputs read from, and parts written to, an S3-compatible server (moto on 127.0.0.1) through fsspec."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

from conftest import DATA, SEEDS
from servers import S3Server
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.files import TEMPORARY
from graphbuild.pipeline.convert import convert
from graphbuild.pipeline.load import load
from graphbuild.store.embedded import EmbeddedStore

runner = CliRunner()
DERIVED = "<http://www.w3.org/ns/prov#wasDerivedFrom>"


def _upload(fs: Any, folder: Path) -> None:
    fs.mkdir("corpus")
    for path in sorted(folder.iterdir()):
        fs.put_file(str(path), f"corpus/in/{path.name}")


def _lines(data: bytes) -> list[str]:
    """A part's lines but those that differ between two runs (the run, its time, the source's location)."""
    text = gzip.decompress(data).decode()
    return [line for line in text.splitlines() if not any(k in line for k in ("#run-", "AtTime", DERIVED))]


def test_convert_from_and_to_s3_then_load(tmp_path: Path, s3_server: S3Server) -> None:
    fs = s3_server.filesystem
    local = tmp_path / "corpus"
    shutil.copytree(SEEDS, local)
    shutil.copy(DATA / "summary" / "bad" / "confidence_above_1.txt", local / "zz-bad.txt")
    _upload(fs, local)
    report = convert(["s3://corpus/in"], output="s3://corpus/out", gzip=True, jobs=2, partition_files=4)
    assert (report.written, report.failed, report.empty, report.mentions) == (8, 1, 1, 137)
    assert [str(e) for e in report.errors] == ["s3://corpus/in/zz-bad.txt:4: confidence 0.95E1 is outside [0, 1]"]
    assert report.files == [f"s3://corpus/out/{name}" for name in ["part-00000.nq.gz", "part-00001.nq.gz", "part-00002.nq.gz", "figures.nq.gz"]]
    written = fs.find("corpus/out")
    assert not [name for name in written if TEMPORARY in name]
    assert "corpus/out/_SUCCESS.json" in written
    # The same parts as from the local copy, but where each document came from.
    here = convert([local], output=tmp_path / "here", gzip=True, jobs=1, partition_files=4)
    for part in here.parts:
        assert _lines(fs.cat_file(f"corpus/out/{part.name}")) == _lines((tmp_path / "here" / part.name).read_bytes())
    sources = {line.split(DERIVED)[1].split()[0] for line in gzip.decompress(fs.cat_file("corpus/out/part-00000.nq.gz")).decode().splitlines() if DERIVED in line}
    assert sources == {f"<s3://corpus/in/{p.name}>" for p in sorted(SEEDS.glob("*.txt"))[:4] if p.stat().st_size > 0}
    with EmbeddedStore.open(tmp_path / "store") as store:
        loaded = load(["s3://corpus/out"], store=store)
        stats = store.stats()
    assert (loaded.documents, loaded.files, loaded.figures_rebuilt) == (8, 4, False)
    assert (stats.documents, stats.mentions, stats.resources) == (8, 137, 70)


def test_cli_convert_to_s3(tmp_path: Path, s3_server: S3Server) -> None:
    fs = s3_server.filesystem
    _upload(fs, SEEDS)
    result = runner.invoke(app, ["convert", "s3://corpus/in", "--output", "s3://corpus/out", "--quiet", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "8 documents written to 2 files in s3://corpus/out, 0 failed, 1 empty; 137 mentions, 0 unplaced\n"
    again = runner.invoke(app, ["convert", str(SEEDS), "--output", "s3://corpus/out", "--quiet"])
    assert again.exit_code == 1 and again.stderr.startswith("Error: s3://corpus/out already holds 5 files of another run")
