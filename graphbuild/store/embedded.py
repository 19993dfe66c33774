"""The embedded on-disk Oxigraph store: the only module that writes.

New document graphs go in through the bulk loader in batches (``bulk_add``); a document
that replaces (or deletes) an earlier version goes through one SPARQL update that removes
the old graph and its metadata and inserts the new quads, so no reader ever sees it half
there. Values reach that update as bound terms (custom functions), never as query text.
What goes in through transactions flushes RocksDB's write buffers every so often, so that
they never hold gigabytes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, BinaryIO, Protocol, TypeVar, cast

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
from graphbuild.store import holder
from graphbuild.store.protocol import STATS_QUERY, Bindings, Row, Rows, Stats, Term, lexical, wrong_form

DEFAULT_STORE = Path("graphbuild-store")
STORE_ENV = "GRAPHBUILD_STORE"


_OLD = NamedNode(GB + "fn/old")
_NEW = NamedNode(GB + "fn/new")
T = TypeVar("T")
# A RocksDB folder always holds this file; a folder with other files and not this one is
# someone else's, and no store is made in it.
_ROCKSDB_MARK = "CURRENT"
# A read-only open races a writer that compacts (it lists files the writer then deletes):
# opening again sees the new files. Attempts, and the pause between them in seconds.
_READ_ATTEMPTS = 5
_READ_PAUSE = 0.2
# RocksDB's words for files that moved under a reader.
_MOVED = ("no such file", "corruption", "size mismatch")
# Transactions go through RocksDB's write buffers, which Oxigraph sizes at 128 MiB per
# column family, several per family before they reach disk: 5 million quads added in
# transactions of 50,000 took a process to 2,198 MiB, flushing after every 250,000 held it
# at 359 MiB in 0.87x the time (bench/transaction_memory.py). The bulk loader writes files
# directly.
_FLUSH_AFTER_QUADS = 250_000


class SupportsRead(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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
        # Quads written in transactions since the write buffers were last flushed.
        self._unflushed = 0

    @classmethod
    def open(cls, path: Path | None = None, *, read_only: bool = False) -> EmbeddedStore:
        """Open (or, unless ``read_only``, create) the on-disk store at ``path``.

        A writer is noted as the store's holder (``store.holder``), so that another
        process finding the store locked is told who has it. A folder that holds other
        files and no store is refused, and nothing is created in it. A read-only open
        that meets files a writer is compacting tries again.
        """
        path = path or default_location()
        if read_only and not path.exists():
            raise StoreError(f"no store at {path}: ingest documents into it first")
        _check_folder(path)
        if read_only:
            return cls(_open_read_only(path), str(path), read_only=True)
        try:
            store = pyoxigraph.Store(str(path))
        except (OSError, RuntimeError) as exc:
            raise StoreError(_open_problem(path, exc)) from exc
        holder.record(path)
        return cls(store, str(path))

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
            try:
                store.flush()
            finally:
                if self.location != ":memory:":
                    holder.forget(Path(self.location))

    def content_hash(self, graph: NamedNode) -> str | None:
        """The content hash recorded for a document graph, or None if it is not stored."""
        for quad in self._read_errors(iter(self._store.quads_for_pattern(graph, CONTENT_HASH, None, METADATA_GRAPH))):
            return lexical(quad.object)
        return None

    def has_graph(self, graph: NamedNode) -> bool:
        return self._reading(lambda: self._store.contains_named_graph(graph))

    def is_empty(self) -> bool:
        """Whether the store holds no named graph at all (cheap, unlike counting quads)."""
        return self._reading(lambda: next(iter(self._store.named_graphs()), None) is None)

    def add(self, quads: Iterable[Quad]) -> None:
        """Add quads of graphs not yet in the store, all or nothing."""
        quads = quads if isinstance(quads, Sequence) else list(quads)
        self._write(lambda: self._store.extend(quads))
        self._transacted(len(quads))

    def bulk_add(self, nquads: str) -> None:
        """Add N-Quads text through the bulk loader: fast, but not one transaction.

        A crash part-way leaves some of the quads in; callers write what vouches for a
        graph (its metadata) only after the graph itself.
        """
        self._write(lambda: self._store.bulk_load(nquads.encode("utf-8"), pyoxigraph.RdfFormat.N_QUADS))

    def bulk_load_nquads(self, source: SupportsRead | Path) -> None:
        """Add N-Quads from a file or a binary stream through the bulk loader: the
        fastest way in, not one transaction (see ``bulk_add``)."""
        if isinstance(source, Path):
            self._write(lambda: self._store.bulk_load(path=source, format=pyoxigraph.RdfFormat.N_QUADS))
        else:
            # pyoxigraph reads anything with read(n); its stub asks for IO[bytes] nonetheless.
            self._write(lambda: self._store.bulk_load(cast(IO[bytes], source), pyoxigraph.RdfFormat.N_QUADS))

    def clear(self) -> None:
        """Remove every quad and graph."""
        self._write(self._store.clear)

    def replace(
        self, graphs: Sequence[NamedNode], quads: Sequence[Quad], *, subjects: Mapping[NamedNode, Sequence[NamedNode]] | None = None
    ) -> None:
        """Remove ``graphs`` with their metadata, and what each graph of ``subjects`` says
        about its subjects, and add ``quads``, in one transaction."""
        # The quads to remove are read first and named one by one in the update: a pattern
        # on a function-bound ?g would make Oxigraph scan every graph of the store. The
        # graphs themselves are dropped by name (IRIs from the store, so no value becomes
        # syntax), which also takes them out of the graph index in the same transaction.
        old = [q for graph in graphs for q in self._store.quads_for_pattern(graph, None, None, METADATA_GRAPH)]
        for graph, named in (subjects or {}).items():
            old += [q for subject in named for q in self._store.quads_for_pattern(subject, None, None, graph)]
        self._swap(old, quads, drop=graphs)

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
            self._transacted(len(quads))
        else:
            self._write(lambda: self._store.bulk_extend(quads))

    def _swap(self, old: Sequence[Quad], new: Sequence[Quad], *, drop: Sequence[NamedNode] = ()) -> None:
        update = ";\n".join([f"DROP SILENT GRAPH {graph}" for graph in drop] + [
            f"{verb} {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ VALUES ?i {{ {' '.join(map(str, range(len(rows))))} }} "
            f"BIND(<{function.value}>(?i, 0) AS ?s) BIND(<{function.value}>(?i, 1) AS ?p) "
            f"BIND(<{function.value}>(?i, 2) AS ?o) BIND(<{function.value}>(?i, 3) AS ?g) }}"
            for verb, function, rows in (("DELETE", _OLD, old), ("INSERT", _NEW, new))
            if rows
        ])
        if not update:
            return
        functions = {
            _OLD: lambda i, k: old[int(i.value)][int(k.value)],
            _NEW: lambda i, k: new[int(i.value)][int(k.value)],
        }
        self._write(lambda: self._store.update(update, custom_functions=functions))
        # The dropped graphs' own quads go uncounted (their number is not read): a replace
        # of documents flushes after about twice the count.
        self._transacted(len(old) + len(new))

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
            if _moved(exc):
                raise StoreError(_changed_under_reader(Path(self.location), exc)) from exc
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
            if _moved(exc):
                raise StoreError(_changed_under_reader(Path(self.location), exc)) from exc
            raise QueryError(f"the query failed while its results were read: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store at {self.location} could not be read: {exc}") from exc

    def _reading(self, read: Callable[[], T]) -> T:
        """``read()``, once more on a freshly opened store where a writer compacted the
        files under this reader; errors turned into graphbuild's."""
        for attempt in range(_READ_ATTEMPTS):
            try:
                return read()
            except (OSError, RuntimeError) as exc:
                if not (self.read_only and _moved(exc)):
                    raise StoreError(f"the store at {self.location} could not be read: {exc}") from exc
                if attempt == _READ_ATTEMPTS - 1:
                    raise StoreError(_changed_under_reader(Path(self.location), exc)) from exc
                time.sleep(_READ_PAUSE)
                self._store = _open_read_only(Path(self.location))
        raise AssertionError("unreachable")

    def quads(
        self,
        graph: NamedNode | DefaultGraph | None = None,
        *,
        subject: NamedNode | None = None,
        predicates: Sequence[NamedNode] | None = None,
    ) -> Iterator[Quad]:
        if predicates is None:
            return self._read_errors(iter(self._store.quads_for_pattern(subject, None, None, graph)))
        # One lookup per predicate: quads left out are never decoded (each term of a quad
        # read costs a lookup of its text).
        return self._read_errors(
            quad for predicate in predicates for quad in self._store.quads_for_pattern(subject, predicate, None, graph)
        )

    def dump(self, output: BinaryIO | str, format: pyoxigraph.RdfFormat) -> None:
        """The whole dataset in a quad format, written by the store itself."""
        self._store.dump(output, format)

    def graphs(self) -> list[NamedNode]:
        """Every named graph, sorted by IRI so that exports are stable."""
        names = self._reading(lambda: [g for g in self._store.named_graphs() if isinstance(g, NamedNode)])
        return sorted(names, key=lambda g: g.value)

    def optimize(self) -> None:
        """Compact the store: after bulk loads it is ~2x smaller and answers per-entity
        queries several times faster (RocksDB merges the loads' overlapping files)."""
        self._write(self._store.optimize)

    def quad_count(self) -> int:
        """Quads in the store (stats().quads without stats' aggregate query: ~5 s, not ~45 s, at 18M)."""
        return self._reading(lambda: len(self._store))

    def stats(self) -> Stats:
        """Counts over the whole store."""

        def count() -> Stats:
            solutions = self._store.query(STATS_QUERY, use_default_graph_as_union=True)
            if not isinstance(solutions, QuerySolutions):
                raise wrong_form("SELECT", STATS_QUERY)
            solution = next(iter(solutions), None)
            row = None if solution is None else tuple(solution[i] for i in range(4))
            return Stats.from_row(row, quads=len(self._store), graphs=sum(1 for _ in self._store.named_graphs()))

        return self._reading(count)

    def _write(self, action: Callable[[], object]) -> None:
        try:
            action()
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"cannot write to the store at {self.location}: {exc}") from exc

    def _transacted(self, quads: int) -> None:
        """Count quads a transaction wrote; flush the write buffers once enough have been."""
        self._unflushed += quads
        if self._unflushed >= _FLUSH_AFTER_QUADS:
            self._unflushed = 0
            self._write(self._store.flush)


def _check_folder(path: Path) -> None:
    """Refuse a path that is a file, or a folder of other files with no store in it."""
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path} is a file, not a store: a store is a folder")
    if path.is_dir() and not (path / _ROCKSDB_MARK).exists() and any(path.iterdir()):
        raise StoreError(
            f"{path} holds other files and no graphbuild store: give a new or empty folder, or a store's folder"
        )


def _open_read_only(path: Path) -> pyoxigraph.Store:
    for attempt in range(_READ_ATTEMPTS):
        try:
            return pyoxigraph.Store.read_only(str(path))
        except (OSError, RuntimeError) as exc:
            if not _moved(exc) or attempt == _READ_ATTEMPTS - 1:
                message = _changed_under_reader(path, exc) if _moved(exc) else f"cannot open the store at {path}: {exc}"
                raise StoreError(message) from exc
            time.sleep(_READ_PAUSE)
    raise AssertionError("unreachable")


def _moved(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in _MOVED)


def _changed_under_reader(path: Path, exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    writer = holder.held_by(path)
    if writer is not None:
        return (
            f"the store at {path} kept changing while it was read: {writer.describe()} is writing it; "
            f"try again once it is done ({first})"
        )
    return f"the store at {path} could not be read: its files are damaged or were changed by another process ({first})"


def _open_problem(path: Path, exc: BaseException) -> str:
    text = str(exc)
    if "lock" not in text.lower():
        if _moved(exc):
            return f"the store at {path} is damaged: {text.splitlines()[0]}"
        return f"cannot open the store at {path}: {text}"
    found = holder.held_by(path)
    if found is None:
        return f"the store at {path} is in use by another process (a running ingest or serve?); stop it and try again"
    if found.url is not None and found.writable:
        return (
            f"the store at {path} is served by {found.describe()} at {found.url}: write to it over HTTP "
            f"with {found.url} as the store, or stop the server and try again"
        )
    if found.url is not None:
        return (
            f"the store at {path} is served read-only by {found.describe()} at {found.url}: stop the server "
            "and try again (or serve it writable and write to it over HTTP with its URL as the store)"
        )
    return f"the store at {path} is in use by {found.describe()}: wait until it ends (or stop it) and try again"

