"""Real SPARQL servers for tests, and a server that fails on purpose (a pytest plugin).

- ``start_oxigraph(folder)`` / ``start_virtuoso(folder)``: context managers that start the
  server on a free 127.0.0.1 port with its data in ``folder``, wait until it answers, yield a
  ``SparqlServer`` (``query_url``, ``update_url``, ``load(path, graph)``, ``stop()``) and stop
  it after. Oxigraph is the ``oxigraph`` package from PyPI (``oxigraph serve``); Virtuoso is
  Debian's ``virtuoso-opensource`` (``virtuoso-t`` with its own ``virtuoso.ini``, loaded with
  the bulk loader through ``isql-vt``). Missing binaries skip the test with the reason.
- Fixtures ``oxigraph_server`` and ``virtuoso_server``: one of each per session, empty;
  tests load what they need into graphs of their own.
- ``start_dask(folder, workers=2)``: a real ``dask scheduler`` and ``dask worker`` processes
  (the ``dask`` command beside this Python) on free 127.0.0.1 ports, one thread each, no
  dashboard; yields a ``DaskCluster`` (``address``, ``workers``: their processes) once every
  worker has joined, and stops them all after. Fixture ``dask_cluster``: one per module.
- Fixture ``s3_server``: moto's S3-compatible server (``ThreadedMotoServer``) on a free
  127.0.0.1 port, with the environment set (``AWS_ENDPOINT_URL``, test credentials) so
  that fsspec's ``s3://`` here and in child processes talks to it; stopped after the test.
- ``FaultServer``: a tiny HTTP server on 127.0.0.1 that plays a script of misbehaviours
  (``Reply``, ``Hang``, ``Trickle``, ``Partial``, ``Close``) and then passes requests on to
  a real upstream endpoint, recording every request. Fixture ``fault_server`` makes them.
- Fixture ``spotlight``: makes stand-in Spotlight servers (``tests/data/spotlight/spotlight_standin.py``),
  which answer ``/annotate`` from recorded answers.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from spotlight_standin import StandInSpotlight

_HOST = "127.0.0.1"
_RDF_TYPES = {".ttl": "text/turtle", ".nt": "application/n-triples", ".nq": "application/n-quads", ".trig": "application/trig"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return sock.getsockname()[1]


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen, what: str, timeout: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with status {process.returncode} while starting:\n{tail}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {timeout:g} s")


def _answers(url: str) -> bool:
    query = urllib.parse.urlencode({"query": "ASK {}"}).encode()
    request = urllib.request.Request(url, data=query, headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


@dataclass
class SparqlServer:
    """A running server: where to send queries and updates, and how to load data into it."""

    name: str
    query_url: str
    update_url: str
    folder: Path
    process: subprocess.Popen

    loaded: set[tuple[Path, str | None]] = field(default_factory=set)

    def load(self, path: Path, graph: str | None = None) -> None:
        raise NotImplementedError

    def ensure_loaded(self, path: Path, graph: str | None = None) -> None:
        """Load a file once per server, however many tests (or modules) ask for it."""
        key = (path.resolve(), graph)
        if key not in self.loaded:
            self.load(path, graph)
            self.loaded.add(key)

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        """SPARQL JSON bindings of a SELECT, for tests that look inside the server."""
        data = urllib.parse.urlencode({"query": query}).encode()
        request = urllib.request.Request(self.query_url, data=data, headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["results"]["bindings"]

    def stop(self) -> None:
        _stop(self.process)

    @property
    def running(self) -> bool:
        return self.process.poll() is None


class OxigraphServer(SparqlServer):
    def load(self, path: Path, graph: str | None = None) -> None:
        """Add an RDF file to ``graph`` (the default graph when None) through the Graph Store protocol."""
        target = f"graph={urllib.parse.quote(graph, safe='')}" if graph else "default"
        content_type = _RDF_TYPES[path.suffix.lower()]
        request = urllib.request.Request(
            f"{self.query_url.rsplit('/', 1)[0]}/store?{target}", data=path.read_bytes(), method="POST",
            headers={"Content-Type": content_type},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status in (200, 201, 204), response.status


class VirtuosoServer(SparqlServer):
    sql_port: int = 0

    def load(self, path: Path, graph: str | None = None) -> None:
        """Bulk-load an RDF file into ``graph`` (Virtuoso has no unnamed graph: None means ``urn:default``)."""
        inbox = self.folder / "load" / f"{time.monotonic_ns()}"
        inbox.mkdir(parents=True)
        shutil.copy(path, inbox / path.name)
        graph = graph or "urn:default"
        self.isql(
            f"ld_dir({_sql(str(inbox))}, {_sql(path.name)}, {_sql(graph)});\n"
            "rdf_loader_run();\ncheckpoint;\n"
        )
        failed = f"FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL AND ll_file LIKE {_sql(str(inbox) + '%')}"
        if self.isql(f"SELECT COUNT(*) {failed};").strip() != "0":
            raise RuntimeError(f"Virtuoso could not load {path}:\n{self.isql(f'SELECT ll_file, ll_error {failed};')}")

    def isql(self, sql: str) -> str:
        """Run SQL through ``isql-vt`` as dba; raises with its output when it reports an error."""
        done = subprocess.run(
            ["isql-vt", f"{_HOST}:{self.sql_port}", "dba", "dba", "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF"],
            input=sql, capture_output=True, text=True, timeout=120, check=False,
        )
        output = done.stdout + done.stderr
        if done.returncode != 0 or "*** Error" in output:
            raise RuntimeError(f"isql-vt failed ({done.returncode}):\n{output}")
        return output


def _sql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _require(binary: str, hint: str) -> str:
    found = shutil.which(binary)
    if found is None:
        pytest.skip(f"{binary} not found: {hint}")
    return found


def _oxigraph_binary() -> str:
    beside = Path(sys.executable).with_name("oxigraph")
    if beside.exists():
        return str(beside)
    return _require("oxigraph", "pip install oxigraph (the test extras have it)")


@contextmanager
def start_oxigraph(folder: Path, *, union_default_graph: bool = False, timeout: float = 30) -> Iterator[OxigraphServer]:
    """``oxigraph serve`` on a free port with its store in ``folder``."""
    binary = _oxigraph_binary()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [binary, "serve", "--location", str(folder / "data"), "--bind", f"{_HOST}:{port}"]
    if union_default_graph:
        command.append("--union-default-graph")
    log = folder / "oxigraph.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://{_HOST}:{port}"
    server = OxigraphServer("oxigraph", f"{base}/query", f"{base}/update", folder, process)
    try:
        _wait_until(lambda: _answers(server.query_url), process, "oxigraph serve", timeout, log)
        yield server
    finally:
        _stop(process)


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = {host}:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {folder}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CheckpointInterval = 0
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = {host}:{http_port}
ServerRoot = {db}
ServerThreads = 4
MaxClientConnections = 4
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = 60
"""


@contextmanager
def start_virtuoso(folder: Path, *, max_rows: int = 10_000, timeout: float = 60) -> Iterator[VirtuosoServer]:
    """``virtuoso-t`` in the foreground on free ports, its database and ``virtuoso.ini`` in ``folder``.

    ``max_rows`` is the endpoint's ResultSetMaxRows: 10,000 as on dbpedia.org.
    """
    binary = _require("virtuoso-t", "apt-get install virtuoso-opensource (.ci/run does)")
    _require("isql-vt", "apt-get install virtuoso-opensource (.ci/run does)")
    folder = folder.resolve()
    db = folder / "db"
    db.mkdir(parents=True, exist_ok=True)
    (folder / "load").mkdir(exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(_VIRTUOSO_INI.format(db=db, folder=folder, host=_HOST, sql_port=sql_port, http_port=http_port, max_rows=max_rows))
    log = folder / "virtuoso-t.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, "+foreground", "+configfile", str(ini)], cwd=db, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    base = f"http://{_HOST}:{http_port}"
    server = VirtuosoServer("virtuoso", f"{base}/sparql", f"{base}/sparql", folder, process)
    server.sql_port = sql_port
    try:
        _wait_until(lambda: _answers(server.query_url), process, "virtuoso-t", timeout, db / "virtuoso.log")
        yield server
    finally:
        _stop(process, timeout=60)


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """One empty ``oxigraph serve`` for the session (queries see the default graph)."""
    with start_oxigraph(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """One empty Virtuoso for the session (its default graph is the union of all graphs)."""
    with start_virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@dataclass
class DaskCluster:
    """A running scheduler and its workers (each its own process, with no nanny: killing
    one loses it, as a machine lost would)."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]
    folder: Path

    def joined(self) -> int:
        """How many workers the scheduler knows now."""
        from distributed import Client

        with Client(self.address, timeout=10) as client:
            return len(client.scheduler_info(n_workers=-1)["workers"])


def _dask_binary() -> str:
    beside = Path(sys.executable).with_name("dask")
    if beside.exists():
        return str(beside)
    return _require("dask", "pip install 'dask[distributed]' (the test extras have it)")


def _listening(port: int) -> bool:
    try:
        socket.create_connection((_HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


@contextmanager
def start_dask(folder: Path, *, workers: int = 2, timeout: float = 60) -> Iterator[DaskCluster]:
    """``dask scheduler`` and ``workers`` × ``dask worker`` on 127.0.0.1, logs in ``folder``."""
    binary = _dask_binary()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://{_HOST}:{port}"
    started: list[subprocess.Popen] = []

    def launch(command: list[str], log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=folder)
        started.append(process)
        return process

    try:
        scheduler = launch(
            [binary, "scheduler", "--host", _HOST, "--port", str(port), "--no-dashboard", "--no-show"], folder / "scheduler.log"
        )
        _wait_until(lambda: _listening(port), scheduler, "dask scheduler", timeout, folder / "scheduler.log")
        processes = [
            launch(
                [binary, "worker", address, "--host", _HOST, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--name", f"worker-{n}", "--local-directory", str(folder / f"worker-{n}")],
                folder / f"worker-{n}.log",
            )
            for n in range(workers)
        ]
        cluster = DaskCluster(address, scheduler, processes, folder)
        _wait_until(lambda: cluster.joined() >= workers, scheduler, "dask workers", timeout, folder / "scheduler.log")
        yield cluster
    finally:
        for process in reversed(started):
            _stop(process)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A scheduler and two single-threaded workers on 127.0.0.1, for a module's tests."""
    with start_dask(tmp_path_factory.mktemp("dask")) as cluster:
        yield cluster


@dataclass
class S3Server:
    endpoint: str
    filesystem: object  # an s3fs.S3FileSystem pointed at the server


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """An empty S3-compatible server (moto) on 127.0.0.1, for one test."""
    moto_server = pytest.importorskip("moto.server", reason="pip install 'moto[server]' (the test extras have it)")
    s3fs = pytest.importorskip("s3fs", reason="pip install s3fs (the test extras have it)")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address=_HOST, port=port, verbose=False)
    server.start()
    endpoint = f"http://{_HOST}:{port}"
    # Moto keeps its buckets in the process, from one server to the next: start empty.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        yield S3Server(endpoint, s3fs.S3FileSystem())
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


# --- a server that misbehaves on purpose ---------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Answer at once with this status, headers and body."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Hang:
    """Accept the request and never answer (until the server stops)."""


@dataclass(frozen=True)
class Trickle:
    """Send a 200 with headers, then one byte every ``interval`` seconds, for ever."""

    interval: float = 0.2


@dataclass(frozen=True)
class Close:
    """Read the request and close the connection without a word."""


@dataclass(frozen=True)
class Partial:
    """Pass the request upstream, keep ``keep`` of the rows, and say so as Virtuoso does on an anytime timeout."""

    keep: float = 0.5


@dataclass(frozen=True)
class Seen:
    """A request the fault server received."""

    at: float
    path: str
    form: dict[str, list[str]]
    answered: str

    @property
    def query(self) -> str:
        return self.form.get("query", [""])[0]

    @property
    def resources(self) -> int:
        """How many resources the batch query asked about (IRIs in its first VALUES ?r)."""
        first = self.query.split("VALUES ?r {", 1)
        return first[1].split("}", 1)[0].count("<") if len(first) == 2 else 0


Behaviour = Reply | Hang | Trickle | Close | Partial


class FaultServer:
    """Plays ``script`` one behaviour per request, then proxies to ``upstream`` (or answers 503)."""

    def __init__(self, script: Sequence[Behaviour] = (), upstream: str | None = None) -> None:
        self.script = list(script)
        self.upstream = upstream
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((_HOST, 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://{_HOST}:{self._httpd.server_address[1]}/sparql"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fault-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self) -> Behaviour | None:
        with self._lock:
            return self.script.pop(0) if self.script else None

    def _record(self, path: str, body: bytes, answered: str) -> None:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        with self._lock:
            self.requests.append(Seen(time.monotonic(), path, form, answered))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fault = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                behaviour = fault._next()
                fault._record(self.path, body, type(behaviour).__name__ if behaviour else "Proxy")
                fault._play(self, behaviour, body)

            do_GET = do_POST

        return Handler

    def _play(self, handler: BaseHTTPRequestHandler, behaviour: Behaviour | None, body: bytes) -> None:
        if isinstance(behaviour, Hang):
            self._stopping.wait()
        elif isinstance(behaviour, Close):
            handler.close_connection = True
        elif isinstance(behaviour, Trickle):
            handler.send_response(200)
            handler.send_header("Content-Type", "application/sparql-results+json")
            handler.send_header("Content-Length", "100000000")
            handler.end_headers()
            while not self._stopping.wait(behaviour.interval):
                try:
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
                except OSError:
                    return
        elif isinstance(behaviour, Reply):
            _send(handler, behaviour.status, behaviour.headers, behaviour.body)
        elif isinstance(behaviour, Partial):
            status, headers, answer = self._proxy(handler, body)
            data = json.loads(answer)
            rows = data["results"]["bindings"]
            data["results"]["bindings"] = rows[: int(len(rows) * behaviour.keep)]
            headers = {
                "Content-Type": "application/sparql-results+json",
                "X-SQL-State": "S1TAT",
                "X-SQL-Message": "RC...: Returning incomplete results, query interrupted by result timeout.  Activity:  1.2M rnd",
                "X-Exec-Milliseconds": "2042",
            }
            _send(handler, status, headers, json.dumps(data).encode())
        elif self.upstream is not None:
            status, headers, answer = self._proxy(handler, body)
            _send(handler, status, {"Content-Type": headers.get("Content-Type", "application/octet-stream")}, answer)
        else:
            _send(handler, 503, {"Content-Type": "text/plain"}, b"no upstream")

    def _proxy(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self.upstream is not None, "this behaviour needs an upstream endpoint"
        request = urllib.request.Request(
            self.upstream, data=body, method="POST",
            headers={
                "Content-Type": handler.headers.get("Content-Type", ""),
                "Accept": handler.headers.get("Accept", "application/sparql-results+json"),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers.items()), exc.read()


def _send(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def fault_server() -> Iterator[Callable[..., FaultServer]]:
    """Make fault servers: ``fault_server([Reply(500), ...], upstream=url)``; all stop after the test."""
    made: list[FaultServer] = []

    def make(script: Sequence[Behaviour] = (), upstream: str | None = None) -> FaultServer:
        server = FaultServer(script, upstream)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def spotlight() -> Iterator[Callable[..., StandInSpotlight]]:
    """Make stand-in Spotlight servers: ``spotlight(recordings, max_chars=…, broken=…, slow=…)``; all stop after the test."""
    made: list[StandInSpotlight] = []

    def make(
        recordings: Sequence[dict[str, Any]] | None = None,
        *,
        max_chars: int | None = None,
        broken: Sequence[str] = (),
        slow: dict[str, float] | None = None,
    ) -> StandInSpotlight:
        server = StandInSpotlight(recordings, max_chars=max_chars, broken=broken, slow=slow)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()
