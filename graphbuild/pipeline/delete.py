"""Deleting documents from a store, with their metadata and their share of the figures."""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import NamedNode

from graphbuild.store.figures import FiguresKeeper, stored_shares
from graphbuild.store.protocol import Store

__all__ = ["delete"]


def delete(ids: Iterable[str], *, store: Store) -> tuple[list[str], list[str]]:
    """Remove documents by id, each with its metadata; returns (deleted, not found)."""
    ids = list(dict.fromkeys(ids))
    graphs: dict[str, NamedNode] = store.document_graphs(ids)
    if graphs:
        figures = FiguresKeeper(store)
        figures.changing()
        for graph in graphs.values():
            figures.remove(stored_shares(store.quads(graph)))
        store.replace(list(graphs.values()), [])
        figures.commit()
    return [i for i in ids if i in graphs], [i for i in ids if i not in graphs]
