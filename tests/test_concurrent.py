"""Concurrent use of one store, and reads that meet a store changing under them: a clear
message naming who holds the store and what to do, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph
import pytest
from conftest import SEED
from servers import OxigraphServer
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.store import holder

runner = CliRunner()


def _another_document(tmp_path: Path) -> Path:
    more = tmp_path / "more.txt"
    more.write_text(SEED.read_text().replace("70018b3530a68054", "another"))
    return more


def test_a_second_ingest_is_told_which_ingest_holds_the_store(seeded: Path, tmp_path: Path) -> None:
    # The first ingest reads standard input, so it holds the store for as long as we like.
    first = subprocess.Popen(
        [sys.executable, "-m", "graphbuild", "ingest", "-", "--store", str(seeded)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while holder.held_by(seeded) is None:
            assert time.monotonic() < deadline and first.poll() is None, "the first ingest never opened the store"
            time.sleep(0.05)
        result = runner.invoke(app, ["ingest", str(_another_document(tmp_path)), "--store", str(seeded)])
        assert result.exit_code == 1
        assert re.fullmatch(
            rf"Error: the store at {re.escape(str(seeded))} is in use by `graphbuild ingest - --store {re.escape(str(seeded))}` "
            rf"\(pid {first.pid}, since \d\d:\d\d:\d\d\): wait until it ends \(or stop it\) and try again\n",
            result.stderr,
        ), result.stderr
        # A query meanwhile reads what is stored.
        result = runner.invoke(app, ["stats", "--store", str(seeded), "--format", "json"])
        assert result.exit_code == 0, result.output
        assert '"documents": 1' in result.stdout
    finally:
        first.communicate(b"", timeout=60)
    assert first.returncode == 0
    assert not (seeded / holder.HOLDER_FILE).exists()


def test_a_stale_holder_record_is_not_named(seeded: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    (seeded / holder.HOLDER_FILE).write_text(f'{{"pid": {dead.stdout.strip()}, "command": "graphbuild ingest x", "since": "2024-01-01T00:00:00"}}')
    assert holder.held_by(seeded) is None
    # The next writer opens the store and notes itself instead.
    assert runner.invoke(app, ["delete", "nothing-such", "--store", str(seeded)]).exit_code == 1
    assert not (seeded / holder.HOLDER_FILE).exists()


@pytest.mark.parametrize("command", [["ingest", str(SEED)], ["stats"], ["serve", "--bind", "127.0.0.1:0"]])
def test_a_folder_of_other_files_is_refused_and_left_as_it_was(tmp_path: Path, command: list[str]) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("not a store\n")
    result = runner.invoke(app, [*command, "--store", str(folder)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {folder} holds other files and no graphbuild store: give a new or empty folder, or a store's folder\n"
    )
    assert [p.name for p in folder.iterdir()] == ["todo.txt"]


def test_a_file_is_not_a_store(tmp_path: Path) -> None:
    file = tmp_path / "store.txt"
    file.write_text("x")
    result = runner.invoke(app, ["ingest", str(SEED), "--store", str(file)])
    assert (result.exit_code, result.stderr) == (1, f"Error: {file} is a file, not a store: a store is a folder\n")


def test_reading_a_store_whose_files_moved_is_an_error_line(seeded: Path) -> None:
    # What a reader meets when a writer's compaction deleted files it had listed, for good.
    for table in seeded.glob("*.sst"):
        table.unlink()
    for command in (["stats"], ["query", "top-entities"], ["export"]):
        result = runner.invoke(app, [*command, "--store", str(seeded)])
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert re.fullmatch(
            rf"Error: the store at {re.escape(str(seeded))} could not be read: its files are damaged or were changed by "
            r"another process \(Corruption: .*\)\n",
            result.stderr,
        ), result.stderr


def test_a_reader_that_meets_a_compaction_opens_the_store_again(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = pyoxigraph.Store.read_only
    failures = [
        RuntimeError(f"Corruption: IO error: No such file or directory: While open a file for random read: {seeded}/000026.sst"),
        RuntimeError(f"Corruption: Sst file size mismatch between expected 1232 and file system 100 sstable: {seeded}/000026.sst"),
    ]

    def read_only(path: str) -> pyoxigraph.Store:
        if failures:
            raise failures.pop(0)
        return real(path)

    monkeypatch.setattr(pyoxigraph.Store, "read_only", staticmethod(read_only))
    result = runner.invoke(app, ["stats", "--store", str(seeded), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert failures == []
    assert '"documents": 1' in result.stdout


def test_a_reader_that_keeps_meeting_a_writer_names_it(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        holder.record(seeded, pid=writer.pid)

        def read_only(path: str) -> pyoxigraph.Store:
            raise RuntimeError(f"Corruption: IO error: No such file or directory: {path}/000026.sst")

        monkeypatch.setattr(pyoxigraph.Store, "read_only", staticmethod(read_only))
        result = runner.invoke(app, ["stats", "--store", str(seeded)])
        assert result.exit_code == 1
        assert re.fullmatch(
            rf"Error: the store at {re.escape(str(seeded))} kept changing while it was read: `.*` \(pid {writer.pid}, "
            r"since \d\d:\d\d:\d\d\) is writing it; try again once it is done \(Corruption: IO error: No such file or directory: .*\)\n",
            result.stderr,
        ), result.stderr
    finally:
        writer.kill()
        writer.wait()


def test_a_failing_service_while_rows_stream_is_an_error_line(seeded: Path) -> None:
    query = "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } } }"
    result = runner.invoke(app, ["sparql", query, "--store", str(seeded), "--format", "csv"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_server_answer_cut_short_by_a_failing_service_is_an_error_line(oxigraph_server: OxigraphServer) -> None:
    store = oxigraph_server.query_url.rsplit("/", 1)[0]
    query = "SELECT * WHERE { { BIND(1 AS ?x) } UNION { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } } }"
    for command in (["sparql", query, "--format", "csv"], ["sparql", query.replace("SELECT *", "CONSTRUCT { ?s ?p ?o }")]):
        result = runner.invoke(app, [*command, "--store", store])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"Error: the query failed while {oxigraph_server.query_url} sent its results (the answer is cut short: ")
        assert result.exception is None or isinstance(result.exception, SystemExit)
