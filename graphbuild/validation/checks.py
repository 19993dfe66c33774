"""The checks behind ``graphbuild validate``, run on one document graph at a time.

The rules come from ``shapes/nif.ttl`` (compiled by ``shapes``) and are applied here in
Python, node by node, as a SHACL processor would apply them to the document's graph: the
same focus nodes, values, messages and source shapes as pyshacl reported, at a small
fraction of its cost. Each SPARQL constraint of the file has its twin here, in
``_SPARQL_TWINS``. Beyond SHACL, each anchor is compared with its text slice, in code
points.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from graphbuild.model.vocab import (
    NIF_ANCHOR_OF,
    NIF_BEGIN_INDEX,
    NIF_END_INDEX,
    NIF_IS_STRING,
    NIF_REFERENCE_CONTEXT,
    RDF,
    RDF_TYPE,
    RDFS,
    XSD,
    XSD_INTEGER,
    XSD_NON_NEGATIVE_INTEGER,
    XSD_STRING,
)
from graphbuild.validation.shapes import (
    SH,
    SHAPES,
    NodeRule,
    PropertyRule,
    Shapes,
    ShapesError,
    SparqlRule,
    shipped_shapes,
)

__all__ = ["ANCHOR_SLICE", "SHAPES", "StoredDocument", "Violation", "anchor_violations", "check_batch", "check_document"]

# The check done outside SHACL is reported under this source, beside the shapes' own IRIs.
ANCHOR_SLICE = "https://w3id.org/graphbuild/shapes#anchorSlice"
GBSH = "https://w3id.org/graphbuild/shapes#"

_ANCHOR_OF, _BEGIN, _END = NIF_ANCHOR_OF.value, NIF_BEGIN_INDEX.value, NIF_END_INDEX.value
_REFERENCE_CONTEXT, _IS_STRING, _TYPE = NIF_REFERENCE_CONTEXT.value, NIF_IS_STRING.value, RDF_TYPE.value
_INTEGERS = {XSD_INTEGER.value, XSD_NON_NEGATIVE_INTEGER.value}
_LANG_STRING = RDF + "langString"

Term = NamedNode | BlankNode | Literal | Triple
# Per node of a document: predicate IRI -> its values, in the store's order.
Properties = dict[Term, dict[str, list[Term]]]


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


def check_batch(batch: Iterable[StoredDocument]) -> list[Violation]:
    """Every violation in some document graphs, each checked on its own."""
    return [violation for document in batch for violation in check_document(document)]


def check_document(document: StoredDocument, shapes: Shapes | None = None) -> list[Violation]:
    """Every violation of one document graph: the shapes' rules, then the anchor slices."""
    props = properties(document.quads)
    found = _shape_violations(document, props, shapes or checked_shapes())
    found.extend(anchor_violations(document, props))
    # Two constraints of one shape failing on one value (say datatype and range) read the same.
    return list(dict.fromkeys(found))


def properties(quads: Iterable[Quad]) -> Properties:
    """Each node's values by predicate."""
    props: Properties = {}
    for quad in quads:
        values = props.get(quad.subject)
        if values is None:
            values = props[quad.subject] = {}
        predicate = quad.predicate.value
        found = values.get(predicate)
        if found is None:
            values[predicate] = [quad.object]
        else:
            found.append(quad.object)
    return props


def anchor_violations(graph: StoredDocument, props: Properties | None = None) -> Iterator[Violation]:
    """Anchors that differ from their text slice, where the offsets themselves are sound.

    Offsets the shapes reject (missing, repeated, reversed, past the text) are reported
    there and not again here.
    """
    props = properties(graph.quads) if props is None else props
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
                focus=_name(node),
                path=_ANCHOR_OF,
                values=(str(anchor),),
                message=f"is not the text slice [{b}:{e}], {json.dumps(piece, ensure_ascii=False)}",
                severity="Violation",
                source=ANCHOR_SLICE,
            )


def count_typed(quads: Iterable[Quad], cls: str) -> int:
    """How many nodes of a document graph are typed ``cls``."""
    return sum(1 for q in quads if q.predicate.value == _TYPE and isinstance(q.object, NamedNode) and q.object.value == cls)


def _shape_violations(document: StoredDocument, props: Properties, shapes: Shapes) -> list[Violation]:
    found: list[Violation] = []
    for node in shapes.nodes:
        for focus in _focus_nodes(node, props):
            values_of = props.get(focus, {})
            for rule in node.properties:
                found.extend(_property_violations(document, focus, rule, values_of.get(rule.path, []), props))
            for constraint in node.sparql:
                twin = _SPARQL_TWINS[constraint.iri]
                for path, value, bound in twin(focus, props):
                    message = _message(constraint.message, {"this": focus, "path": NamedNode(path), "value": value, **bound})
                    found.append(_violation(document, focus, path, (_ntriples(value),), message, node.shape))
    return found


def _focus_nodes(node: NodeRule, props: Properties) -> list[Term]:
    focus: dict[Term, None] = {}
    for subject, values in props.items():
        if any(isinstance(t, NamedNode) and t.value in node.target_classes for t in values.get(_TYPE, ())):
            focus[subject] = None
        for predicate in node.target_objects_of:
            for obj in values.get(predicate, ()):
                focus[obj] = None
    return list(focus)


def _property_violations(
    document: StoredDocument, focus: Term, rule: PropertyRule, values: list[Term], props: Properties
) -> Iterator[Violation]:
    if (rule.min_count is not None and len(values) < rule.min_count) or (
        rule.max_count is not None and len(values) > rule.max_count
    ):
        # Cardinality results carry no value: every value there is shown instead.
        shown = tuple(_ntriples(v) for v in sorted(values, key=_sort_key))
        yield _violation(document, focus, rule.path, shown, rule.message, rule.shape)
    for value in values:
        if not _value_conforms(rule, value, props):
            yield _violation(document, focus, rule.path, (_ntriples(value),), rule.message, rule.shape)


def _value_conforms(rule: PropertyRule, value: Term, props: Properties) -> bool:
    if rule.datatypes is not None and not any(_has_datatype(value, d) for d in rule.datatypes):
        return False
    if rule.node_kind is not None and not _has_kind(value, rule.node_kind):
        return False
    if rule.class_ is not None:
        types = props.get(value, {}).get(_TYPE, ()) if isinstance(value, (NamedNode, BlankNode)) else ()
        if not any(isinstance(t, NamedNode) and t.value == rule.class_ for t in types):
            return False
    if rule.min_inclusive is not None or rule.max_inclusive is not None:
        number = _number(value)
        if number is None or number != number:  # not a number, or NaN: comparisons fail
            return False
        if rule.min_inclusive is not None and not number >= rule.min_inclusive:
            return False
        if rule.max_inclusive is not None and not number <= rule.max_inclusive:
            return False
    return True


def _has_datatype(value: Term, datatype: str) -> bool:
    """SHACL's sh:datatype: a literal of that datatype whose lexical form is valid for it."""
    if not isinstance(value, Literal):
        return False
    if datatype == RDFS + "Literal":
        return True
    if value.datatype.value != datatype:
        return False
    pattern = _LEXICAL.get(datatype)
    return pattern is None or pattern.fullmatch(value.value) is not None


def _has_kind(value: Term, kind: str) -> bool:
    allowed = {
        SH + "IRI": (NamedNode,),
        SH + "BlankNode": (BlankNode,),
        SH + "Literal": (Literal,),
        SH + "BlankNodeOrIRI": (BlankNode, NamedNode),
        SH + "IRIOrLiteral": (NamedNode, Literal),
        SH + "BlankNodeOrLiteral": (BlankNode, Literal),
    }[kind]
    return isinstance(value, allowed)


# Valid lexical forms (XML Schema 1.1) of the datatypes the shapes name; others are not checked.
_INTEGER = r"[+-]?[0-9]+"
_FLOATING = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee][+-]?[0-9]+)?|[+-]?INF|NaN"
_LEXICAL = {
    XSD + "integer": re.compile(_INTEGER),
    XSD + "nonNegativeInteger": re.compile(r"\+?[0-9]+|-0+"),
    XSD + "decimal": re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"),
    XSD + "double": re.compile(_FLOATING),
    XSD + "float": re.compile(_FLOATING),
    XSD + "boolean": re.compile(r"true|false|1|0"),
}
# SPARQL's numeric datatypes (isNumeric): XSD's four and the integer types derived from them.
_INTEGER_TYPES = {
    XSD + t
    for t in (
        "integer nonNegativeInteger positiveInteger nonPositiveInteger negativeInteger long int short byte "
        "unsignedLong unsignedInt unsignedShort unsignedByte"
    ).split()
}
_NUMERIC_TYPES = _INTEGER_TYPES | {XSD + "decimal", XSD + "double", XSD + "float"}


def _number(value: Term | None) -> int | float | Decimal | None:
    """The value of a numeric literal with a valid lexical form, else None."""
    if not isinstance(value, Literal) or value.datatype.value not in _NUMERIC_TYPES:
        return None
    lexical, datatype = value.value, value.datatype.value
    try:
        if datatype in _INTEGER_TYPES:
            return int(lexical) if re.fullmatch(_INTEGER, lexical) else None
        if datatype == XSD + "decimal":
            return Decimal(lexical) if _LEXICAL[datatype].fullmatch(lexical) else None
        return float(lexical) if _LEXICAL[datatype].fullmatch(lexical) else None
    except (ValueError, InvalidOperation):
        return None


def _string_length(value: Term) -> int | None:
    """SPARQL's STRLEN: code points of a string literal (plain or language-tagged), else an error."""
    if isinstance(value, Literal) and value.datatype.value in (XSD_STRING.value, _LANG_STRING):
        return len(value.value)
    return None


# The SPARQL constraints of nif.ttl, one function each: (focus, document) -> (path, value,
# other bound variables) per row its SELECT would return. Each mirrors its query clause by clause.
Twin = Callable[[Term, Properties], Iterator[tuple[str, Term, dict[str, Term]]]]


def _phrase_order(focus: Term, props: Properties) -> Iterator[tuple[str, Term, dict[str, Term]]]:
    # $this nif:beginIndex ?value ; nif:endIndex ?end . FILTER (isNumeric both && ?value >= ?end)
    values = props.get(focus, {})
    for value in values.get(_BEGIN, ()):
        for end in values.get(_END, ()):
            begin_number, end_number = _number(value), _number(end)
            if begin_number is not None and end_number is not None and begin_number >= end_number:
                yield _BEGIN, value, {"end": end}


def _phrase_inside_text(focus: Term, props: Properties) -> Iterator[tuple[str, Term, dict[str, Term]]]:
    # $this nif:endIndex ?value ; nif:referenceContext/nif:isString ?text . FILTER (?value > STRLEN(?text))
    values = props.get(focus, {})
    for value in values.get(_END, ()):
        for context in values.get(_REFERENCE_CONTEXT, ()):
            for text in props.get(context, {}).get(_IS_STRING, ()):
                number, length = _number(value), _string_length(text)
                if number is not None and length is not None and number > length:
                    yield _END, value, {"length": Literal(str(length), datatype=XSD_INTEGER)}


def _context_span(focus: Term, props: Properties) -> Iterator[tuple[str, Term, dict[str, Term]]]:
    # $this nif:endIndex ?value ; nif:isString ?text . FILTER (?value != STRLEN(?text))
    values = props.get(focus, {})
    for value in values.get(_END, ()):
        for text in values.get(_IS_STRING, ()):
            number, length = _number(value), _string_length(text)
            if number is not None and length is not None and number != length:
                yield _END, value, {"length": Literal(str(length), datatype=XSD_INTEGER)}


_SPARQL_TWINS: dict[str, Twin] = {
    GBSH + "phraseOrder": _phrase_order,
    GBSH + "phraseInsideText": _phrase_inside_text,
    GBSH + "contextSpan": _context_span,
}


def sparql_twin(rule: SparqlRule) -> Twin:
    """The Python function that stands for a SPARQL constraint of the shapes."""
    return _SPARQL_TWINS[rule.iri]


@cache
def checked_shapes() -> Shapes:
    """The shipped shapes, compiled and matched with their twins once per process."""
    shapes = shipped_shapes()
    check_twins(shapes)
    return shapes


def check_twins(shapes: Shapes) -> None:
    """Refuse shapes whose SPARQL constraints and the Python twins differ in number or name."""
    declared, implemented = set(shapes.sparql_rules()), set(_SPARQL_TWINS)
    if declared != implemented:
        missing = ", ".join(sorted(declared - implemented)) or "none"
        unused = ", ".join(sorted(implemented - declared)) or "none"
        raise ShapesError(f"{SHAPES}: SPARQL constraints without a Python twin: {missing}; twins without one: {unused}")


def _message(template: str, bound: dict[str, Term]) -> str:
    # As pyshacl fills sh:message: {?name} or {$name} becomes the bound term's lexical form.
    def filled(match: re.Match[str]) -> str:
        term = bound.get(match.group(1))
        return _lexical(term) if term is not None else match.group(0)

    return re.sub(r"\{[?$](\w+)\}", filled, template)


def _violation(document: StoredDocument, focus: Term, path: str, values: tuple[str, ...], message: str, source: str) -> Violation:
    return Violation(document.document, document.iri, _name(focus), path, values, message, "Violation", source)


def _single(values: dict[str, list[Term]], predicate: str) -> Term | None:
    found = values.get(predicate, [])
    return found[0] if len(found) == 1 else None


def _is_index(term: Term | None) -> bool:
    return isinstance(term, Literal) and term.datatype.value in _INTEGERS and term.value.lstrip("+-").isdigit()


def _sort_key(term: Term) -> str:
    return _lexical(term)


def _lexical(term: Term) -> str:
    return term.value if isinstance(term, (NamedNode, BlankNode, Literal)) else str(term)


def _ntriples(term: Term) -> str:
    # A triple term (RDF 1.2) is shown as the literal of its text, as before.
    return str(Literal(str(term))) if isinstance(term, Triple) else str(term)


def _name(term: Term) -> str:
    return term.value if isinstance(term, NamedNode) else str(term)
