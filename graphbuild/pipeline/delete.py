"""Deleting documents from a store, with their metadata and their share of the figures."""

from __future__ import annotations

from collections.abc import Iterable

from graphbuild.model.vocab import FIGURES_GRAPH
from graphbuild.store.figures import after_removal, require_current
from graphbuild.store.protocol import Store

__all__ = ["delete"]

# Documents removed per transaction (per update request on a server), each with the change
# to the figures it makes, so that a delete stopped anywhere leaves the figures current.
_PER_TRANSACTION = 100


def delete(ids: Iterable[str], *, store: Store) -> tuple[list[str], list[str]]:
    """Remove documents by id, each with its metadata; returns (deleted, not found).

    Figures left out of date by an earlier run that stopped part-way are rebuilt first.
    """
    ids = list(dict.fromkeys(ids))
    graphs = store.document_graphs(ids)
    require_current(store)
    found = list(graphs.values())
    for start in range(0, len(found), _PER_TRANSACTION):
        chunk = found[start : start + _PER_TRANSACTION]
        subjects, figures = after_removal(store, chunk)
        store.replace(chunk, figures, subjects={FIGURES_GRAPH: subjects})
    return [i for i in ids if i in graphs], [i for i in ids if i not in graphs]
