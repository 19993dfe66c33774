from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from graphbuild.errors import QueryError, StoreError
from graphbuild.store import embedded
from graphbuild.store.embedded import EmbeddedStore

G1 = NamedNode("http://example.org/g1")
G2 = NamedNode("http://example.org/g2")
P = NamedNode("http://example.org/p")


def _quads(graph: NamedNode, *values: str) -> list[Quad]:
    return [Quad(NamedNode(f"{graph.value}#s"), P, Literal(v), graph) for v in values]


def _values(store: EmbeddedStore, graph: NamedNode) -> set[str]:
    return {q.object.value for q in store.quads(graph)}


def test_is_empty_until_a_graph_is_added_and_again_once_it_is_removed(store: EmbeddedStore) -> None:
    assert store.is_empty()
    store.add(_quads(G1, "v"))
    assert not store.is_empty()
    store.replace([G1], [])
    assert store.is_empty()


def test_transactions_flush_the_write_buffers_every_so_many_quads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # RocksDB writes a flushed buffer as new table files: without flushes, transactions
    # would pile up in memory (2.2 GiB measured) instead.
    monkeypatch.setattr(embedded, "_FLUSH_AFTER_QUADS", 100)

    def tables() -> set[Path]:
        return set((tmp_path / "store").glob("*.sst"))

    with EmbeddedStore.open(tmp_path / "store") as store:
        before = tables()
        store.add(_quads(G1, *map(str, range(60))))
        assert tables() == before
        store.replace([G1], _quads(G1, *map(str, range(60, 100))))  # 60 removed, 40 added
        flushed = tables() - before
        assert flushed
        store.add(_quads(G2, *map(str, range(99))))
        assert tables() - before == flushed
        assert _values(store, G1) == set(map(str, range(60, 100)))
        assert len(_values(store, G2)) == 99


def test_replace_swaps_a_graph(store: EmbeddedStore) -> None:
    store.add(_quads(G1, "old1", "old2") + _quads(G2, "other"))
    store.replace([G1], _quads(G1, "new"))
    assert _values(store, G1) == {"new"}
    assert _values(store, G2) == {"other"}


def test_readers_never_see_a_replace_half_done(store: EmbeddedStore) -> None:
    old = [Quad(NamedNode(f"http://example.org/s{i}"), P, Literal("old"), G1) for i in range(3000)]
    new = [Quad(NamedNode(f"http://example.org/s{i}"), P, Literal("new"), G1) for i in range(2000)]
    store.add(old)
    seen: set[tuple[int, int]] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            result = store.select("SELECT ?o WHERE { GRAPH <http://example.org/g1> { ?s ?p ?o } }")
            values = [row[0].value for row in result.rows]
            seen.add((values.count("old"), values.count("new")))

    reader = threading.Thread(target=read)
    reader.start()
    for quads in (new, old, new, old, new):
        store.replace([G1], quads)
    done.set()
    reader.join()
    assert seen <= {(3000, 0), (0, 2000)}
    assert _values(store, G1) == {"new"}


def test_replace_with_nothing_forgets_the_graph(store: EmbeddedStore) -> None:
    store.add(_quads(G1, "x"))
    store.replace([G1], [])
    assert store.graphs() == []


def test_replace_takes_hostile_literals_as_data(store: EmbeddedStore) -> None:
    hostile = '"} } ; DROP ALL ; INSERT DATA { <a> <b> "c'
    store.add(_quads(G2, "keep"))
    store.replace([G1], _quads(G1, hostile))
    assert _values(store, G1) == {hostile}
    assert _values(store, G2) == {"keep"}


def test_query_sees_the_union_of_graphs(store: EmbeddedStore) -> None:
    store.add(_quads(G1, "a") + _quads(G2, "b"))
    result = store.select("SELECT ?o WHERE { ?s <http://example.org/p> ?o } ORDER BY ?o")
    assert [row[0].value for row in result.rows] == ["a", "b"]


def test_query_binds_terms(store: EmbeddedStore) -> None:
    store.add(_quads(G1, "a", "b"))
    result = store.select("SELECT ?s ?o WHERE { ?s ?p ?o }", bindings={"o": Literal("b")})
    assert [tuple(t.value for t in row) for row in result.rows] == [("http://example.org/g1#s", "b")]


def test_ask_and_construct(store: EmbeddedStore) -> None:
    store.add(_quads(G1, "a"))
    assert store.ask("ASK { ?s ?p 'a' }") is True
    triples = list(store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"))
    assert [t.object.value for t in triples] == ["a"]


def test_bad_sparql_is_a_query_error(store: EmbeddedStore) -> None:
    with pytest.raises(QueryError, match="not valid SPARQL"):
        store.select("SELEC ?x WHERE {}")


def test_read_only_open_of_a_missing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no store at .*nowhere: ingest documents into it first$"):
        EmbeddedStore.open(tmp_path / "nowhere", read_only=True)


def test_store_held_by_another_process_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "held"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import pyoxigraph, sys, time; s = pyoxigraph.Store({str(path)!r}); print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="in use by another process"):
            EmbeddedStore.open(path)
    finally:
        holder.kill()
        holder.wait()


def test_content_hash_and_document_graphs(seed_store: EmbeddedStore) -> None:
    graphs = seed_store.document_graphs(["000_70018b3530a68054", "missing"])
    assert list(graphs) == ["000_70018b3530a68054"]
    assert (seed_store.content_hash(graphs["000_70018b3530a68054"]) or "").startswith("sha256:")
    assert seed_store.content_hash(NamedNode("http://example.org/none")) is None
