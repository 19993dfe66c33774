"""``shapes/nif.ttl`` compiled into plain rules that ``checks`` applies in Python.

The shapes file stays the contract: every rule here is read from it (targets, paths,
counts, datatypes, ranges, node kinds, classes, messages), and a shape that uses anything
this compiler does not implement is refused with an error rather than skipped, so the file
and the checks cannot drift apart silently. The file's SPARQL constraints each have a
Python twin in ``checks`` (looked up by the constraint's IRI); a constraint without a twin,
or a twin without a constraint, is refused the same way, and the tests run each
constraint's own SPARQL on Oxigraph to compare it with its twin.

Only the subset of SHACL Core that graphbuild's shapes use is implemented; see ``_NODE``,
``_PROPERTY`` and ``_SPARQL`` for the predicates each kind of shape may carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Store

from graphbuild.errors import GraphbuildError
from graphbuild.model.vocab import RDF, RDF_TYPE, RDFS

SHAPES = Path(__file__).resolve().parent / "shapes" / "nif.ttl"
SH = "http://www.w3.org/ns/shacl#"

_NODE = {RDF_TYPE.value, RDFS + "comment", SH + "targetClass", SH + "targetObjectsOf", SH + "property", SH + "sparql"}
_PROPERTY = {
    RDF_TYPE.value,
    SH + "path",
    SH + "minCount",
    SH + "maxCount",
    SH + "datatype",
    SH + "or",
    SH + "minInclusive",
    SH + "maxInclusive",
    SH + "nodeKind",
    SH + "class",
    SH + "message",
}
_SPARQL = {RDF_TYPE.value, SH + "message", SH + "prefixes", SH + "select"}
_NODE_KINDS = {SH + "IRI", SH + "BlankNode", SH + "Literal", SH + "BlankNodeOrIRI", SH + "IRIOrLiteral", SH + "BlankNodeOrLiteral"}


class ShapesError(GraphbuildError):
    """The shapes file uses SHACL that graphbuild's checker does not implement."""


@dataclass(frozen=True, slots=True)
class PropertyRule:
    """One property shape: the values of ``path`` on a focus node and what they must be."""

    shape: str
    path: str
    message: str
    min_count: int | None = None
    max_count: int | None = None
    # Any one of these datatypes (sh:datatype, or sh:or of sh:datatype alternatives).
    datatypes: frozenset[str] | None = None
    min_inclusive: Decimal | None = None
    max_inclusive: Decimal | None = None
    node_kind: str | None = None
    class_: str | None = None


@dataclass(frozen=True, slots=True)
class SparqlRule:
    """A SPARQL constraint: its IRI (the key of its Python twin), message template and query."""

    iri: str
    message: str
    select: str


@dataclass(frozen=True, slots=True)
class NodeRule:
    shape: str
    target_classes: frozenset[str]
    target_objects_of: frozenset[str]
    properties: tuple[PropertyRule, ...]
    sparql: tuple[SparqlRule, ...]


@dataclass(frozen=True, slots=True)
class Shapes:
    nodes: tuple[NodeRule, ...]
    prefixes: dict[str, str]

    def sparql_rules(self) -> dict[str, SparqlRule]:
        return {rule.iri: rule for node in self.nodes for rule in node.sparql}


@cache
def shipped_shapes() -> Shapes:
    """``shapes/nif.ttl``, compiled once per process."""
    return compile_shapes(SHAPES)


def compile_shapes(path: Path) -> Shapes:
    """Read a shapes file into rules, refusing any SHACL the checker does not implement."""
    try:
        graph = Store()
        graph.load(path=str(path), format=RdfFormat.TURTLE)
    except (OSError, SyntaxError) as exc:
        raise ShapesError(f"{path}: cannot read the shapes: {exc}") from exc
    reader = _Reader(graph, path)
    nodes = tuple(reader.node(shape) for shape in reader.subjects(RDF_TYPE.value, SH + "NodeShape"))
    prefixes = {
        reader.literal(declaration, SH + "prefix"): reader.literal(declaration, SH + "namespace")
        for declaration in reader.objects_of_any(SH + "declare")
    }
    return Shapes(nodes, prefixes)


class _Reader:
    def __init__(self, graph: Store, path: Path) -> None:
        self.graph = graph
        self.path = path

    def node(self, shape: NamedNode | BlankNode) -> NodeRule:
        self.only(shape, _NODE, "node shape")
        return NodeRule(
            shape=_name(shape),
            target_classes=frozenset(self.iri(t) for t in self.objects(shape, SH + "targetClass")),
            target_objects_of=frozenset(self.iri(t) for t in self.objects(shape, SH + "targetObjectsOf")),
            properties=tuple(self.property(self.resource(p)) for p in self.objects(shape, SH + "property")),
            sparql=tuple(self.sparql(self.resource(c)) for c in self.objects(shape, SH + "sparql")),
        )

    def property(self, shape: NamedNode | BlankNode) -> PropertyRule:
        self.only(shape, _PROPERTY, "property shape")
        datatypes = {self.iri(d) for d in self.objects(shape, SH + "datatype")}
        for alternatives in self.objects(shape, SH + "or"):
            for member in self.items(alternatives):
                member = self.resource(member)
                self.only(member, {SH + "datatype"}, "sh:or alternative")
                datatypes.add(self.iri(self.one(member, SH + "datatype")))
        kind = self.optional(shape, SH + "nodeKind")
        if kind is not None and self.iri(kind) not in _NODE_KINDS:
            raise self.error(f"{_name(shape)}: sh:nodeKind {kind} is not a SHACL node kind")
        rule_class = self.optional(shape, SH + "class")
        return PropertyRule(
            shape=_name(shape),
            path=self.iri(self.one(shape, SH + "path")),
            message=self.literal(shape, SH + "message"),
            min_count=self.integer(shape, SH + "minCount"),
            max_count=self.integer(shape, SH + "maxCount"),
            datatypes=frozenset(datatypes) or None,
            min_inclusive=self.number(shape, SH + "minInclusive"),
            max_inclusive=self.number(shape, SH + "maxInclusive"),
            node_kind=self.iri(kind) if kind is not None else None,
            class_=self.iri(rule_class) if rule_class is not None else None,
        )

    def sparql(self, constraint: NamedNode | BlankNode) -> SparqlRule:
        self.only(constraint, _SPARQL, "SPARQL constraint")
        if not isinstance(constraint, NamedNode):
            raise self.error("a SPARQL constraint needs an IRI: its Python twin in checks.py is found by it")
        return SparqlRule(constraint.value, self.literal(constraint, SH + "message"), self.literal(constraint, SH + "select"))

    def only(self, shape: NamedNode | BlankNode, allowed: set[str], kind: str) -> None:
        for quad in self.graph.quads_for_pattern(shape, None, None):
            if quad.predicate.value not in allowed:
                raise self.error(f"{_name(shape)}: {quad.predicate.value} on a {kind} is not implemented by graphbuild's checker")

    def subjects(self, predicate: str, obj: str) -> list[NamedNode | BlankNode]:
        found = {q.subject for q in self.graph.quads_for_pattern(None, NamedNode(predicate), NamedNode(obj))}
        return sorted((s for s in found if isinstance(s, (NamedNode, BlankNode))), key=str)

    def objects(self, subject: NamedNode | BlankNode, predicate: str) -> list[object]:
        return sorted((q.object for q in self.graph.quads_for_pattern(subject, NamedNode(predicate), None)), key=str)

    def objects_of_any(self, predicate: str) -> list[NamedNode | BlankNode]:
        return [self.resource(q.object) for q in self.graph.quads_for_pattern(None, NamedNode(predicate), None)]

    def items(self, head: object) -> Iterator[object]:
        while head != NamedNode(RDF + "nil"):
            node = self.resource(head)
            yield self.one(node, RDF + "first")
            head = self.one(node, RDF + "rest")

    def one(self, subject: NamedNode | BlankNode, predicate: str) -> object:
        values = self.objects(subject, predicate)
        if len(values) != 1:
            raise self.error(f"{_name(subject)}: expected one {predicate}, found {len(values)}")
        return values[0]

    def optional(self, subject: NamedNode | BlankNode, predicate: str) -> object | None:
        return self.one(subject, predicate) if self.objects(subject, predicate) else None

    def literal(self, subject: NamedNode | BlankNode, predicate: str) -> str:
        value = self.one(subject, predicate)
        if not isinstance(value, Literal):
            raise self.error(f"{_name(subject)}: {predicate} must be a literal")
        return value.value

    def integer(self, subject: NamedNode | BlankNode, predicate: str) -> int | None:
        value = self.optional(subject, predicate)
        return None if value is None else int(self.number_of(subject, value))

    def number(self, subject: NamedNode | BlankNode, predicate: str) -> Decimal | None:
        value = self.optional(subject, predicate)
        return None if value is None else self.number_of(subject, value)

    def number_of(self, subject: NamedNode | BlankNode, value: object) -> Decimal:
        try:
            assert isinstance(value, Literal)
            return Decimal(value.value)
        except (AssertionError, ArithmeticError) as exc:
            raise self.error(f"{_name(subject)}: {value} is not a number") from exc

    def iri(self, value: object) -> str:
        if not isinstance(value, NamedNode):
            raise self.error(f"{value} must be an IRI")
        return value.value

    def resource(self, value: object) -> NamedNode | BlankNode:
        if not isinstance(value, (NamedNode, BlankNode)):
            raise self.error(f"{value} must be a node")
        return value

    def error(self, message: str) -> ShapesError:
        return ShapesError(f"{self.path}: {message}")


def _name(node: NamedNode | BlankNode) -> str:
    return node.value if isinstance(node, NamedNode) else str(node)
