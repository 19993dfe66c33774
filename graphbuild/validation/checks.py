"""The checks behind ``graphbuild validate``, run on one batch of document graphs.

A batch's quads become one rdflib graph that pyshacl checks against ``shapes/nif.ttl``;
every node of it is described by one document only (``validate`` batches that way), so
each result is traced back to its document. Beyond SHACL, each anchor is compared with
its text slice here, in code points.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyshacl
import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from graphbuild.model.vocab import (
    NIF_ANCHOR_OF,
    NIF_BEGIN_INDEX,
    NIF_END_INDEX,
    NIF_IS_STRING,
    NIF_REFERENCE_CONTEXT,
    NIF_TOPIC,
    RDF_TYPE,
    XSD_INTEGER,
    XSD_NON_NEGATIVE_INTEGER,
    XSD_STRING,
)

SHAPES = Path(__file__).resolve().parent / "shapes" / "nif.ttl"
# The check done outside SHACL is reported under this source, beside the shapes' own IRIs.
ANCHOR_SLICE = "https://w3id.org/graphbuild/shapes#anchorSlice"

_ANCHOR_OF, _BEGIN, _END = NIF_ANCHOR_OF.value, NIF_BEGIN_INDEX.value, NIF_END_INDEX.value
_REFERENCE_CONTEXT, _IS_STRING, _TOPIC = NIF_REFERENCE_CONTEXT.value, NIF_IS_STRING.value, NIF_TOPIC.value
_INTEGERS = {XSD_INTEGER.value, XSD_NON_NEGATIVE_INTEGER.value}

Term = NamedNode | BlankNode | Literal | Triple


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One document's named graph as read from the store."""

    iri: str
    document: str
    quads: tuple[Quad, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed check: where (document, graph, node, property), what, and the values there.

    ``values`` are terms in N-Triples form: the offending value, or every value of
    ``path`` on the node when the problem is their number. ``source`` is the shape (or
    ``ANCHOR_SLICE``) that failed.
    """

    document: str
    graph: str
    focus: str
    path: str | None
    values: tuple[str, ...]
    message: str
    severity: str
    source: str


def check_batch(batch: list[StoredDocument]) -> list[Violation]:
    """Every violation in a batch of document graphs that share no subject."""
    data = _Graph()
    owner: dict[rdflib.term.Node, StoredDocument] = {}
    convert = _Converter()
    for graph in batch:
        for quad in graph.quads:
            subject, obj = convert(quad.subject), convert(quad.object)
            data.add((subject, convert(quad.predicate), obj))
            owner.setdefault(subject, graph)
            if quad.predicate.value == _TOPIC:
                owner.setdefault(obj, graph)
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes_graph(), inference="none", inplace=True)
    violations = [_shacl_violation(report, result, data, owner) for result in report.objects(None, SH.result)]
    for graph in batch:
        violations.extend(anchor_violations(graph))
    # Two constraints of one shape failing on one value (say datatype and range) read the same.
    return list(dict.fromkeys(violations))


@cache
def shapes_graph() -> rdflib.Graph:
    """The shipped shapes, parsed once per process."""
    return rdflib.Graph().parse(SHAPES, format="turtle")


def anchor_violations(graph: StoredDocument) -> Iterator[Violation]:
    """Anchors that differ from their text slice, where the offsets themselves are sound.

    Offsets the shapes reject (missing, repeated, reversed, past the text) are reported
    there and not again here.
    """
    props: dict[Term, dict[str, list[Term]]] = {}
    for quad in graph.quads:
        props.setdefault(quad.subject, {}).setdefault(quad.predicate.value, []).append(quad.object)
    for node, values in props.items():
        anchor, begin, end, context = (_single(values, p) for p in (_ANCHOR_OF, _BEGIN, _END, _REFERENCE_CONTEXT))
        if not (isinstance(anchor, Literal) and _is_index(begin) and _is_index(end) and context is not None):
            continue
        text = _single(props.get(context, {}), _IS_STRING)
        assert isinstance(begin, Literal) and isinstance(end, Literal)
        b, e = int(begin.value), int(end.value)
        if not isinstance(text, Literal) or not 0 <= b < e <= len(text.value):
            continue
        piece = text.value[b:e]
        if anchor.value != piece:
            yield Violation(
                document=graph.document,
                graph=graph.iri,
                focus=_ox_name(node),
                path=_ANCHOR_OF,
                values=(str(anchor),),
                message=f"is not the text slice [{b}:{e}], {json.dumps(piece, ensure_ascii=False)}",
                severity="Violation",
                source=ANCHOR_SLICE,
            )


def _shacl_violation(
    report: rdflib.Graph, result: rdflib.term.Node, data: rdflib.Graph, owner: dict[rdflib.term.Node, StoredDocument]
) -> Violation:
    focus = report.value(result, SH.focusNode)
    path = report.value(result, SH.resultPath)
    value = report.value(result, SH.value)
    if value is not None and value != focus:
        values = [value]
    elif isinstance(path, rdflib.URIRef):
        # Cardinality results carry no value: show what is there instead.
        values = sorted(data.objects(focus, path), key=str)
    else:
        values = []
    graph = owner.get(focus) if focus is not None else None
    severity = report.value(result, SH.resultSeverity)
    return Violation(
        document=graph.document if graph else "",
        graph=graph.iri if graph else "",
        focus=_rdflib_name(focus),
        path=str(path) if isinstance(path, rdflib.URIRef) else None,
        values=tuple(_ntriples(v) for v in values),
        message=str(report.value(result, SH.resultMessage) or "does not conform"),
        severity=str(severity).rpartition("#")[2] if severity else "Violation",
        source=_rdflib_name(report.value(result, SH.sourceShape)),
    )


def count_typed(quads: Iterable[Quad], cls: str) -> int:
    """How many nodes of a document graph are typed ``cls``."""
    return sum(
        1 for q in quads if q.predicate.value == RDF_TYPE.value and isinstance(q.object, NamedNode) and q.object.value == cls
    )


def _single(values: dict[str, list[Term]], predicate: str) -> Term | None:
    found = values.get(predicate, [])
    return found[0] if len(found) == 1 else None


def _is_index(term: Term | None) -> bool:
    return isinstance(term, Literal) and term.datatype.value in _INTEGERS and term.value.lstrip("+-").isdigit()


class _Graph(rdflib.Graph):
    """An rdflib graph that parses each SPARQL text once.

    pyshacl runs a SPARQL constraint once per focus node with the same text (the node is
    bound, not pasted) and rdflib would parse it every time: 27 ms a phrase otherwise.
    """

    def query(self, query_object: str | Query, *args: Any, **kwargs: Any) -> rdflib.query.Result:
        if isinstance(query_object, str):
            query_object = _prepared(query_object)
        return super().query(query_object, *args, **kwargs)


@cache
def _prepared(text: str) -> Query:
    return prepareQuery(text)


class _Converter:
    """pyoxigraph terms to rdflib terms, IRIs cached: a batch repeats few of them many times."""

    def __init__(self) -> None:
        self._iris: dict[str, rdflib.URIRef] = {}

    def __call__(self, term: object) -> rdflib.term.Node:
        if isinstance(term, NamedNode):
            return self._iri(term.value)
        if isinstance(term, BlankNode):
            return rdflib.BNode(term.value)
        if isinstance(term, Literal):
            if term.language:
                return rdflib.Literal(term.value, lang=term.language)
            datatype = term.datatype.value
            # A simple literal and an xsd:string are one term in RDF 1.1, and Oxigraph stores them so.
            if datatype == XSD_STRING.value:
                return rdflib.Literal(term.value)
            return rdflib.Literal(term.value, datatype=self._iri(datatype))
        # A triple term (RDF 1.2, objects only) has no rdflib form: as a literal it fails
        # whichever shape expects something else there, and shows in the report as written.
        return rdflib.Literal(str(term))

    def _iri(self, value: str) -> rdflib.URIRef:
        iri = self._iris.get(value)
        if iri is None:
            iri = self._iris[value] = rdflib.URIRef(value)
        return iri


def _ntriples(term: rdflib.term.Node) -> str:
    """An rdflib term in N-Triples form (pyoxigraph's escaping, not rdflib's Turtle-ish n3)."""
    if isinstance(term, rdflib.URIRef):
        return str(NamedNode(str(term)))
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    if isinstance(term, rdflib.Literal):
        if term.language:
            return str(Literal(str(term), language=term.language))
        return str(Literal(str(term), datatype=NamedNode(str(term.datatype or XSD_STRING.value))))
    return str(term)


def _rdflib_name(term: rdflib.term.Node | None) -> str:
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    return str(term) if term is not None else ""


def _ox_name(term: Term) -> str:
    return term.value if isinstance(term, NamedNode) else str(term)
