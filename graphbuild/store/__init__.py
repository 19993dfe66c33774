"""Storage: one protocol, two backends, and what lives in the store beside the documents.

    protocol     the ``Store`` protocol and its backend-neutral types (rows, stats)
    embedded     the on-disk Oxigraph store
    remote       a SPARQL 1.1 server (Oxigraph server, Virtuoso, Fuseki)
    sparql_json  SPARQL JSON results into terms, for every server read
    figures      per-resource figures kept current by every write
    server       serving an embedded store over HTTP with ``oxigraph serve``

``open_store`` picks the backend from the location: a folder or a URL.
"""

from __future__ import annotations

from pathlib import Path

from graphbuild.store.embedded import EmbeddedStore, default_location
from graphbuild.store.figures import require_current
from graphbuild.store.protocol import Rows, Stats, Store
from graphbuild.store.remote import Endpoints, RemoteStore, is_url

__all__ = ["EmbeddedStore", "Endpoints", "RemoteStore", "Rows", "Stats", "Store", "open_store", "optimize", "stats"]


def open_store(location: str | Path | None = None, *, read_only: bool = False, endpoints: dict[str, str | None] | None = None) -> Store:
    """The store at ``location`` (default ``$GRAPHBUILD_STORE`` or ``./graphbuild-store``).

    ``endpoints`` may name ``query``, ``update``, ``graph_store`` URLs and a ``user`` and
    ``password`` for a URL location (see ``Endpoints.guess``).
    """
    location = location if location is not None else default_location()
    if is_url(str(location)):
        given = {key: value for key, value in (endpoints or {}).items() if value is not None}
        return RemoteStore.open(Endpoints.guess(str(location), **given))
    return EmbeddedStore.open(Path(location), read_only=read_only)


def stats(store: Store) -> Stats:
    """Counts over the whole store, its per-resource figures (whose quads count too) made
    current first, or a StoreError where they cannot be (``figures.require_current``)."""
    require_current(store)
    return store.stats()


def optimize(store: Store) -> None:
    """Bring the per-resource figures up to date, then compact the store."""
    require_current(store)
    store.optimize()
