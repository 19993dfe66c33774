"""Validate a store: every document graph against the shipped SHACL shapes, streamed.

Document graphs are read one at a time and checked in batches of a few thousand triples
(``checks.check_batch``), never the whole store in one rdflib graph; with more than one
batch the batches go to worker processes, a bounded number in flight.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from enum import Enum
from itertools import chain

from pyoxigraph import Literal, NamedNode, Quad

from graphbuild.model.vocab import (
    DCTERMS_IDENTIFIER,
    METADATA_GRAPH,
    NIF_ANNOTATION,
    NIF_CONTEXT,
    NIF_PHRASE,
    RDF_TYPE,
    XSD,
    compact,
)
from graphbuild.store.protocol import Store
from graphbuild.text import plural
from graphbuild.validation.checks import ANCHOR_SLICE, SHAPES, StoredDocument, Violation, check_batch, count_typed
from graphbuild.workers.processes import ordered_map

__all__ = ["ANCHOR_SLICE", "SHAPES", "ReportFormat", "ValidationReport", "Violation", "validate"]

# Triples per batch: large enough that pyshacl's per-run setup is small beside the work.
_BATCH_TRIPLES = 5_000
_DOCUMENT_CLASSES = {NIF_CONTEXT.value, NIF_PHRASE.value, NIF_ANNOTATION.value}
_NUMERIC = {XSD + t for t in ("integer", "nonNegativeInteger", "decimal", "double", "float")}


class ReportFormat(str, Enum):
    TABLE = "table"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What was checked and every violation, sorted by document, node and property."""

    documents: int
    mentions: int
    unplaced: int
    violations: tuple[Violation, ...]

    @property
    def conforms(self) -> bool:
        return not self.violations

    @property
    def summary(self) -> str:
        checked = f"{plural(self.documents, 'document')}, {plural(self.mentions, 'mention')}"
        if self.unplaced:
            checked += f" and {plural(self.unplaced, 'unplaced link')}"
        if self.conforms:
            return f"{checked} checked: no violations"
        documents = len({v.graph for v in self.violations})
        return f"{checked} checked: {plural(len(self.violations), 'violation')} in {plural(documents, 'document')}"


def validate(store: Store, *, workers: int | None = None, batch_triples: int = _BATCH_TRIPLES) -> ValidationReport:
    """Check every document graph in ``store``.

    ``workers`` processes check batches in parallel (default: one per CPU); a store that
    fits in one batch is checked in this process.
    """
    counts = [0, 0, 0]

    def counted(graphs: Iterable[StoredDocument]) -> Iterator[StoredDocument]:
        for graph in graphs:
            counts[0] += 1
            counts[1] += count_typed(graph.quads, NIF_PHRASE.value)
            counts[2] += count_typed(graph.quads, NIF_ANNOTATION.value)
            yield graph

    batches = _batches(counted(_document_graphs(store)), batch_triples)
    violations = list(chain.from_iterable(_run(batches, workers or _cpus())))
    violations.sort(key=lambda v: (v.document, v.graph, _node_order(v.focus), v.path or "", v.message, v.values))
    return ValidationReport(counts[0], counts[1], counts[2], tuple(violations))


def render_table(report: ValidationReport) -> list[str]:
    """A header and one line per violation, columns aligned, then the summary line."""
    rows = [("document", "node", "property", "values", "problem")]
    for v in report.violations:
        node = "<" + v.focus[len(v.graph) :] + ">" if v.focus.startswith(v.graph + "#") else _short(v.focus)
        values = ", ".join(_short(value) for value in v.values) or "(none)"
        problem = v.message if v.severity == "Violation" else f"({v.severity.lower()}) {v.message}"
        rows.append((v.document, node, _short(v.path) if v.path else "", values, problem))
    if not report.violations:
        return [report.summary]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[4]]) for row in rows]
    return [*lines, report.summary]


def render_json(report: ValidationReport) -> str:
    """The report as one JSON object; ``values`` hold terms in N-Triples form."""
    body = {
        "conforms": report.conforms,
        "documents": report.documents,
        "mentions": report.mentions,
        "unplaced": report.unplaced,
        "violations": [asdict(v) for v in report.violations],
    }
    return json.dumps(body, ensure_ascii=False, indent=2)


def _run(batches: Iterator[list[StoredDocument]], workers: int) -> Iterator[list[Violation]]:
    first = next(batches, None)
    second = next(batches, None)
    if first is None:
        return
    if second is None or workers <= 1:
        for batch in chain([first], [second] if second else [], batches):
            yield check_batch(batch)
        return
    yield from ordered_map(check_batch, chain([first, second], batches), processes=workers)


def _document_graphs(store: Store) -> Iterator[StoredDocument]:
    # A SELECT over GRAPH ?g streams the names, where store.graphs() builds a sorted list.
    names = store.select("SELECT ?g WHERE { GRAPH ?g { } }")
    for (name,) in names.rows:
        if not isinstance(name, NamedNode) or name == METADATA_GRAPH:
            continue
        quads = tuple(store.quads(name))
        if any(_is_document_quad(q, name) for q in quads):
            yield StoredDocument(name.value, _document_id(quads, name), quads)


def _is_document_quad(quad: Quad, graph: NamedNode) -> bool:
    if quad.predicate.value == RDF_TYPE.value:
        return isinstance(quad.object, NamedNode) and quad.object.value in _DOCUMENT_CLASSES
    return quad.subject == graph and quad.predicate.value == DCTERMS_IDENTIFIER.value


def _document_id(quads: Iterable[Quad], graph: NamedNode) -> str:
    for quad in quads:
        if quad.subject == graph and quad.predicate.value == DCTERMS_IDENTIFIER.value and isinstance(quad.object, Literal):
            return quad.object.value
    return graph.value


def _batches(graphs: Iterable[StoredDocument], limit: int) -> Iterator[list[StoredDocument]]:
    """Graphs in batches of about ``limit`` triples, no node described in two graphs of one batch."""
    batch: list[StoredDocument] = []
    subjects: set[object] = set()
    size = 0
    for graph in graphs:
        own = {q.subject for q in graph.quads}
        if batch and (size + len(graph.quads) > limit or not subjects.isdisjoint(own)):
            yield batch
            batch, subjects, size = [], set(), 0
        batch.append(graph)
        subjects |= own
        size += len(graph.quads)
    if batch:
        yield batch


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _node_order(focus: str) -> tuple[str, int, int]:
    # Mentions in text order: <doc#char=9,12> before <doc#char=10,11>.
    head, _, span = focus.partition("#char=")
    begin, _, end = span.partition(",")
    if begin.isdigit() and end.isdigit():
        return head, int(begin), int(end)
    return focus, -1, -1


def _short(value: str) -> str:
    """An N-Triples term or an IRI, shortened for people: prefixed names, bare numbers."""
    if value.startswith("<") and value.endswith(">"):
        return compact(value[1:-1])
    if value.startswith('"'):
        lexical, _, datatype = value.rpartition("^^")
        if lexical and datatype[1:-1] in _NUMERIC:
            return lexical[1:-1]
        return value
    if value.startswith(("http://", "https://")):
        return compact(value)
    return value
