"""What ingest and convert report through the one progress callback: documents as they are
written (not files as they are read), and bytes read where the documents' number is unknown."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from conftest import SEEDS

from graphbuild.model.vocab import DEFAULT_BASE
from graphbuild.pipeline import ingest as ingest_module
from graphbuild.pipeline.convert import convert
from graphbuild.pipeline.ingest import ingest
from graphbuild.store.embedded import EmbeddedStore

Call = tuple[str, int, "int | None"]


def _stored(store: EmbeddedStore) -> int:
    return sum(1 for graph in store.graphs() if graph.value.startswith(DEFAULT_BASE))


def _copies(folder: Path, count: int) -> Path:
    """``count`` summary files: the seeds (not the empty one) again and again under new names."""
    folder.mkdir()
    seeds = [seed for seed in sorted(SEEDS.glob("*.txt")) if seed.stat().st_size]
    for index in range(count):
        seed = seeds[index % len(seeds)]
        (folder / f"{index:04d}_{seed.name}").write_bytes(seed.read_bytes())
    return folder


def test_ingest_counts_documents_as_they_are_in_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bar counted files as the preparing process read them, and sat at 100% while the
    loads went on: each call now counts documents the store holds."""
    monkeypatch.setattr(ingest_module, "_BATCH_CHARS", 20_000)  # several batches from a small corpus
    corpus = _copies(tmp_path / "corpus", 40)
    calls: list[Call] = []
    with EmbeddedStore.open(tmp_path / "store") as store:

        def progress(stage: str, done: int, total: int | None) -> None:
            calls.append((stage, done, total))
            assert _stored(store) >= done

        report = ingest([corpus], store=store, progress=progress)
    assert report.loaded == 40
    assert {stage for stage, _, _ in calls} == {"documents"}
    assert all(total == 40 for _, _, total in calls)
    done = [d for _, d, _ in calls]
    assert done == sorted(done) and done[-1] == 40
    assert len(set(done)) > 3  # it moves through the run, not at its end only


def test_one_big_file_gets_a_bar_by_bytes(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"d{i}", "text": f"Pain number {i} and more pain."}) for i in range(3000)]
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    size = path.stat().st_size
    calls: list[Call] = []
    with EmbeddedStore.open(tmp_path / "store") as store:
        ingest([path], store=store, progress=lambda *call: calls.append(call), parallel=False)
    documents = [call for call in calls if call[0] == "documents"]
    read = [call for call in calls if call[0] == "bytes"]
    assert documents[-1] == ("documents", 3000, None) and all(total is None for _, _, total in documents)
    assert read[-1] == ("bytes", size, size) and all(total == size for _, _, total in read)
    positions = [done for _, done, _ in read]
    assert positions == sorted(positions)


def test_convert_counts_documents_written(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    calls: list[Call] = []
    convert([corpus], output=tmp_path / "out", progress=lambda *call: calls.append(call))
    # A partition's documents at a time: the seeds are one partition.
    assert calls == [("documents", 9, 9), ("documents", 9, 9)]
