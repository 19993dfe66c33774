from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import SEED
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.store.server import server_command

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _select(endpoint: str, query: str) -> list[dict]:
    request = urllib.request.Request(
        endpoint + "/query",
        data=urllib.parse.urlencode({"query": query}).encode(),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["results"]["bindings"]


def _wait_until_up(endpoint: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            urllib.request.urlopen(endpoint + "/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not come up")


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    assert runner.invoke(app, ["ingest", str(SEED), "--store", str(store)]).exit_code == 0
    return store


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_serve_answers_sparql_over_http(seeded: Path, read_only: bool) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "graphbuild", "serve", "--store", str(seeded), "--bind", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(command + (["--read-only"] if read_only else []), stderr=subprocess.PIPE, text=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, proc)
        # no GRAPH ?g: the server's default graph is the union, as for `graphbuild sparql`
        rows = _select(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?m <http://www.w3.org/2005/11/its/rdf#taIdentRef> ?e }")
        assert rows == [{"n": {"type": "literal", "value": "12", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # the oxigraph server went with it: nothing answers on the port any more
    deadline = time.monotonic() + 10
    while _listening(port):
        assert time.monotonic() < deadline, "the oxigraph server outlived `graphbuild serve`"
        time.sleep(0.1)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_serve_binds_to_loopback_by_default(tmp_path: Path) -> None:
    command = server_command(tmp_path)
    assert command[command.index("--bind") + 1] == "127.0.0.1:7878"
    assert "--union-default-graph" in command


def test_store_in_use_is_said_clearly(seeded: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import pyoxigraph, time; s = pyoxigraph.Store({str(seeded)!r}); print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = runner.invoke(app, ["serve", "--store", str(seeded), "--bind", f"127.0.0.1:{_free_port()}"])
        assert result.exit_code == 1
        assert result.stderr.splitlines()[-1] == (
            f"Error: the store at {seeded} is in use by another process (a running ingest or serve?); stop it and try again"
        )
    finally:
        holder.kill()
        holder.wait()
