"""Validate a store: every document graph against the shipped SHACL shapes, streamed.

Document graphs are read one at a time and checked on their own (``checks.check_document``,
rules compiled from ``shapes/nif.ttl``), never the whole store at once. On a read-only
store on disk the graphs are read and checked by worker processes that open the store
themselves, a few hundred graph names per job (``workers.processes.ordered_map``);
otherwise in this process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from itertools import islice
from pathlib import Path

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
from graphbuild.progress import Progress
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.protocol import Store
from graphbuild.text import plural
from graphbuild.validation.checks import (
    ANCHOR_SLICE,
    SHAPES,
    StoredDocument,
    Violation,
    check_document,
    checked_shapes,
    count_typed,
)
from graphbuild.workers.processes import ordered_map

__all__ = ["ANCHOR_SLICE", "SHAPES", "ReportFormat", "ValidationReport", "Violation", "validate"]

# Graph names per job for a worker process: enough that sending a job and its answer costs
# little beside reading and checking the graphs, few enough that progress moves often.
_JOB_GRAPHS = 500
_DOCUMENT_CLASSES = {NIF_CONTEXT.value, NIF_PHRASE.value, NIF_ANNOTATION.value}
_NUMERIC = {XSD + t for t in ("integer", "nonNegativeInteger", "decimal", "double", "float")}
_GRAPH_NAMES = "SELECT ?g WHERE { GRAPH ?g { } }"
_GRAPH_COUNT = "SELECT (COUNT(?g) AS ?n) WHERE { GRAPH ?g { } }"


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


def validate(
    store: Store, *, workers: int | None = None, job_graphs: int = _JOB_GRAPHS, progress: Progress | None = None
) -> ValidationReport:
    """Check every document graph in ``store``.

    On a read-only store on disk, ``workers`` processes (default: one per CPU) read and
    check the graphs, ``job_graphs`` graphs a job; elsewhere this process does. ``progress``
    hears ``("graphs", checked, named graphs in the store)``.
    """
    checked_shapes()  # shapes the checker cannot follow fail here, before any work
    total = _graph_count(store)
    jobs = _chunks(_graph_names(store), max(1, job_graphs))
    count = _worker_count(store, workers, total, job_graphs)
    results: Iterator[_Checked]
    if count > 1:
        results = ordered_map(_check_in_worker, jobs, processes=count, initializer=_open_worker, initargs=(store.location,))
    else:
        results = (_check_graphs(store, names) for names in jobs)
    documents = mentions = unplaced = graphs = 0
    violations: list[Violation] = []
    for checked in results:
        graphs += checked.graphs
        documents += checked.documents
        mentions += checked.mentions
        unplaced += checked.unplaced
        violations.extend(checked.violations)
        if progress is not None:
            progress("graphs", graphs, total)
    violations.sort(key=lambda v: (v.document, v.graph, _node_order(v.focus), v.path or "", v.message, v.values))
    return ValidationReport(documents, mentions, unplaced, tuple(violations))


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


@dataclass(frozen=True, slots=True)
class _Checked:
    """What one job found: graphs read, documents among them, and their violations."""

    graphs: int
    documents: int
    mentions: int
    unplaced: int
    violations: list[Violation]


def _check_graphs(store: Store, names: Sequence[str]) -> _Checked:
    documents = mentions = unplaced = 0
    violations: list[Violation] = []
    for name in names:
        graph = NamedNode(name)
        quads = tuple(store.quads(graph))
        if not any(_is_document_quad(q, graph) for q in quads):
            continue
        documents += 1
        mentions += count_typed(quads, NIF_PHRASE.value)
        unplaced += count_typed(quads, NIF_ANNOTATION.value)
        violations.extend(check_document(StoredDocument(name, _document_id(quads, graph), quads)))
    return _Checked(len(names), documents, mentions, unplaced, violations)


_worker_store: EmbeddedStore | None = None


def _open_worker(location: str) -> None:
    global _worker_store
    _worker_store = EmbeddedStore.open(Path(location), read_only=True)


def _check_in_worker(names: Sequence[str]) -> _Checked:
    assert _worker_store is not None
    return _check_graphs(_worker_store, names)


def _worker_count(store: Store, workers: int | None, graphs: int, job_graphs: int) -> int:
    """Other processes only where they can open the store themselves and see all it holds:
    a read-only store on disk (a writable one may hold writes not yet visible to them)."""
    if not isinstance(store, EmbeddedStore) or not store.read_only or store.location == ":memory:":
        return 1
    if graphs <= job_graphs:
        return 1
    return workers if workers is not None else _cpus()


def _graph_names(store: Store) -> Iterator[str]:
    # A SELECT over GRAPH ?g streams the names, where store.graphs() builds a sorted list.
    for (name,) in store.select(_GRAPH_NAMES).rows:
        if isinstance(name, NamedNode) and name != METADATA_GRAPH:
            yield name.value


def _graph_count(store: Store) -> int:
    row = next(iter(store.select(_GRAPH_COUNT).rows), None)
    count = int(row[0].value) if row and isinstance(row[0], Literal) else 0
    # The metadata graph is listed but never read: the bar ends at its total.
    return count - 1 if count and store.has_graph(METADATA_GRAPH) else count


def _chunks(names: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(names)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _is_document_quad(quad: Quad, graph: NamedNode) -> bool:
    if quad.predicate.value == RDF_TYPE.value:
        return isinstance(quad.object, NamedNode) and quad.object.value in _DOCUMENT_CLASSES
    return quad.subject == graph and quad.predicate.value == DCTERMS_IDENTIFIER.value


def _document_id(quads: Iterable[Quad], graph: NamedNode) -> str:
    for quad in quads:
        if quad.subject == graph and quad.predicate.value == DCTERMS_IDENTIFIER.value and isinstance(quad.object, Literal):
            return quad.object.value
    return graph.value


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
