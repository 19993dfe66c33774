"""The embedded on-disk Oxigraph store: the only module that writes.

New document graphs go in with one transactional ``extend`` per batch; a document that
replaces (or deletes) an earlier version goes through one SPARQL update that removes the
old graph and its metadata and inserts the new quads, so no reader ever sees it half there.
Values reach that update as bound terms (custom functions), never as query text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

import pyoxigraph
from pyoxigraph import (
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    Triple,
    Variable,
)

from graphbuild.errors import QueryError, StoreError
from graphbuild.model.vocab import CONTENT_HASH, DCTERMS_IDENTIFIER, GB, METADATA_GRAPH
from graphbuild.store.protocol import STATS_QUERY, Bindings, Row, Rows, Stats, Term, lexical, wrong_form

DEFAULT_STORE = Path("graphbuild-store")
STORE_ENV = "GRAPHBUILD_STORE"


_OLD = NamedNode(GB + "fn/old")
_NEW = NamedNode(GB + "fn/new")
T = TypeVar("T")


def default_location() -> Path:
    """``$GRAPHBUILD_STORE``, else ``./graphbuild-store``."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


class EmbeddedStore:
    """A graphbuild store over a pyoxigraph ``Store``."""

    # Bulk loads that may run at once (graphbuild.workers.threads): Oxigraph's bulk loader
    # releases the GIL, and two loads keep both cores busy.
    bulk_threads = 2

    def __init__(self, store: pyoxigraph.Store, location: str = ":memory:", *, read_only: bool = False) -> None:
        self._store = store
        self.location = location
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path | None = None, *, read_only: bool = False) -> EmbeddedStore:
        """Open (or, unless ``read_only``, create) the on-disk store at ``path``."""
        path = path or default_location()
        if read_only and not path.exists():
            raise StoreError(f"no store at {path}: load documents first with `graphbuild ingest PATH --store {path}`")
        try:
            store = pyoxigraph.Store.read_only(str(path)) if read_only else pyoxigraph.Store(str(path))
        except OSError as exc:
            raise StoreError(_open_problem(path, exc)) from exc
        return cls(store, str(path), read_only=read_only)

    @classmethod
    def memory(cls) -> EmbeddedStore:
        return cls(pyoxigraph.Store())

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # Dropping the last reference releases RocksDB's lock; closing twice is harmless.
        store = self.__dict__.pop("_store", None)
        if store is not None and not self.read_only:
            store.flush()

    def content_hash(self, graph: NamedNode) -> str | None:
        """The content hash recorded for a document graph, or None if it is not stored."""
        for quad in self._store.quads_for_pattern(graph, CONTENT_HASH, None, METADATA_GRAPH):
            return lexical(quad.object)
        return None

    def has_graph(self, graph: NamedNode) -> bool:
        return self._store.contains_named_graph(graph)

    def is_empty(self) -> bool:
        """Whether the store holds no named graph at all (cheap, unlike counting quads)."""
        return next(iter(self._store.named_graphs()), None) is None

    def add(self, quads: Iterable[Quad]) -> None:
        """Add quads of graphs not yet in the store, all or nothing."""
        self._write(lambda: self._store.extend(quads))

    def bulk_add(self, nquads: str) -> None:
        """Add N-Quads text through the bulk loader: fast, but not one transaction.

        A crash part-way leaves some of the quads in; callers write what vouches for a
        graph (its metadata) only after the graph itself.
        """
        self._write(lambda: self._store.bulk_load(nquads.encode("utf-8"), pyoxigraph.RdfFormat.N_QUADS))

    def replace(self, graphs: Sequence[NamedNode], quads: Sequence[Quad]) -> None:
        """Remove ``graphs`` with their metadata and add ``quads``, in one transaction."""
        # The quads to remove are read first and named one by one in the update: a pattern
        # on a function-bound ?g would make Oxigraph scan every graph of the store.
        old = [q for graph in graphs for q in self._store.quads_for_pattern(None, None, None, graph)]
        old += [q for graph in graphs for q in self._store.quads_for_pattern(graph, None, None, METADATA_GRAPH)]
        self._swap(old, quads)
        for graph in graphs:
            if not any(True for _ in self._store.quads_for_pattern(None, None, None, graph)):
                self._forget_graph(graph)

    def replace_subjects(
        self, graph: NamedNode, subjects: Sequence[NamedNode], quads: Sequence[Quad], *, atomic: bool = True
    ) -> None:
        """Remove what ``graph`` says about ``subjects`` and add ``quads``, in one transaction
        unless not ``atomic`` (then new quads may go through the bulk loader)."""
        old = [q for subject in subjects for q in self._store.quads_for_pattern(subject, None, None, graph)]
        if old:
            self._swap(old, quads)
        elif atomic:  # a plain transactional extend: ~3x faster than the update for many quads
            self._write(lambda: self._store.extend(quads))
        else:
            self._write(lambda: self._store.bulk_extend(quads))

    def _swap(self, old: Sequence[Quad], new: Sequence[Quad]) -> None:
        update = ";\n".join(
            f"{verb} {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ VALUES ?i {{ {' '.join(map(str, range(len(rows))))} }} "
            f"BIND(<{function.value}>(?i, 0) AS ?s) BIND(<{function.value}>(?i, 1) AS ?p) "
            f"BIND(<{function.value}>(?i, 2) AS ?o) BIND(<{function.value}>(?i, 3) AS ?g) }}"
            for verb, function, rows in (("DELETE", _OLD, old), ("INSERT", _NEW, new))
            if rows
        )
        if not update:
            return
        functions = {
            _OLD: lambda i, k: old[int(i.value)][int(k.value)],
            _NEW: lambda i, k: new[int(i.value)][int(k.value)],
        }
        self._write(lambda: self._store.update(update, custom_functions=functions))

    def document_graphs(self, ids: Iterable[str]) -> dict[str, NamedNode]:
        """The graph of each stored document id (ids not stored are left out)."""
        found: dict[str, NamedNode] = {}
        for doc_id in ids:
            for quad in self._store.quads_for_pattern(None, DCTERMS_IDENTIFIER, Literal(doc_id), None):
                if quad.graph_name == quad.subject and isinstance(quad.subject, NamedNode):
                    found[doc_id] = quad.subject
        return found

    def select(self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None) -> Rows:
        result = self._query(sparql, bindings, prefixes)
        if not isinstance(result, QuerySolutions):
            raise wrong_form("SELECT", sparql)
        variables = tuple(v.value for v in result.variables)
        return Rows(variables, self._streamed(result))

    def ask(self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None) -> bool:
        result = self._query(sparql, bindings, prefixes)
        if not isinstance(result, QueryBoolean):
            raise wrong_form("ASK", sparql)
        return bool(result)

    def construct(
        self, sparql: str, *, bindings: Bindings | None = None, prefixes: Mapping[str, str] | None = None
    ) -> Iterator[Triple]:
        result = self._query(sparql, bindings, prefixes)
        if not isinstance(result, QueryTriples):
            raise wrong_form("CONSTRUCT or DESCRIBE", sparql)
        return self._read_errors(iter(result))

    def update(self, sparql: str) -> None:
        try:
            self._write(lambda: self._store.update(sparql))
        except SyntaxError as exc:
            raise QueryError(f"the update is not valid SPARQL: {exc}") from exc

    def _query(
        self, sparql: str, bindings: Bindings | None, prefixes: Mapping[str, str] | None
    ) -> QuerySolutions | QueryBoolean | QueryTriples:
        substitutions: dict[Variable, Term] = {Variable(name): term for name, term in (bindings or {}).items()}
        try:
            return self._store.query(
                sparql, use_default_graph_as_union=True, substitutions=substitutions, prefixes=dict(prefixes or {})
            )
        except SyntaxError as exc:
            raise QueryError(f"the query is not valid SPARQL: {exc}") from exc
        except RuntimeError as exc:
            raise QueryError(f"the query failed: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store at {self.location} could not be read: {exc}") from exc

    def _streamed(self, solutions: QuerySolutions) -> Iterator[Row]:
        # A solution iterates its values in the order of its variables (None where
        # unbound): ~1.6x faster than looking each up by name, for every row of a result.
        return map(tuple, self._read_errors(iter(solutions)))

    def _read_errors(self, items: Iterator[T]) -> Iterator[T]:
        """``items`` with the errors raised while they stream (a failing SERVICE, a store
        compacting under a reader) turned into graphbuild's."""
        try:
            yield from items
        except RuntimeError as exc:
            raise QueryError(f"the query failed while its results were read: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store at {self.location} could not be read: {exc}") from exc

    def quads(self, graph: NamedNode | DefaultGraph | None = None, *, subject: NamedNode | None = None) -> Iterator[Quad]:
        return iter(self._store.quads_for_pattern(subject, None, None, graph))

    def dump(self, output: BinaryIO | str, format: pyoxigraph.RdfFormat) -> None:
        """The whole dataset in a quad format, written by the store itself."""
        self._store.dump(output, format)

    def graphs(self) -> list[NamedNode]:
        """Every named graph, sorted by IRI so that exports are stable."""
        return sorted((g for g in self._store.named_graphs() if isinstance(g, NamedNode)), key=lambda g: g.value)

    def optimize(self) -> None:
        """Compact the store: after bulk loads it is ~2x smaller and answers per-entity
        queries several times faster (RocksDB merges the loads' overlapping files)."""
        self._write(self._store.optimize)

    def quad_count(self) -> int:
        """Quads in the store (stats().quads without stats' aggregate query: ~5 s, not ~45 s, at 18M)."""
        return len(self._store)

    def stats(self) -> Stats:
        """Counts over the whole store."""
        row = next(iter(self.select(STATS_QUERY)), None)
        return Stats.from_row(row, quads=len(self._store), graphs=sum(1 for _ in self._store.named_graphs()))

    def _forget_graph(self, graph: NamedNode) -> None:
        # An emptied graph stays listed in Oxigraph's graph index until removed by name.
        self._write(lambda: self._store.remove_graph(graph))

    def _write(self, action: Callable[[], object]) -> None:
        try:
            action()
        except OSError as exc:
            raise StoreError(f"cannot write to the store at {self.location}: {exc}") from exc


def _open_problem(path: Path, exc: OSError) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return f"the store at {path} is in use by another process (a running ingest or serve?); stop it and try again"
    return f"cannot open the store at {path}: {text}"

