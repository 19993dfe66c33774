from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import SEED
from servers import FaultServer
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.store.server import DEFAULT_BIND, server_command

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
    assert DEFAULT_BIND == "127.0.0.1:7878"
    command = server_command(tmp_path)
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


# --- the guard: what a served store takes, and from whom ------------------------------------

MENTIONS = "SELECT (COUNT(*) AS ?n) WHERE { ?m <http://www.w3.org/2005/11/its/rdf#taIdentRef> ?e }"
INSERT = "INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> <urn:x:o> } }"


class Served:
    """``graphbuild serve`` in a subprocess, up once its banner is out."""

    def __init__(self, store: Path, *options: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "graphbuild", "serve", "--store", str(store), "--bind", f"127.0.0.1:{self.port}", *options],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.banner = self.process.stderr.readline().rstrip("\n")
        assert self.banner.startswith("serving "), self.banner + self.process.stderr.read()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=20)

    def request(self, path: str, *, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=data, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def form(self, path: str, fields: dict[str, str], **headers: str) -> tuple[int, bytes]:
        return self.request(path, data=urllib.parse.urlencode(fields).encode(), headers=headers)

    def count(self) -> int:
        status, body = self.form("/query", {"query": MENTIONS}, Accept="application/sparql-results+json")
        assert status == 200, body
        return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One read-only server for the tests that only read (or are refused)."""
    store = tmp_path_factory.mktemp("served") / "store"
    assert runner.invoke(app, ["ingest", str(SEED), "--store", str(store)]).exit_code == 0
    server = Served(store)
    yield server
    server.stop()


def test_serve_is_read_only_by_default_and_says_so(served: Served) -> None:
    assert served.banner == (
        f"serving {served.process.args[5]} at {served.url}/, read-only (SPARQL: /query; Graph Store: /store, reading); Ctrl-C stops"
    )
    assert served.form("/update", {"update": INSERT}) == (
        403,
        b"this server is read-only: updates are refused (a server started writable takes them)\n",
    )
    status, _ = served.request("/store?graph=urn:x:g", data=b"<urn:x:s> <urn:x:p> <urn:x:o> .", headers={"Content-Type": "application/n-triples"}, method="PUT")
    assert status == 403
    status, _ = served.request("/store?graph=urn:x:g", method="DELETE")
    assert status == 403
    # Reads go on: the three ways of sending a query, and the query UI.
    assert served.count() == 12
    query = urllib.parse.urlencode({"query": MENTIONS})
    status, body = served.request(f"/query?{query}", headers={"Accept": "text/csv"})
    assert (status, body) == (200, b"n\r\n12\r\n")
    status, body = served.request("/query", data=MENTIONS.encode(), headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    assert (status, body) == (200, b"n\r\n12\r\n")
    status, body = served.request("/")
    assert status == 200 and b"<html" in body.lower()


def test_serve_refuses_other_host_names_and_other_sites(served: Served) -> None:
    # DNS rebinding: a page at http://attacker.example:PORT whose name now points at 127.0.0.1
    status, body = served.form("/query", {"query": MENTIONS}, Host=f"attacker.example:{served.port}")
    assert (status, body) == (403, b"this server does not answer to the host name 'attacker.example:" + str(served.port).encode() + b"'\n")
    assert served.form("/query", {"query": MENTIONS}, Host=f"127.0.0.1:{served.port + 1}")[0] == 403
    # A page on another site posting a form, or fetching
    status, body = served.form("/query", {"query": MENTIONS}, Origin="http://attacker.example")
    assert (status, body) == (403, b"requests from another site (http://attacker.example) are refused\n")
    assert served.form("/query", {"query": MENTIONS}, Origin=f"http://localhost:{served.port + 1}")[0] == 403
    # The server's own pages (the query UI) and tools that send no Origin go through.
    assert served.form("/query", {"query": MENTIONS}, Origin=served.url, Host=f"127.0.0.1:{served.port}")[0] == 200
    assert served.form("/query", {"query": MENTIONS}, Host=f"localhost:{served.port}")[0] == 200


def test_serve_makes_no_outbound_call(served: Served, fault_server: Callable[..., FaultServer]) -> None:
    listener = fault_server()
    for query in (
        f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ ?x ?y ?z OPTIONAL {{ service silent <{listener.url}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ SERVICE<{listener.url}>{{?s ?p ?o}} }}",
    ):
        status, body = served.form("/query", {"query": query})
        assert (status, body) == (403, b"SERVICE is refused: this server makes no requests to other servers\n"), query
    status, _ = served.request(f"/query?{urllib.parse.urlencode({'query': f'SELECT * {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}'})}")
    assert status == 403
    # A variable, a prefixed name or a string that spells the keyword is no call.
    query = 'PREFIX service: <urn:x:> SELECT ?service WHERE { BIND("SERVICE <http://x/>" AS ?service) FILTER(?service != service:load) }'
    assert served.form("/query", {"query": query}, Accept="application/sparql-results+json")[0] == 200
    assert listener.requests == []


def test_a_writable_server_takes_writes_from_its_own_site_only(seeded: Path) -> None:
    server = Served(seeded, "--writable")
    try:
        assert server.banner == f"serving {seeded} at {server.url}/ (SPARQL: /query, /update; Graph Store: /store); Ctrl-C stops"
        assert server.form("/update", {"update": INSERT}, Origin="http://attacker.example")[0] == 403
        assert server.form("/update", {"update": f"LOAD <{server.url}/store?default>"})[0] == 403
        assert server.form("/update", {"update": INSERT})[0] == 204
        status, body = server.form("/query", {"query": "ASK { GRAPH <urn:x:g> { <urn:x:s> ?p ?o } }"}, Accept="application/sparql-results+json")
        assert json.loads(body)["boolean"] is True
    finally:
        server.stop()


def test_serve_read_only_answers_from_its_snapshot_while_an_ingest_writes(seeded: Path, tmp_path: Path) -> None:
    server = Served(seeded, "--read-only")
    try:
        assert server.banner == (
            f"serving a snapshot of {seeded} at {server.url}/, read-only (SPARQL: /query; Graph Store: /store, reading): "
            "it answers from the store as it was when the server started, whatever is written to it since; Ctrl-C stops"
        )
        assert "/update" not in server.banner
        more = tmp_path / "more.txt"
        more.write_text(SEED.read_text().replace("70018b3530a68054", "another"))
        ingested = runner.invoke(app, ["ingest", str(more), "--store", str(seeded)])
        assert ingested.exit_code == 0, ingested.output
        assert server.count() == 12  # the snapshot, not the 24 mentions now stored
    finally:
        server.stop()


def test_serve_fails_before_its_banner_when_the_port_is_taken(seeded: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--store", str(seeded), "--bind", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_serve_makes_no_store_where_there_is_none(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    result = runner.invoke(app, ["serve", "--store", str(missing), "--bind", f"127.0.0.1:{_free_port()}"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: no store at {missing}: ingest documents into it first\n"
    assert not missing.exists()


def test_an_ingest_while_serve_holds_the_store_is_told_who_and_what_to_do(seeded: Path, tmp_path: Path) -> None:
    more = tmp_path / "more.txt"
    more.write_text(SEED.read_text().replace("70018b3530a68054", "another"))
    server = Served(seeded)
    try:
        result = runner.invoke(app, ["ingest", str(more), "--store", str(seeded)])
        assert result.exit_code == 1
        assert re.fullmatch(
            rf"Error: the store at {re.escape(str(seeded))} is served read-only by `graphbuild serve --store {re.escape(str(seeded))} "
            rf"--bind 127\.0\.0\.1:{server.port}` \(pid {server.process.pid}, since \d\d:\d\d:\d\d\) at {re.escape(server.url)}: "
            r"stop the server and try again \(or serve it writable and write to it over HTTP with its URL as the store\)\n",
            result.stderr,
        ), result.stderr
    finally:
        server.stop()
    server = Served(seeded, "--writable")
    try:
        result = runner.invoke(app, ["ingest", str(more), "--store", str(seeded)])
        assert result.exit_code == 1
        assert f"is served by `graphbuild serve --store {seeded} --bind 127.0.0.1:{server.port} --writable`" in result.stderr
        assert result.stderr.endswith(f"at {server.url}: write to it over HTTP with {server.url} as the store, or stop the server and try again\n")
        # … and doing what it says works.
        result = runner.invoke(app, ["ingest", str(more), "--store", server.url])
        assert result.exit_code == 0, result.output
        assert server.count() == 24
    finally:
        server.stop()
    assert not (seeded / "holder.json").exists()


def test_serve_answers_only_at_its_own_paths(served: Served, fault_server: Callable[..., FaultServer]) -> None:
    listener = fault_server()
    query = urllib.parse.urlencode({"query": f"SELECT * {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"})
    for path in (f"/query/?{query}", f"//query?{query}", f"/update/?{query}"):
        status, _ = served.request(path)
        assert status in (403, 404), path  # //query is read as /query, and its SERVICE refused
    assert served.request("/query/", data=query.encode())[0] == 404
    # The query UI is served without the query string, which Oxigraph never sees.
    status, body = served.request(f"/?{query}")
    assert status == 200 and b"<html" in body.lower()
    assert listener.requests == []
