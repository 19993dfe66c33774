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

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from graphbuild.files import tree_size
from graphbuild.progress import Progress
from graphbuild.store.embedded import EmbeddedStore, default_location
from graphbuild.store.figures import require_current
from graphbuild.store.protocol import Rows, Stats, Store
from graphbuild.store.remote import Endpoints, RemoteStore, is_url
from graphbuild.text import size_text
from graphbuild.workers.interrupts import deferred

__all__ = ["EmbeddedStore", "Endpoints", "Optimized", "RemoteStore", "Rows", "Stats", "Store", "open_store", "optimize", "stats"]

# How fast RocksDB compacts a store fresh from bulk loads, to draw optimize's bar (it says
# nothing while it works): 5.4 GB in 45 s for 100,000 documents on 2 cores.
COMPACTED_BYTES_PER_SECOND = 120_000_000


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


@dataclass(frozen=True)
class Optimized:
    """What ``optimize`` did: the store's size on disk before and after, and how long it took."""

    location: str
    bytes_before: int
    bytes_after: int
    seconds: float

    def summary(self) -> str:
        return (
            f"optimized the store at {self.location}: {size_text(self.bytes_before)} → "
            f"{size_text(self.bytes_after)} on disk in {self.seconds:,.1f} s"
        )


def optimize(store: Store, *, progress: Progress | None = None) -> Optimized:
    """Bring the per-resource figures up to date, then compact the store.

    RocksDB reports nothing while it compacts: ``progress`` gets the ``compacted`` stage in
    bytes of the store as estimated from the time spent (at ``COMPACTED_BYTES_PER_SECOND``),
    held below the total until the compaction ends.
    """
    require_current(store)
    folder = Path(store.location)
    before = tree_size(folder)
    started = time.monotonic()
    if progress is None:
        store.optimize()
    else:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphbuild-optimize") as pool:
            with deferred():  # starts the pool's thread
                compaction = pool.submit(store.optimize)
            while True:
                try:
                    compaction.result(timeout=0.25)
                    break
                except FutureTimeout:
                    estimate = int((time.monotonic() - started) * COMPACTED_BYTES_PER_SECOND)
                    progress("compacted", min(estimate, before * 99 // 100), before)
        progress("compacted", before, before)
    return Optimized(str(store.location), before, tree_size(folder), time.monotonic() - started)
