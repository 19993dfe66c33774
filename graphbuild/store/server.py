"""Serving the store over HTTP with the real Oxigraph server (the ``oxigraph`` package).

It gives the SPARQL 1.1 endpoint (/query, and /update when writable), the Graph Store
Protocol (/store) and Oxigraph's query UI, with the union of all graphs as the default
graph, as graphbuild's own queries see it.

Oxigraph listens on a loopback address of its own, chosen at random; the user's address
belongs to the guard (``store.guard``), which lets through only what a served store should
take: reads unless ``writable``, requests that name this server and come from no other
site, and no query that would make the server fetch a URL. Oxigraph ends with this
process however it ends (the kernel's death signal on Linux), so it never outlives it
holding the store's lock.

Modes: by default Oxigraph opens the store as its one writer, so the server answers from
the store as it is (and holds it: an ingest must go through the server, or wait). With
``snapshot`` it opens the store read-only: other processes may write meanwhile, but the
server answers from the state it opened and sees none of their changes until restarted.
"""

from __future__ import annotations

import ipaddress
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from graphbuild.errors import GraphbuildError, StoreError
from graphbuild.store import holder
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.guard import Guard, Policy
from graphbuild.store.remote import is_url
from graphbuild.workers.interrupts import start
from graphbuild.workers.processes import parent_death_signal

__all__ = ["DEFAULT_BIND", "Served", "hidden_address", "serve", "server_command"]

DEFAULT_BIND = "127.0.0.1:7878"
# How long Oxigraph may take to open the store and answer, in seconds.
_START_TIMEOUT = 60
_LOG_LINES = 20


@dataclass(frozen=True, slots=True)
class Served:
    """A server that is up: where, and in which mode."""

    location: str
    url: str
    writable: bool
    snapshot: bool
    loopback: bool

    def banner(self) -> str:
        """What a user is told once it answers."""
        if self.writable:
            what = f"serving {self.location} at {self.url} (SPARQL: /query, /update; Graph Store: /store)"
        elif self.snapshot:
            what = (
                f"serving a snapshot of {self.location} at {self.url}, read-only (SPARQL: /query; Graph Store: /store, reading): "
                "it answers from the store as it was when the server started, whatever is written to it since"
            )
        else:
            what = f"serving {self.location} at {self.url}, read-only (SPARQL: /query; Graph Store: /store, reading)"
        if not self.loopback:
            what += "; listening beyond this machine: whoever reaches the address can " + (
                "read and write the store" if self.writable else "read the store"
            )
        return what + "; Ctrl-C stops"


def server_command(location: Path, *, bind: str = DEFAULT_BIND, read_only: bool = False) -> list[str]:
    """The ``oxigraph`` command line that serves ``location`` at ``bind`` itself."""
    mode = "serve-read-only" if read_only else "serve"
    return [_oxigraph_binary(), mode, "--location", str(location), "--bind", bind, "--union-default-graph"]


def serve(
    location: str | Path,
    *,
    bind: str = DEFAULT_BIND,
    writable: bool = False,
    snapshot: bool = False,
    hosts: Iterable[str] = (),
    ready: Callable[[Served], object] | None = None,
) -> int:
    """Serve the store at ``location`` until interrupted (KeyboardInterrupt: returns 0) or
    until Oxigraph stops (returns its exit status).

    Every check comes before ``ready`` is called: the store must exist and be free (unless
    ``snapshot``), and ``bind`` must be free. ``hosts`` are more host names the server
    answers to, besides ``localhost``, IP addresses and the name in ``bind``.
    """
    if is_url(str(location)):
        raise GraphbuildError(f"{location} is a SPARQL server already; serve takes a store folder")
    if writable and snapshot:
        raise GraphbuildError("a snapshot cannot take writes: serve the store itself to write to it")
    folder = Path(location)
    _check_store(folder, snapshot=snapshot)
    host, port = _address(bind)
    policy = Policy(writable=writable, host=host, port=port, names=hosts)
    upstream = hidden_address()
    try:
        guard = Guard((host, port), upstream, policy)
    except OSError as exc:
        raise GraphbuildError(f"cannot listen on {bind}: {exc.strerror or exc}") from exc
    policy.port = guard.server_address[1]
    url = f"http://{_url_host(host)}:{guard.server_address[1]}/"
    command = server_command(folder, bind=f"{upstream[0]}:{upstream[1]}", read_only=snapshot)
    try:
        server = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_dies_with_us,
        )
    except OSError as exc:
        guard.server_close()
        raise GraphbuildError(f"cannot start the Oxigraph server: {exc}") from exc
    log: deque[str] = deque(maxlen=_LOG_LINES)
    start(threading.Thread(target=_drain, args=(server, log), name="graphbuild-oxigraph-log", daemon=True))
    guarding = False
    try:
        _wait_until_up(server, upstream, log, folder)
        if not snapshot:
            holder.record(folder, url=url.rstrip("/"), writable=writable)
        guard.serve_in_background()
        guarding = True
        if ready is not None:
            ready(Served(str(location), url, writable, snapshot, _is_loopback(host)))
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if guarding:
            guard.shutdown()
        guard.server_close()
        _stop(server)
        holder.forget(folder)


def _check_store(folder: Path, *, snapshot: bool) -> None:
    # Never an empty store for a path that names none: a typo would serve nothing.
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        raise StoreError(f"no store at {folder}: ingest documents into it first")
    if snapshot:
        EmbeddedStore.open(folder, read_only=True).close()
    else:
        # Opening it first turns RocksDB's lock error into a sentence naming the holder.
        EmbeddedStore.open(folder).close()


def _address(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise GraphbuildError(f"{bind!r} is not an address to listen on: give HOST:PORT, e.g. {DEFAULT_BIND}")
    return host.strip("[]"), int(port)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def hidden_address() -> tuple[str, int]:
    """A free port on a random 127.x.y.z address (Linux answers on all of 127/8), so that a
    page cannot guess where Oxigraph itself listens; 127.0.0.1 where that is not so."""
    candidates = [f"127.{random.randrange(1, 255)}.{random.randrange(0, 256)}.{random.randrange(1, 255)}", "127.0.0.1"]
    for address in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, 0))
            except OSError:
                continue
            return address, int(probe.getsockname()[1])
    raise GraphbuildError("no loopback address to run the Oxigraph server on")


def _dies_with_us() -> None:
    parent_death_signal(signal.SIGTERM)


def _drain(server: subprocess.Popen[bytes], log: deque[str]) -> None:
    assert server.stderr is not None
    for line in server.stderr:
        log.append(line.decode("utf-8", "replace").rstrip())


def _wait_until_up(server: subprocess.Popen[bytes], upstream: tuple[str, int], log: deque[str], folder: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    url = f"http://{upstream[0]}:{upstream[1]}/query?query=ASK%7B%7D"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            time.sleep(0.1)  # the rest of its words
            said = "; ".join(line for line in log if line) or f"exit status {server.returncode}"
            raise StoreError(f"the Oxigraph server could not serve the store at {folder}: {said}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise StoreError(f"the Oxigraph server did not answer within {_START_TIMEOUT} s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _oxigraph_binary() -> str:
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if found is None:
        raise GraphbuildError("the `oxigraph` server is not installed: pip install 'graphbuild[serve]'")
    return found

