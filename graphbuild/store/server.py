"""Serving the store over HTTP with the real Oxigraph server (the ``oxigraph`` package).

It gives the SPARQL 1.1 endpoint (/query, /update), the Graph Store Protocol (/store) and
Oxigraph's query UI, with the union of all graphs as the default graph, as graphbuild's
own queries see it.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from graphbuild.errors import GraphbuildError, StoreError
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.remote import is_url

DEFAULT_BIND = "127.0.0.1:7878"


def server_command(location: Path, *, bind: str = DEFAULT_BIND, read_only: bool = False) -> list[str]:
    """The ``oxigraph`` command line that serves ``location``."""
    mode = "serve-read-only" if read_only else "serve"
    return [_oxigraph_binary(), mode, "--location", str(location), "--bind", bind, "--union-default-graph"]


def serve(location: str | Path, *, bind: str = DEFAULT_BIND, read_only: bool = False) -> int:
    """Run the server in the foreground until it stops; returns its exit status."""
    if is_url(str(location)):
        raise GraphbuildError(f"{location} is a SPARQL server already; serve takes a store folder")
    folder = Path(location)
    _check_store(folder, read_only=read_only)
    server = subprocess.Popen(server_command(folder, bind=bind, read_only=read_only))
    # A SIGTERM to us must stop the server too, or it would outlive us holding the store.
    previous = signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_store(location: Path, *, read_only: bool) -> None:
    # Opening it ourselves first turns RocksDB's lock error into a sentence a user can act on.
    if read_only and not location.exists():
        raise StoreError(f"no store at {location}: load documents first with `graphbuild ingest PATH --store {location}`")
    if not read_only:
        EmbeddedStore.open(location).close()


def _oxigraph_binary() -> str:
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if found is None:
        raise GraphbuildError("the `oxigraph` server is not installed: pip install 'graphbuild[serve]'")
    return found
