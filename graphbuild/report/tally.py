"""Figures gathered while the documents stream past, for the resource pages, the network
and the index.

Per-resource SPARQL (documents mentioning, co-mentions, surface forms) costs about 0.3 ms
per (document, resource) pair on Oxigraph, minutes for 100,000 abstracts; the report reads
every document anyway, so it keeps a compact integer index instead: for each document the
resources it links (4 bytes each, in compressed sparse rows) and per resource its counts
and surface forms. The texts themselves are not kept.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from graphbuild.report.gather import DocumentView

HISTOGRAM_BINS = 20


@dataclass(frozen=True, slots=True)
class RankedResource:
    iri: str
    mentions: int
    documents: int
    max_confidence: float | None


@dataclass(frozen=True, slots=True)
class Count:
    key: str
    count: int


@dataclass(frozen=True, slots=True)
class Figures:
    documents: int
    mentions: int
    unplaced: int
    left_out: int
    inferred: int
    ambiguous: int
    resources: int


@dataclass(frozen=True, slots=True)
class TypeCount:
    type: str
    resources: int
    mentions: int


class Tally:
    """Counts over the kept mentions of every document, fed one document at a time."""

    def __init__(self, *, min_confidence: float) -> None:
        self.min_confidence = min_confidence
        self.doc_ids: list[str] = []
        self._index: dict[str, int] = {}
        self._iris: list[str] = []
        self._mentions = array("q")
        self._documents = array("q")
        self._best: list[float | None] = []
        self._surfaces: list[Counter[str]] = []
        self._doc_offsets = array("q", [0])
        self._doc_resources = array("i")
        self._doc_counts = array("i")
        self.histogram = [0] * HISTOGRAM_BINS
        self._type_mentions: Counter[str] = Counter()
        self._type_resources: dict[str, set[int]] = {}
        self._figures: Counter[str] = Counter()
        self._columns: _Columns | None = None

    def add(self, view: DocumentView, *, types: Callable[[str], Sequence[str]]) -> None:
        """Count one document's kept mentions; ``types`` gives a resource's types."""
        self.doc_ids.append(view.id)
        figures = self._figures
        figures["documents"] += 1
        figures["left_out"] += view.left_out
        figures["unplaced"] += len(view.unplaced)
        per_resource: Counter[int] = Counter()
        for mention in (*view.mentions, *view.unplaced):
            index = self._resource(mention.resource)
            per_resource[index] += 1
            self._surfaces[index][mention.surface] += 1
            self._confidence(index, mention.confidence)
            for type_iri in set(mention.classes) | set(types(mention.resource)):
                self._type_mentions[type_iri] += 1
                self._type_resources.setdefault(type_iri, set()).add(index)
        for mention in view.mentions:
            figures["mentions"] += 1
            figures["inferred"] += mention.inferred
            figures["ambiguous"] += mention.ambiguous
        for index, count in per_resource.items():
            self._mentions[index] += count
            self._documents[index] += 1
            self._doc_resources.append(index)
            self._doc_counts.append(count)
        self._doc_offsets.append(len(self._doc_resources))

    def figures(self) -> Figures:
        f = self._figures
        return Figures(
            f["documents"], f["mentions"], f["unplaced"], f["left_out"], f["inferred"], f["ambiguous"], len(self._iris)
        )

    def ranking(self) -> list[RankedResource]:
        """Every resource, most mentioned first (then most documents, then by IRI)."""
        return [
            RankedResource(self._iris[i], self._mentions[i], self._documents[i], self._best[i]) for i in self._order()
        ]

    def _order(self) -> list[int]:
        return sorted(range(len(self._iris)), key=lambda i: (-self._mentions[i], -self._documents[i], self._iris[i]))

    def surface_forms(self, iri: str) -> list[Count]:
        counter = self._surfaces[self._index[iri]]
        return [Count(surface, n) for surface, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))]

    def documents_of(self, iri: str, limit: int) -> list[tuple[str, int]]:
        """(document id, mentions) of the documents that mention ``iri``, most mentions first."""
        columns = self._index_columns()
        docs, counts = columns.documents_of(self._index[iri])
        order = np.lexsort((docs, -counts))[:limit]
        return [(self.doc_ids[int(docs[i])], int(counts[i])) for i in order]

    def co_mentions(self, iri: str, limit: int) -> tuple[list[Count], int]:
        """The resources sharing most documents with ``iri`` and how many share any."""
        columns = self._index_columns()
        others, shared = columns.co_mentions(self._index[iri])
        order = np.lexsort((columns.rank[others], -shared))[:limit]
        return [Count(self._iris[int(others[i])], int(shared[i])) for i in order], len(others)

    def edges_among(self, iris: Iterable[str]) -> dict[str, dict[str, int]]:
        """Shared-document counts between every two of ``iris`` that share any."""
        columns = self._index_columns()
        chosen = np.array(sorted(self._index[iri] for iri in iris if iri in self._index), dtype=np.int64)
        edges: dict[str, dict[str, int]] = {}
        for index in chosen:
            others, shared = columns.co_mentions(int(index))
            keep = np.isin(others, chosen)
            edges[self._iris[int(index)]] = {self._iris[int(o)]: int(n) for o, n in zip(others[keep], shared[keep])}
        return edges

    def top_types(self, limit: int, *, skip: Iterable[str] = ()) -> list[TypeCount]:
        """Types by the mentions of resources that have them (and mentions typed directly)."""
        skipped = set(skip)
        counted = [(t, n) for t, n in self._type_mentions.items() if t not in skipped]
        counted.sort(key=lambda item: (-item[1], item[0]))
        return [TypeCount(t, len(self._type_resources[t]), n) for t, n in counted[:limit]]

    def _resource(self, iri: str) -> int:
        index = self._index.get(iri)
        if index is None:
            index = self._index[iri] = len(self._iris)
            self._iris.append(iri)
            self._mentions.append(0)
            self._documents.append(0)
            self._best.append(None)
            self._surfaces.append(Counter())
            self._columns = None
        return index

    def _confidence(self, index: int, confidence: float | None) -> None:
        if confidence is None:
            return
        best = self._best[index]
        if best is None or confidence > best:
            self._best[index] = confidence
        width = max(1.0 - self.min_confidence, 1e-12) / HISTOGRAM_BINS
        self.histogram[min(max(int((confidence - self.min_confidence) // width), 0), HISTOGRAM_BINS - 1)] += 1

    def _index_columns(self) -> _Columns:
        if self._columns is None:
            rank = np.empty(len(self._iris), dtype=np.int64)
            rank[self._order()] = np.arange(len(self._iris))
            self._columns = _Columns(self._doc_offsets, self._doc_resources, self._doc_counts, rank)
        return self._columns


class _Columns:
    """The document-resource incidence as numpy arrays, both ways round."""

    def __init__(self, offsets: array, resources: array, counts: array, rank: np.ndarray) -> None:
        self.offsets = np.frombuffer(offsets, dtype=np.int64) if len(offsets) else np.zeros(1, dtype=np.int64)
        self.resources = np.frombuffer(resources, dtype=np.int32).astype(np.int64)
        self.counts = np.frombuffer(counts, dtype=np.int32)
        self.rank = rank
        documents = np.repeat(np.arange(len(self.offsets) - 1, dtype=np.int64), np.diff(self.offsets))
        order = np.argsort(self.resources, kind="stable")
        self.by_resource_docs = documents[order]
        self.by_resource_counts = self.counts[order]
        self.by_resource_offsets = np.searchsorted(self.resources[order], np.arange(len(rank) + 1))

    def documents_of(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.by_resource_offsets[index], self.by_resource_offsets[index + 1]
        return self.by_resource_docs[start:stop], self.by_resource_counts[start:stop]

    def co_mentions(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Other resources of the documents that mention ``index``, with shared-document counts."""
        docs, _ = self.documents_of(index)
        starts = self.offsets[docs]
        lengths = self.offsets[docs + 1] - starts
        if not len(docs):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # Positions of every entry of those documents' rows, without a Python loop.
        steps = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        entries = self.resources[steps + np.arange(int(lengths.sum()))]
        others, shared = np.unique(entries[entries != index], return_counts=True)
        return others, shared
