"""graphbuild load: part files into a new embedded store through the bulk loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEED, SEEDS
from typer.testing import CliRunner

from graphbuild import cli
from graphbuild.cli import app
from graphbuild.errors import GraphbuildError, StoreError
from graphbuild.model.vocab import FIGURES_GRAPH
from graphbuild.pipeline.convert import convert
from graphbuild.pipeline.ingest import ingest
from graphbuild.pipeline.load import load
from graphbuild.store.embedded import EmbeddedStore

runner = CliRunner()


def _figures(store: EmbeddedStore) -> set[str]:
    return {str(q) for q in store.quads(FIGURES_GRAPH)}


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds converted into three partitions, gzipped."""
    out = tmp_path_factory.mktemp("load") / "parts"
    convert([SEEDS], output=out, gzip=True, jobs=1, partition_files=3)
    return out


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, set[str]]:
    """What ingest stores for the seeds: its stats and its figures."""
    with EmbeddedStore.open(tmp_path_factory.mktemp("ingested") / "store") as store:
        ingest([SEEDS], store=store)
        return store.stats(), _figures(store)


def test_a_folder_loads_what_ingest_stores(tmp_path: Path, parts: Path, ingested: tuple[object, set[str]]) -> None:
    seen: list[tuple[str, int, int | None]] = []
    with EmbeddedStore.open(tmp_path / "store") as store:
        report = load([parts], store=store, progress=lambda *args: seen.append(args))
        stats = store.stats()
        assert _figures(store) == ingested[1]
    assert (stats.documents, stats.mentions, stats.resources) == (8, 137, 70)
    assert stats.quads == report.quads == json.loads((parts / "_SUCCESS.json").read_text())["quads"]
    assert (report.files, report.documents, report.figures_rebuilt) == (4, 8, False)
    assert seen and seen[-1] == ("MiB", 1, 1)


def test_part_files_named_one_by_one_get_their_figures_recomputed(tmp_path: Path, parts: Path) -> None:
    with EmbeddedStore.open(tmp_path / "whole") as store:
        ingest(sorted(SEEDS.glob("*.txt"))[:3], store=store)
        expected = _figures(store)
    with EmbeddedStore.open(tmp_path / "store") as store:
        # The first partition (3 files) alone, with the figures of the whole run: those must not stay.
        report = load([parts / "part-00000.nq.gz", parts / "figures.nq.gz"], store=store)
        assert report.figures_rebuilt and report.documents is None
        assert store.stats().documents == 3
        assert _figures(store) == expected


def test_cli_load(tmp_path: Path, parts: Path) -> None:
    result = runner.invoke(app, ["load", str(parts), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    quads = json.loads((parts / "_SUCCESS.json").read_text())["quads"]
    assert result.stdout == f"{quads:,} quads of 8 documents loaded from 4 files (0.0 MiB) into {tmp_path / 'store'}\n"
    again = runner.invoke(app, ["load", str(parts), "--store", str(tmp_path / "store")])
    assert again.exit_code == 1
    assert again.stderr.startswith(f"Error: the store at {tmp_path / 'store'} already holds graphs: load fills a new store")
    served = runner.invoke(app, ["load", str(parts), "--store", "http://127.0.0.1:7878"])
    assert served.exit_code == 1 and "a SPARQL server has its own bulk loader" in served.stderr


def test_a_large_load_suggests_optimize(tmp_path: Path, parts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.build, "OPTIMIZE_TIP_FROM", 8)
    result = runner.invoke(app, ["load", str(parts), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].startswith(f"tip: after a load this large, `graphbuild optimize --store {tmp_path / 'store'}`")
    monkeypatch.setattr(cli.build, "OPTIMIZE_TIP_FROM", 9)
    assert "tip:" not in runner.invoke(app, ["load", str(parts), "--store", str(tmp_path / "other")]).stderr


def test_a_folder_without_its_manifest_loads_nothing(tmp_path: Path) -> None:
    out = tmp_path / "parts"
    convert([SEEDS], output=out, jobs=1)
    (out / "_SUCCESS.json").unlink()
    with EmbeddedStore.open(tmp_path / "store") as store, pytest.raises(GraphbuildError) as caught:
        load([out], store=store)
    assert str(caught.value) == (
        f"{out / '_SUCCESS.json'} not found: the run that writes {out} has not finished "
        "(rerun it to complete the folder), or name the part files to load them as they are"
    )


@pytest.mark.parametrize("change", ["cut", "altered"])
def test_parts_that_differ_from_the_manifest_load_nothing(tmp_path: Path, change: str) -> None:
    out = tmp_path / "parts"
    convert([SEEDS], output=out, jobs=1, partition_files=4)
    part = out / "part-00001.nq"
    data = part.read_bytes()
    part.write_bytes(data[:-10] if change == "cut" else data.replace(b"<http", b"<httq", 1))
    with EmbeddedStore.open(tmp_path / "store") as store:
        with pytest.raises(GraphbuildError) as caught:
            load([out], store=store)
        assert store.is_empty()
    problem = (
        f"{part}: {len(data) - 10:,} bytes, the manifest says {len(data):,}"
        if change == "cut"
        else f"{part}: its SHA-256 differs from the manifest's (the file changed)"
    )
    assert str(caught.value) == f"{out / '_SUCCESS.json'} does not match the folder, nothing loaded:\n{problem}"


def test_a_bad_part_leaves_the_store_empty(tmp_path: Path) -> None:
    good = tmp_path / "good"
    convert([SEED], output=good, jobs=1)
    bad = tmp_path / "bad.nq"
    bad.write_text('<http://a> <http://b> "c" <http://g> .\n<http://a> <http://b> "unclosed <http://g> .\n')
    with EmbeddedStore.open(tmp_path / "store") as store:
        with pytest.raises(GraphbuildError, match=rf"^{bad}: not N-Quads: .*nothing loaded \(the store is left empty\)$"):
            load([good / "part-00000.nq", bad], store=store)
        assert store.is_empty()


def test_a_store_with_graphs_is_refused(seed_store: EmbeddedStore, parts: Path) -> None:
    before = seed_store.quad_count()
    with pytest.raises(StoreError, match="already holds graphs"):
        load([parts], store=seed_store)
    assert seed_store.quad_count() == before
