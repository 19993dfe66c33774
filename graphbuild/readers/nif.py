"""Reader for NIF: DBpedia Spotlight's NIF and the GERBIL gold standards, in any RDF
syntax pyoxigraph reads (Turtle, N-Triples, N-Quads, TriG, N3, RDF/XML, JSON-LD).

One document per ``nif:Context`` that has a ``nif:isString``. Its id is the
``dcterms:identifier`` of the context's ``nif:sourceUrl`` where there is one (graphbuild's
own exports, so that they read back under the same ids), else the context IRI without its
fragment: ``http://aksw.org/N3/Reuters-128/77#char=0,2444`` is ``http://aksw.org/N3/Reuters-128/77``.

A phrase is any node with a ``nif:referenceContext`` (GERBIL's are often typed only
``nif:RFC5147String``): ``nif:anchorOf``, ``nif:beginIndex``/``nif:endIndex`` (any integer
datatype; taken from a ``#char=b,e`` or ``#offset_b_e`` IRI when missing), one
``itsrdf:taIdentRef``, and where present ``itsrdf:taConfidence``, ``itsrdf:taClassRef``,
``itsrdf:taAnnotatorsRef`` and graphbuild's own flags and Spotlight scores. An annotator
or a ``gb:offsetsInferred`` said once on the context (the form graphbuild's store holds,
as ``graphbuild convert`` writes it) holds for every link that says none of its own.
Offsets and resources are checked and repaired by ``graphbuild.readers.repair``.

A syntax error in Turtle, TriG, N3, RDF/XML or JSON-LD fails the whole file, since what
follows it cannot be trusted. N-Triples and N-Quads are read line by line after an error,
so a bad line fails only the document whose IRIs it carries (``graphbuild.readers.rdf``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import BlankNode, Literal, NamedNode

from graphbuild.errors import InputError
from graphbuild.model.records import Document, Link, Repair, RepairKind, Skipped
from graphbuild.model.vocab import (
    AMBIGUOUS_PLACEMENT,
    DCTERMS_IDENTIFIER,
    ITS_TA_ANNOTATORS_REF,
    ITS_TA_CLASS_REF,
    ITS_TA_CONFIDENCE,
    ITS_TA_IDENT_REF,
    NIF_ANCHOR_OF,
    NIF_BEGIN_INDEX,
    NIF_CONTEXT,
    NIF_END_INDEX,
    NIF_IS_STRING,
    NIF_REFERENCE_CONTEXT,
    NIF_SOURCE_URL,
    NIF_TOPIC,
    OFFSETS_INFERRED,
    RDF_TYPE,
    SECOND_RANK,
    SUPPORT,
    SURFACE_FORM,
    compact,
)
from graphbuild.readers.rdf import Node, RdfFile, Term, syntax_of
from graphbuild.readers.repair import Settled, Stated, number_value, settle

EXTENSIONS = (".ttl", ".nt", ".nq", ".trig", ".n3", ".rdf", ".jsonld", ".nif")


_RANGE = re.compile(r"#(?:char=(\d+),(\d*)|offset_(\d+)_(\d*))$")
Item = Document | InputError | Skipped


class _Bad(Exception):
    """One phrase or context that fails its document; ``line`` is found from ``node``."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def read_nif(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[Item]:
    """Yield one document per context of a NIF file (module docstring)."""
    graph = RdfFile(stream.read(), syntax_of(name), base=path.resolve().as_uri() if path else None, source=source)
    if graph.error is not None:
        yield graph.error
        return
    nif = _Nif(graph)
    contexts = nif.contexts()
    if not contexts:
        yield Skipped(source, "no nif:Context with a nif:isString, so no documents")
        return
    for context in contexts:
        yield _document(nif, context)


class _Nif:
    """Contexts and phrases in the triples of one file."""

    def __init__(self, graph: RdfFile) -> None:
        self.graph = graph
        self.source = graph.source
        self.subjects = graph.subjects
        self.line = graph.line
        self.bad_lines = graph.bad_lines
        self._phrases: dict[Term, list[Node]] = defaultdict(list)
        for subject, properties in self.subjects.items():
            for target in properties.get(NIF_REFERENCE_CONTEXT.value, ()):
                self._phrases[target].append(subject)

    def phrases(self, context: Node) -> list[Node]:
        return self._phrases.get(context, [])

    def contexts(self) -> list[Node]:
        found: dict[Node, None] = {}
        for subject, properties in self.subjects.items():
            if NIF_IS_STRING.value in properties or any(t.value == NIF_CONTEXT.value for t in properties.get(RDF_TYPE.value, ())):
                found[subject] = None
            for context in properties.get(NIF_REFERENCE_CONTEXT.value, ()):
                if isinstance(context, (NamedNode, BlankNode)):
                    found[context] = None
        # A context with no text and nothing in it (KORE50's collection) is no document.
        texts = [c for c in found if NIF_IS_STRING.value in self.subjects.get(c, {}) or self.phrases(c)]
        stems = {c.value.split("#", 1)[0] for c in texts if isinstance(c, NamedNode)}
        if self.bad_lines and any(stem not in stems for stem in self.bad_lines):
            stem = next(s for s in self.bad_lines if s not in stems)
            line, message = self.bad_lines[stem]
            self.graph.error = InputError(self.source, line, f"{message}; no document of this file is loaded")
            return []
        return texts


def _document(graph: _Nif, context: Node) -> Item:
    source = graph.source
    try:
        if not isinstance(context, NamedNode):
            raise _Bad(context, "a nif:Context that is a blank node cannot name a document; give it an IRI")
        stem = context.value.split("#", 1)[0]
        if stem in graph.bad_lines:
            line, message = graph.bad_lines[stem]
            return InputError(source, line, f"{message}; document <{stem}> not loaded")
        properties = graph.subjects.get(context, {})
        if NIF_IS_STRING.value not in properties:
            count = len(graph.phrases(context))
            raise _Bad(context, f"context {_name(context)} has no nif:isString, yet {count} phrases refer to it")
        text = _literal(properties, NIF_IS_STRING.value, context, required=True)
        assert text is not None
        doc_id = _doc_id(graph, context)
        stated, repairs = _stated_links(graph, context, text)
    except _Bad as bad:
        return InputError(source, graph.line(bad.node), bad.message)
    settled = settle(text, stated, source=source)
    if isinstance(settled, InputError):
        return settled
    repairs.extend(settled.repairs)
    note = _context_note(context, text)
    if note:
        repairs.append(Repair(RepairKind.CONTEXT_IRI, note, source, graph.line(context), context.value))
    links, annotator = _annotator(settled)
    repairs.sort(key=lambda repair: repair.line or 0)
    return Document(doc_id, text, links, source=source, annotator=annotator, repairs=tuple(repairs))


def _doc_id(graph: _Nif, context: NamedNode) -> str:
    for url in graph.subjects.get(context, {}).get(NIF_SOURCE_URL.value, ()):
        if isinstance(url, Literal):
            continue
        for identifier in graph.subjects.get(url, {}).get(DCTERMS_IDENTIFIER.value, ()):
            if isinstance(identifier, Literal) and identifier.value:
                return identifier.value
    return context.value.split("#", 1)[0]


def _stated_links(graph: _Nif, context: Node, text: str) -> tuple[list[Stated], list[Repair]]:
    stated: list[Stated] = []
    repairs: list[Repair] = []
    # graphbuild's store form (docs/model.md) says what all links share once, on the context.
    shared = graph.subjects.get(context, {})
    annotator = _iri(shared, ITS_TA_ANNOTATORS_REF.value, context)
    all_inferred = _flag(shared, OFFSETS_INFERRED.value)
    for phrase in graph.phrases(context):
        properties = graph.subjects[phrase]
        if len(properties[NIF_REFERENCE_CONTEXT.value]) > 1:
            count = len(properties[NIF_REFERENCE_CONTEXT.value])
            raise _Bad(phrase, f"phrase {_name(phrase)} has {count} nif:referenceContext values; expected one")
        if not properties.get(ITS_TA_IDENT_REF.value):
            message = f"phrase {_name(phrase)} has no itsrdf:taIdentRef (a mention without a link); left out"
            repairs.append(Repair(RepairKind.NO_RESOURCE, message, graph.source, graph.line(phrase), _value(phrase)))
            continue
        begin, end, from_iri = _offsets(properties, phrase)
        if from_iri:
            message = f"phrase {_name(phrase)} has no nif:beginIndex/nif:endIndex; took [{begin},{end}) from its IRI"
            repairs.append(
                Repair(RepairKind.OFFSETS_FROM_IRI, message, graph.source, graph.line(phrase), _value(phrase))
            )
        anchor = _literal(properties, NIF_ANCHOR_OF.value, phrase)
        if anchor is None:
            if not 0 <= begin < end <= len(text):
                raise _Bad(
                    phrase, f"phrase {_name(phrase)} has no nif:anchorOf, and [{begin},{end}) is outside the text"
                )
            anchor = text[begin:end]
            message = f"phrase {_name(phrase)} has no nif:anchorOf; took the text {anchor!r} at [{begin},{end})"
            repairs.append(Repair(RepairKind.ANCHOR_MISSING, message, graph.source, graph.line(phrase), _value(phrase)))
        link = _link(properties, phrase, anchor, begin, end, graph.line(phrase))
        if (annotator is not None and link.annotator is None) or (all_inferred and not link.inferred):
            link = replace(link, annotator=link.annotator or annotator, inferred=True if all_inferred else link.inferred)
        stated.append(Stated(link, _value(phrase)))
    for annotation in graph.subjects.get(context, {}).get(NIF_TOPIC.value, ()):
        if isinstance(annotation, Literal):
            continue
        properties = graph.subjects.get(annotation, {})
        if properties.get(ITS_TA_IDENT_REF.value):
            surface = _literal(properties, SURFACE_FORM.value, annotation) or ""
            link = _link(properties, annotation, surface, None, None, graph.line(annotation))
            if annotator is not None and link.annotator is None:
                link = replace(link, annotator=annotator)
            stated.append(Stated(link, _value(annotation)))
    return stated, repairs


def _link(
    properties: dict[str, list[Term]], node: Node, anchor: str, begin: int | None, end: int | None, line: int | None
) -> Link:
    resource = _one(properties, ITS_TA_IDENT_REF.value, node)
    if not isinstance(resource, NamedNode):
        raise _Bad(node, f"{_name(node)}: itsrdf:taIdentRef must be an IRI, not {resource}")
    confidence = _number(properties, ITS_TA_CONFIDENCE.value, node)
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise _Bad(node, f"{_name(node)}: itsrdf:taConfidence {confidence!r} is outside [0, 1]")
    second_rank = _number(properties, SECOND_RANK.value, node)
    if second_rank is not None and second_rank < 0:
        raise _Bad(node, f"{_name(node)}: {compact(SECOND_RANK.value)} {second_rank!r} is negative")
    support = _number(properties, SUPPORT.value, node)
    if support is not None and not (support.is_integer() and support >= 0):
        raise _Bad(node, f"{_name(node)}: {compact(SUPPORT.value)} {support!r} is not a non-negative integer")
    return Link(
        surface=anchor,
        resource=resource.value,
        confidence=confidence,
        begin=begin,
        end=end,
        inferred=_flag(properties, OFFSETS_INFERRED.value),
        ambiguous=_flag(properties, AMBIGUOUS_PLACEMENT.value),
        types=tuple(sorted({t.value for t in properties.get(ITS_TA_CLASS_REF.value, ()) if isinstance(t, NamedNode)})),
        line=line,
        support=None if support is None else int(support),
        second_rank=second_rank,
        annotator=_iri(properties, ITS_TA_ANNOTATORS_REF.value, node),
    )


def _offsets(properties: dict[str, list[Term]], phrase: Node) -> tuple[int, int, bool]:
    begin, end = _index(properties, NIF_BEGIN_INDEX.value, phrase), _index(properties, NIF_END_INDEX.value, phrase)
    if begin is not None and end is not None:
        return begin, end, False
    match = _RANGE.search(_value(phrase) or "")
    if match and (match[2] or match[4]):
        return int(match[1] or match[3]), int(match[2] or match[4]), True
    raise _Bad(phrase, f"phrase {_name(phrase)} has no nif:beginIndex/nif:endIndex, and its IRI states none")


def _one(properties: dict[str, list[Term]], predicate: str, node: Node) -> Term | None:
    values = list(dict.fromkeys(properties.get(predicate, ())))
    if len(values) > 1:
        shown = ", ".join(str(v) for v in values[:3])
        raise _Bad(node, f"{_name(node)} has {len(values)} values for {compact(predicate)} ({shown}); expected one")
    return values[0] if values else None


def _literal(properties: dict[str, list[Term]], predicate: str, node: Node, *, required: bool = False) -> str | None:
    value = _one(properties, predicate, node)
    if value is None:
        if required:
            raise _Bad(node, f"{_name(node)} has no {compact(predicate)}")
        return None
    if not isinstance(value, Literal):
        raise _Bad(node, f"{_name(node)}: {compact(predicate)} must be a literal, not {value}")
    return value.value


def _index(properties: dict[str, list[Term]], predicate: str, node: Node) -> int | None:
    value = _literal(properties, predicate, node)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()):
        raise _Bad(node, f"{_name(node)}: {compact(predicate)} {value!r} is not a non-negative integer")
    return int(value)


def _number(properties: dict[str, list[Term]], predicate: str, node: Node) -> float | None:
    value = _literal(properties, predicate, node)
    if value is None:
        return None
    number = number_value(value)
    if isinstance(number, str):
        raise _Bad(node, f"{_name(node)}: {compact(predicate)} {number}")
    return number


def _flag(properties: dict[str, list[Term]], predicate: str) -> bool:
    return any(isinstance(v, Literal) and v.value in ("true", "1") for v in properties.get(predicate, ()))


def _iri(properties: dict[str, list[Term]], predicate: str, node: Node) -> str | None:
    value = _one(properties, predicate, node)
    if value is not None and not isinstance(value, NamedNode):
        raise _Bad(node, f"{_name(node)}: {compact(predicate)} must be an IRI, not {value}")
    return value.value if value is not None else None


def _annotator(settled: Settled) -> tuple[tuple[Link, ...], str | None]:
    """Links in text order (RDF has none), with a shared annotator lifted to the document."""
    links = sorted(settled.links, key=lambda lk: (not lk.placed, lk.begin or 0, lk.end or 0, lk.resource, lk.surface))
    annotators = {link.annotator for link in links}
    if len(annotators) == 1:
        (shared,) = annotators
        return tuple(replace(link, annotator=None) for link in links), shared
    return tuple(links), None


def _context_note(context: NamedNode, text: str) -> str | None:
    match = _RANGE.search(context.value)
    if match is None:
        return None
    end = match[2] if match[1] is not None else match[4]
    if not end:
        return f"context <{context.value}> has no end index in its IRI; the text has {len(text)} characters"
    return None


def _name(node: Node) -> str:
    return f"<{node.value}>" if isinstance(node, NamedNode) else f"_:{node.value}"


def _value(node: Node) -> str | None:
    return node.value if isinstance(node, NamedNode) else None
