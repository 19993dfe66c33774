"""The full NIF 2.1 / ITS 2.0 form of a document graph, from the lean form the store holds.

The store says once, on a document's ``nif:Context``, what all its links share (the
annotator, and ``gb:offsetsInferred`` when every phrase was placed by offset recovery),
and types a phrase ``nif:Phrase`` only (docs/model.md). NIF tools (GERBIL among them) read
those per mention, so an export writes them back: each phrase typed ``nif:String`` and
``nif:RFC5147String`` as well, each link with ``itsrdf:taAnnotatorsRef``, each phrase with
its ``gb:offsetsInferred``, and nothing of the two on the context. A graph in the full form
already (a store written by an earlier version) comes out as it is.

One graph at a time: a document graph is small, and the store is streamed graph by graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pyoxigraph import NamedNode, Quad

from graphbuild.model.vocab import (
    ENRICHMENT_GRAPH,
    FIGURES_GRAPH,
    ITS_TA_ANNOTATORS_REF,
    ITS_TA_IDENT_REF,
    METADATA_GRAPH,
    NIF_CONTEXT,
    NIF_PHRASE,
    NIF_REFERENCE_CONTEXT,
    NIF_RFC5147_STRING,
    NIF_STRING,
    NIF_TOPIC,
    OFFSETS_INFERRED,
    RDF_TYPE,
)

_TYPE = RDF_TYPE.value
_ANNOTATORS = ITS_TA_ANNOTATORS_REF.value
_INFERRED = OFFSETS_INFERRED.value
_IDENT = ITS_TA_IDENT_REF.value
_REFERENCE = NIF_REFERENCE_CONTEXT.value
_TOPIC = NIF_TOPIC.value
_CONTEXT = str(NIF_CONTEXT)
_PHRASE = str(NIF_PHRASE)
_STRING = str(NIF_STRING)
_RFC5147 = str(NIF_RFC5147_STRING)
# Predicates the expansion looks at; every other quad passes through untouched.
_READ = frozenset({_TYPE, _ANNOTATORS, _INFERRED, _IDENT, _REFERENCE, _TOPIC})
_NOT_DOCUMENTS = frozenset({METADATA_GRAPH.value, FIGURES_GRAPH.value})


def is_document_graph(graph: NamedNode) -> bool:
    """A document's graph, not one of the project's own (metadata, figures, enrichment)."""
    return graph.value not in _NOT_DOCUMENTS and not graph.value.startswith(ENRICHMENT_GRAPH.value)


def full_graph(quads: Iterable[Quad]) -> list[Quad]:
    """One document graph's quads in the full NIF form (see the module's docstring)."""
    # Nodes are keyed by their N-Triples text (str() of a term, done in Rust): this runs
    # for every quad of an export.
    kept: list[Quad] = []
    held: list[Quad] = []  # annotators and flags: dropped from contexts, kept elsewhere
    types: dict[str, set[str]] = {}
    typed: dict[str, Quad] = {}  # subject -> its first rdf:type quad (its node and graph)
    annotators: dict[str, Quad] = {}  # subject -> its first taAnnotatorsRef quad
    inferred: dict[str, Quad] = {}
    links: dict[str, Quad] = {}  # link node -> a quad of it (its subject and graph)
    context_of: dict[str, str] = {}  # link node -> its context
    for quad in quads:
        predicate = quad.predicate.value
        if predicate not in _READ:
            kept.append(quad)
            continue
        subject = str(quad.subject)
        if predicate == _TYPE:
            types.setdefault(subject, set()).add(str(quad.object))
            typed.setdefault(subject, quad)
        elif predicate == _ANNOTATORS:
            annotators.setdefault(subject, quad)
            held.append(quad)
            continue
        elif predicate == _INFERRED:
            inferred.setdefault(subject, quad)
            held.append(quad)
            continue
        elif predicate == _IDENT:
            links.setdefault(subject, quad)
        elif predicate == _REFERENCE:
            context_of[subject] = str(quad.object)
        else:  # nif:topic: context -> annotation
            context_of.setdefault(str(quad.object), subject)
        kept.append(quad)
    contexts = {s for s, classes in types.items() if _CONTEXT in classes}
    shared = {c: annotators[c].object for c in contexts if c in annotators}
    all_inferred = {c: inferred[c].object for c in contexts if c in inferred}
    kept.extend(q for q in held if str(q.subject) not in contexts)
    if not shared and not all_inferred and all(
        _STRING in classes and _RFC5147 in classes for classes in types.values() if _PHRASE in classes
    ):
        return kept  # the full form already
    for subject, classes in types.items():
        if _PHRASE in classes:
            typing = typed[subject]
            for missing, node in ((_STRING, NIF_STRING), (_RFC5147, NIF_RFC5147_STRING)):
                if missing not in classes:
                    kept.append(Quad(typing.subject, RDF_TYPE, node, typing.graph_name))
    for subject, quad in links.items():
        context = context_of.get(subject)
        if context is None:
            continue
        if subject not in annotators and context in shared:
            kept.append(Quad(quad.subject, ITS_TA_ANNOTATORS_REF, shared[context], quad.graph_name))
        if subject not in inferred and context in all_inferred and _PHRASE in types.get(subject, ()):
            kept.append(Quad(quad.subject, OFFSETS_INFERRED, all_inferred[context], quad.graph_name))
    return kept


def full_quads(quads: Iterable[Quad]) -> Iterator[Quad]:
    """Quads of any graphs, each graph's consecutive (as ``Store.quads()`` gives them), with
    each document graph in the full form. Only a document graph is held, one at a time;
    the others (metadata, figures, enrichment: large) pass straight through. A document
    graph met again after another is refused: its context's facts could have been in the
    part already written."""
    graph: object = None
    document = False
    batch: list[Quad] = []
    done: set[str] = set()
    for quad in quads:
        name = quad.graph_name
        if name != graph:
            if batch:
                yield from full_graph(batch)
                batch = []
            graph = name
            document = isinstance(name, NamedNode) and is_document_graph(name)
            if document:
                assert isinstance(name, NamedNode)
                if name.value in done:
                    raise ValueError(f"the quads of graph <{name.value}> came in two runs; expected each graph's together")
                done.add(name.value)
        if document:
            batch.append(quad)
        else:
            yield quad
    if batch:
        yield from full_graph(batch)
