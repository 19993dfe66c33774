"""Opening a store by location: a folder is the embedded Oxigraph store, a URL a SPARQL server."""

from __future__ import annotations

from pathlib import Path

from graphbuild.store.remote import Endpoints, RemoteStore, is_url
from graphbuild.store.embedded import GraphStore, default_location

Store = GraphStore | RemoteStore


def open_store(location: str | Path | None = None, *, read_only: bool = False, endpoints: dict[str, str | None] | None = None) -> Store:
    """The store at ``location`` (default ``$GRAPHBUILD_STORE`` or ``./graphbuild-store``).

    ``endpoints`` may name ``query``, ``update``, ``graph_store`` URLs and a ``user`` and
    ``password`` for a URL location (see ``Endpoints.guess``).
    """
    location = location if location is not None else default_location()
    if is_url(str(location)):
        given = {key: value for key, value in (endpoints or {}).items() if value is not None}
        return RemoteStore.open(Endpoints.guess(str(location), **given))
    return GraphStore.open(Path(location), read_only=read_only)
