"""Per-resource figures, kept current by every write so that ranking resources is cheap.

The figures graph holds, for each linked resource, how many mention nodes link it, in how
many documents, and the count, sum and maximum of those mentions' confidences::

    dbr:Pain gb:mentionCount 2 ; gb:documentCount 1 ;
             gb:confidenceCount 2 ; gb:confidenceSum 1.87 ; gb:maxConfidence 0.935 .

and for each (resource, surface form) pair, a node with how many of those mention nodes
have that form (their ``nif:anchorOf``, or ``gb:surfaceForm`` if unplaced), in how many
documents::

    gb:form-1f0c… gb:formOf dbr:Pain ; gb:form "pain" ; gb:formMentionCount 2 ; gb:formDocumentCount 1 .

They always equal the aggregate over the mentions in the store (``rebuild`` computes it),
but are maintained from each document's tally as documents come and go, so that
``top-entities`` and ``surface-forms`` read a few triples per resource (per form) instead
of every mention: the most mentioned resource has over a million mentions in a corpus of
a million abstracts.

Crashes: the graph carries ``<figures> gb:upToDate 2`` (2: the layout with forms). An
ingest removes it before its first change and puts it back in the same transaction as its
last, so a run that stops half-way leaves it absent, and the next writer rebuilds the
figures from the mentions. A delete changes the figures in the same transaction as the
removal they follow (``after_removal``), so it leaves them current wherever it stops.
Readers of the figures (``top-entities``, ``surface-forms``, stats, the report) call
``require_current`` first: with the mark absent (or of an earlier layout) they rebuild the
figures where they may write, and refuse where they may not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from graphbuild.errors import StoreError
from graphbuild.model.quads import form_figure_iri
from graphbuild.model.records import Document, Link
from graphbuild.model.vocab import (
    CONFIDENCE_COUNT,
    CONFIDENCE_SUM,
    DOCUMENT_COUNT,
    FIGURES_GRAPH,
    FORM,
    FORM_DOCUMENT_COUNT,
    FORM_MENTION_COUNT,
    FORM_OF,
    ITS_TA_CONFIDENCE,
    ITS_TA_IDENT_REF,
    MAX_CONFIDENCE,
    MENTION_COUNT,
    NIF_ANCHOR_OF,
    SCHEMA,
    SURFACE_FORM,
    UP_TO_DATE,
    XSD_DOUBLE,
    XSD_INTEGER,
)
from graphbuild.store.protocol import Row, Store, Term, float_value, int_value, lexical

# The mark of a complete figures graph names its layout: a store whose figures are of an
# earlier layout (1: resources only, marked ``true``) has them rebuilt at its next write.
_MARKER = Quad(FIGURES_GRAPH, UP_TO_DATE, Literal(2), FIGURES_GRAPH)
# Past this many touched resources, one read of the whole graph beats one read per resource.
_READ_ALL_ABOVE = 1000
# Past this many quads of resources new to the graph, the bulk loader beats a transaction.
_BULK_ABOVE = 1000

_MENTIONS_QUERY = f"""
SELECT ?e (COUNT(DISTINCT ?m) AS ?mentions) (COUNT(?c) AS ?confidences) (SUM(?c) AS ?sum) (MAX(?c) AS ?max)
WHERE {{ ?m <{ITS_TA_IDENT_REF.value}> ?e OPTIONAL {{ ?m <{ITS_TA_CONFIDENCE.value}> ?c }} }}
GROUP BY ?e
"""
_DOCUMENTS_QUERY = f"SELECT ?e (COUNT(DISTINCT ?d) AS ?documents) WHERE {{ ?d <{SCHEMA}mentions> ?e }} GROUP BY ?e"
_FORMS_QUERY = f"""
SELECT ?e ?s (COUNT(DISTINCT ?m) AS ?mentions) (COUNT(DISTINCT ?g) AS ?documents)
WHERE {{ GRAPH ?g {{ ?m <{ITS_TA_IDENT_REF.value}> ?e ; <{NIF_ANCHOR_OF.value}>|<{SURFACE_FORM.value}> ?s }} }}
GROUP BY ?e ?s
"""
_MAX_QUERY = f"""
SELECT ?e (MAX(?c) AS ?max)
WHERE {{ ?m <{ITS_TA_IDENT_REF.value}> ?e ; <{ITS_TA_CONFIDENCE.value}> ?c }}
GROUP BY ?e
"""
_FORM_NODES_QUERY = f"SELECT ?f ?e WHERE {{ GRAPH <{FIGURES_GRAPH.value}> {{ ?f <{FORM_OF.value}> ?e }} }}"
_CONFIDENCES_QUERY = f"""
SELECT ?e ?g ?c
WHERE {{ GRAPH ?g {{ ?m <{ITS_TA_IDENT_REF.value}> ?e ; <{ITS_TA_CONFIDENCE.value}> ?c }} }}
"""


# One resource's share of one document: (resource IRI, its mention nodes, how many of them
# carry a confidence, their sum, their maximum, and (surface form, mention nodes) for each
# form they have). A plain tuple rather than a record: the documents' tallies cross between
# processes by the hundred thousand, and tuples pickle and unpickle ~7x faster (10k
# documents' tallies: 0.83 s as records, 0.12 s as tuples).
FormShare = tuple[str, int]
ResourceShare = tuple[str, int, int, float, "float | None", tuple[FormShare, ...]]
# One resource's totals: (IRI, mentions, documents, confidences, their sum, their maximum,
# and (surface form, mention nodes, documents) for each of its forms).
FigureRow = tuple[str, int, int, int, float, "float | None", tuple[tuple[str, int, int], ...]]
# One mention node as the store holds it: its resources, its confidences, its form.
_Node = tuple[set[str], set[float], str]


@dataclass(slots=True)
class _Figures:
    mentions: int = 0
    documents: int = 0
    confidences: int = 0
    confidence_sum: float = 0.0
    max_confidence: float | None = None
    # The largest confidence taken away: at or above the stored maximum, it must be re-read.
    removed_max: float | None = None
    # Surface form -> mention nodes with it (a document's share; totals keep forms apart).
    forms: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _FormFigures:
    resource: str
    form: str
    mentions: int = 0
    documents: int = 0


def shares(doc: Document) -> tuple[ResourceShare, ...]:
    """What ``doc`` adds to the figures, node by node as the model writes it."""
    spans = [(link.begin, link.end) for link in doc.links if link.placed]
    if len(set(spans)) == len(spans):
        return _one_node_per_link(doc.text, doc.links)
    nodes: dict[object, _Node] = {}
    unplaced = 0
    for link in doc.links:
        if link.begin is not None and link.end is not None:
            key: object = (link.begin, link.end)
            form = doc.text[link.begin : link.end]
        else:
            unplaced += 1
            key = unplaced
            form = link.surface
        resources, confidences, _ = nodes.setdefault(key, (set(), set(), form))
        resources.add(link.resource)
        if link.confidence is not None:
            confidences.add(link.confidence)
    return _shares(nodes.values())


def _one_node_per_link(text: str, links: Iterable[Link]) -> tuple[ResourceShare, ...]:
    # The usual case (no two links on one span), counted without the general case's sets:
    # a third of the cost, for every document of a corpus. Same sums, in the same order.
    # A placed mention's form is its anchor, the text slice, as the model writes it.
    figures: dict[str, list] = {}
    for link in links:
        confidence = link.confidence
        begin, end = link.begin, link.end
        form = text[begin:end] if begin is not None and end is not None else link.surface
        f = figures.get(link.resource)
        if f is None:
            f = figures[link.resource] = [0, 0, 0.0, None, {}]
        f[0] += 1
        f[4][form] = f[4].get(form, 0) + 1
        if confidence is not None:
            f[1] += 1
            f[2] += confidence
            if f[3] is None or confidence > f[3]:
                f[3] = confidence
    return tuple((resource, f[0], f[1], f[2], f[3], tuple(f[4].items())) for resource, f in figures.items())


def stored_shares(quads: Iterable[Quad]) -> tuple[ResourceShare, ...]:
    """What a stored document graph adds to the figures, from its quads."""
    links: dict[object, set[str]] = {}
    confidences: dict[object, set[float]] = {}
    forms: dict[object, str] = {}
    for quad in quads:
        if quad.predicate == ITS_TA_IDENT_REF:
            links.setdefault(quad.subject, set()).add(lexical(quad.object))
        elif quad.predicate == ITS_TA_CONFIDENCE:
            confidences.setdefault(quad.subject, set()).add(float(lexical(quad.object)))
        elif quad.predicate == NIF_ANCHOR_OF or quad.predicate == SURFACE_FORM:
            forms[quad.subject] = lexical(quad.object)
    return _shares((resources, confidences.get(node, set()), forms.get(node, "")) for node, resources in links.items())


def _shares(nodes: Iterable[_Node]) -> tuple[ResourceShare, ...]:
    totals: dict[str, _Figures] = {}
    for resources, confidences, form in nodes:
        for resource in resources:
            figures = totals.setdefault(resource, _Figures())
            figures.mentions += 1
            figures.confidences += len(confidences)
            figures.confidence_sum += sum(confidences)
            figures.max_confidence = _max(figures.max_confidence, max(confidences, default=None))
            figures.forms[form] = figures.forms.get(form, 0) + 1
    return tuple(
        (resource, f.mentions, f.confidences, f.confidence_sum, f.max_confidence, tuple(f.forms.items()))
        for resource, f in totals.items()
    )


def is_current(store: Store) -> bool:
    """Whether the figures graph was left complete by the last writer."""
    # Compared by lexical value: a server may give the integer back in another datatype.
    return any(
        quad.predicate == UP_TO_DATE and lexical(quad.object) == lexical(_MARKER.object)
        for quad in store.quads(FIGURES_GRAPH, subject=FIGURES_GRAPH)
    )


def require_current(store: Store) -> None:
    """Make sure the figures can be read: rebuilt when the mark is absent, or, where the
    store is open read-only, a StoreError that says why and what rebuilds them."""
    if is_current(store):
        return
    if not store.read_only:
        rebuild(store)
        return
    raise StoreError(
        f"the per-resource figures in the store at {store.location} are not up to date: a write to the "
        "store is under way, or one stopped part-way; once no write runs, `graphbuild optimize` "
        "rebuilds them (so does any ingest or delete)"
    )


def after_removal(store: Store, graphs: Sequence[NamedNode]) -> tuple[list[NamedNode], list[Quad]]:
    """What the figures become once ``graphs`` are removed: the subjects to replace in the
    figures graph and their new quads, for a writer to apply with the removal itself."""
    delta = Totals()
    for graph in graphs:
        delta.remove(stored_shares(store.quads(graph)))
    current, current_forms = _current(store, [*delta.by_resource, *delta.by_form])
    return _known_changed(store, delta, current, current_forms, excluding={graph.value for graph in graphs})


def rebuild(store: Store, *, mark_current: bool = True) -> int:
    """Recompute every resource's figures from the mentions in the store; returns how many."""
    figures, forms = _counted(store)
    old = [quad.subject for quad in store.quads(FIGURES_GRAPH) if isinstance(quad.subject, NamedNode)]
    quads = _quads(figures.items(), forms.items())
    store.replace_subjects(FIGURES_GRAPH, list(dict.fromkeys(old)), quads + ([_MARKER] if mark_current else []))
    return len(figures)


def differences(store: Store, resources: Iterable[str] | None = None) -> list[str]:
    """Where the stored figures of ``resources`` (of every resource when None) differ from
    the aggregate over their mentions in the store, a line each; empty when they agree.

    What a check after a change runs on the resources the change touched. Each one's
    mentions are read on their own, except past a thousand resources that hold most of
    the store's mentions (a change of a thousand documents in a million touches every
    frequent one): then all mentions are read in one pass, the cost of a ``rebuild``.
    """
    if resources is None:
        counted, counted_forms = _counted(store)
        stored, stored_forms = _current(store, None)
    else:
        asked = set(resources)
        many = len(asked) > _READ_ALL_ABOVE
        if many:
            stored, stored_forms = _current(store, None)
        else:
            form_nodes = [_iri(row[0]) for e in asked for row in _rows(store, _FORM_NODES_QUERY, e=NamedNode(e))]
            stored, stored_forms = _current(store, [*asked, *form_nodes])
        # Only the whole graph read tells what share of all mentions the asked hold.
        if many and _most_mentions(stored, asked):
            counted, counted_forms = _counted(store)
        else:
            counted, counted_forms = {}, {}
            for resource in asked:
                one, one_forms = _counted(store, NamedNode(resource))
                counted.update(one)
                counted_forms.update(one_forms)
        counted, stored = _only(counted, asked), _only(stored, asked)
        counted_forms = {node: pair for node, pair in counted_forms.items() if pair.resource in asked}
        stored_forms = {node: pair for node, pair in stored_forms.items() if pair.resource in asked}
    lines = []
    for resource in sorted(set(counted) | set(stored)):
        mine, theirs = stored.get(resource, _Figures()), counted.get(resource, _Figures())
        for name in ("mentions", "documents", "confidences", "confidence_sum", "max_confidence"):
            kept, actual = getattr(mine, name), getattr(theirs, name)
            # A sum kept by adding and taking away differs from one summed afresh in its last digits.
            if kept != actual and not (name == "confidence_sum" and math.isclose(kept, actual, rel_tol=1e-9, abs_tol=1e-9)):
                lines.append(f"{resource}: {name} {kept} kept, {actual} in the mentions")
    for node in sorted(set(counted_forms) | set(stored_forms)):
        kept_form, actual_form = stored_forms.get(node), counted_forms.get(node)
        kept_pair = (kept_form.mentions, kept_form.documents) if kept_form else (0, 0)
        actual_pair = (actual_form.mentions, actual_form.documents) if actual_form else (0, 0)
        if kept_pair != actual_pair:
            pair = kept_form or actual_form
            assert pair is not None
            lines.append(f"{pair.resource} as {pair.form!r}: (mentions, documents) {kept_pair} kept, {actual_pair} in the mentions")
    return lines


def _most_mentions(stored: dict[str, _Figures], asked: Collection[str]) -> bool:
    """Whether the ``asked`` resources hold most of the mentions ``stored`` counts."""
    return 2 * sum(stored[e].mentions for e in asked if e in stored) > sum(f.mentions for f in stored.values())


def _only(figures: dict[str, _Figures], resources: Collection[str]) -> dict[str, _Figures]:
    return {resource: value for resource, value in figures.items() if resource in resources}


def _counted(store: Store, resource: NamedNode | None = None) -> tuple[dict[str, _Figures], dict[str, _FormFigures]]:
    """Figures and form figures aggregated afresh from the mentions: every resource's, or one's."""
    bound = {} if resource is None else {"e": resource}
    figures: dict[str, _Figures] = {}
    for entity, mentions, confidences, total, highest in _rows(store, _MENTIONS_QUERY, **bound):
        figures[_iri(entity)] = _Figures(
            int_value(mentions), 0, int_value(confidences), float_value(total) or 0.0, float_value(highest)
        )
    for entity, documents in _rows(store, _DOCUMENTS_QUERY, **bound):
        figures.setdefault(_iri(entity), _Figures()).documents = int_value(documents)
    forms = {}
    for entity, form, mentions, documents in _rows(store, _FORMS_QUERY, **bound):
        iri, text = _iri(entity), lexical(form)
        forms[form_figure_iri(iri, text)] = _FormFigures(iri, text, int_value(mentions), int_value(documents))
    return figures, forms


class Totals:
    """Figures summed over documents' tallies: a run's change, or a whole converted corpus."""

    def __init__(self) -> None:
        self.by_resource: dict[str, _Figures] = {}
        # Keyed by the pair's figures node.
        self.by_form: dict[str, _FormFigures] = {}

    def add(self, tallies: Iterable[ResourceShare]) -> None:
        for resource, mentions, confidences, confidence_sum, max_confidence, forms in tallies:
            figures = self.by_resource.setdefault(resource, _Figures())
            figures.mentions += mentions
            figures.documents += 1
            figures.confidences += confidences
            figures.confidence_sum += confidence_sum
            figures.max_confidence = _max(figures.max_confidence, max_confidence)
            for form, count in forms:
                pair = self._form(resource, form)
                pair.mentions += count
                pair.documents += 1

    def remove(self, tallies: Iterable[ResourceShare]) -> None:
        for resource, mentions, confidences, confidence_sum, max_confidence, forms in tallies:
            figures = self.by_resource.setdefault(resource, _Figures())
            figures.mentions -= mentions
            figures.documents -= 1
            figures.confidences -= confidences
            figures.confidence_sum -= confidence_sum
            figures.removed_max = _max(figures.removed_max, max_confidence)
            for form, count in forms:
                pair = self._form(resource, form)
                pair.mentions -= count
                pair.documents -= 1

    def _form(self, resource: str, form: str) -> _FormFigures:
        node = form_figure_iri(resource, form)
        pair = self.by_form.get(node)
        if pair is None:
            pair = self.by_form[node] = _FormFigures(resource, form)
        return pair

    def merge(self, other: Totals) -> None:
        """Add the totals of other documents (another partition's, say)."""
        for resource, theirs in other.by_resource.items():
            figures = self.by_resource.setdefault(resource, _Figures())
            figures.mentions += theirs.mentions
            figures.documents += theirs.documents
            figures.confidences += theirs.confidences
            figures.confidence_sum += theirs.confidence_sum
            figures.max_confidence = _max(figures.max_confidence, theirs.max_confidence)
        for pair in other.by_form.values():
            mine = self._form(pair.resource, pair.form)
            mine.mentions += pair.mentions
            mine.documents += pair.documents

    def rows(self) -> list[FigureRow]:
        """The totals as plain rows, to keep in JSON and read back with ``from_rows``."""
        forms: dict[str, list[tuple[str, int, int]]] = {}
        for pair in self.by_form.values():
            forms.setdefault(pair.resource, []).append((pair.form, pair.mentions, pair.documents))
        return [
            (resource, f.mentions, f.documents, f.confidences, f.confidence_sum, f.max_confidence,
             tuple(forms.get(resource, ())))
            for resource, f in self.by_resource.items()
        ]

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> Totals:
        totals = cls()
        for resource, mentions, documents, confidences, confidence_sum, max_confidence, forms in rows:
            totals.by_resource[str(resource)] = _Figures(
                int(mentions), int(documents), int(confidences), float(confidence_sum),
                None if max_confidence is None else float(max_confidence),
            )
            for form, form_mentions, form_documents in forms:
                pair = totals._form(str(resource), str(form))
                pair.mentions += int(form_mentions)
                pair.documents += int(form_documents)
        return totals

    def nquads(self) -> str:
        """The figures graph these totals make on their own, marked complete."""
        return _nquads(self.by_resource.items(), self.by_form.items()) + f"{_MARKER} .\n"


class FiguresKeeper:
    """Keeps the figures current through one run of writes.

    ``changing()`` before each write to the store; ``add`` and ``remove`` the tallies of
    the documents written and replaced; ``commit()`` once they are all in the store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._delta = Totals()
        self._open = False

    def changing(self) -> None:
        if self._open:
            return
        if not is_current(self.store):
            rebuild(self.store, mark_current=False)
        else:
            self.store.replace_subjects(FIGURES_GRAPH, [FIGURES_GRAPH], [])
        self._open = True

    def add(self, tallies: Iterable[ResourceShare]) -> None:
        self._delta.add(tallies)

    def remove(self, tallies: Iterable[ResourceShare]) -> None:
        self._delta.remove(tallies)

    def commit(self, *, ready: Callable[[], object] | None = None) -> None:
        """Write the changed figures, and the mark that they are complete, in one go.

        ``ready`` returns once every document written is in the store: the figures of
        resources (and forms) new to the graph are written before calling it (they need no
        reading of the documents), so a writer's last loads and they overlap.
        """
        if not self._open:
            return
        delta, delta_forms = self._delta.by_resource, self._delta.by_form
        current, current_forms = _current(self.store, [*delta, *delta_forms])
        new = _quads(
            ((e, d) for e, d in delta.items() if e not in current),
            ((n, d) for n, d in delta_forms.items() if n not in current_forms),
        )
        if len(new) > _BULK_ABOVE:
            # Resources the graph has no figures for yet (a first ingest, say) go the fast,
            # non-transactional way: until the mark below is back, they count as incomplete.
            self.store.replace_subjects(FIGURES_GRAPH, [], new, atomic=False)
            new = []
        if ready is not None:
            ready()
        subjects, changed = _known_changed(self.store, self._delta, current, current_forms)
        self.store.replace_subjects(FIGURES_GRAPH, [*subjects, FIGURES_GRAPH], [*changed, *new, _MARKER])
        self._delta, self._open = Totals(), False


def _known_changed(
    store: Store,
    delta: Totals,
    current: dict[str, _Figures],
    current_forms: dict[str, _FormFigures],
    *,
    excluding: Collection[str] = (),
) -> tuple[list[NamedNode], list[Quad]]:
    """The stored figures of resources and forms with ``delta`` applied: the subjects to
    replace in the figures graph and their new quads. A maximum whose mention went away is
    read again from the documents, leaving out the graphs ``excluding``."""
    combined = []
    for entity, change in delta.by_resource.items():
        if entity not in current:
            continue
        figures = _combined(current[entity], change)
        if figures.removed_max is not None and figures.mentions > 0:
            figures.max_confidence = _stored_max(store, entity, excluding=excluding)
        combined.append((entity, figures))
    forms = [(node, _combined_form(current_forms[node], change)) for node, change in delta.by_form.items() if node in current_forms]
    subjects = [NamedNode(entity) for entity, _ in combined] + [NamedNode(node) for node, _ in forms]
    return subjects, _quads(combined, forms)


def _current(store: Store, subjects: list[str] | None) -> tuple[dict[str, _Figures], dict[str, _FormFigures]]:
    """The stored figures of these resources and form nodes (those the graph has; all when None)."""
    if subjects is None or len(subjects) > _READ_ALL_ABOVE:
        quads: Iterable[Quad] = store.quads(FIGURES_GRAPH)
    else:
        quads = (q for e in subjects for q in store.quads(FIGURES_GRAPH, subject=NamedNode(e)))
    current: dict[str, _Figures] = {}
    forms: dict[str, _FormFigures] = {}
    for quad in quads:
        subject = quad.subject
        if subject == FIGURES_GRAPH or not isinstance(subject, NamedNode):
            continue
        if quad.predicate in _FORM_PREDICATES:
            _set_form(forms.setdefault(subject.value, _FormFigures("", "")), quad.predicate, lexical(quad.object))
        else:
            _set(current.setdefault(subject.value, _Figures()), quad.predicate, lexical(quad.object))
    return current, forms


def _stored_max(store: Store, entity: str, *, excluding: Collection[str] = ()) -> float | None:
    """The highest confidence of ``entity``'s mentions, leaving out the graphs ``excluding``."""
    if not excluding:
        rows = _rows(store, _MAX_QUERY, e=NamedNode(entity))
        return float_value(rows[0][1]) if rows else None
    values = [
        float_value(confidence)
        for _, graph, confidence in _rows(store, _CONFIDENCES_QUERY, e=NamedNode(entity))
        if isinstance(graph, NamedNode) and graph.value not in excluding
    ]
    return max((value for value in values if value is not None), default=None)


def _combined(current: _Figures, delta: _Figures) -> _Figures:
    removed = delta.removed_max
    # A maximum can only be kept if nothing at or above it went away.
    needs_reading = removed is not None and current.max_confidence is not None and removed >= current.max_confidence
    return _Figures(
        current.mentions + delta.mentions,
        current.documents + delta.documents,
        current.confidences + delta.confidences,
        current.confidence_sum + delta.confidence_sum,
        _max(current.max_confidence, delta.max_confidence),
        removed if needs_reading else None,
    )


def _combined_form(current: _FormFigures, delta: _FormFigures) -> _FormFigures:
    return _FormFigures(delta.resource, delta.form, current.mentions + delta.mentions, current.documents + delta.documents)


def _quads(
    figures: Iterable[tuple[str, _Figures]], forms: Iterable[tuple[str, _FormFigures]] = ()
) -> list[Quad]:
    # Parsed from text: building Quad objects in Python costs ~3x as much.
    return list(parse(_nquads(figures, forms), RdfFormat.N_QUADS))


def _nquads(figures: Iterable[tuple[str, _Figures]], forms: Iterable[tuple[str, _FormFigures]] = ()) -> str:
    g = f" <{FIGURES_GRAPH.value}> .\n"
    lines = []
    for entity, f in figures:
        if f.mentions <= 0:
            continue
        s = f"<{entity}>"
        lines.append(
            f'{s} <{MENTION_COUNT.value}> "{f.mentions}"^^<{XSD_INTEGER.value}>{g}'
            f'{s} <{DOCUMENT_COUNT.value}> "{f.documents}"^^<{XSD_INTEGER.value}>{g}'
            f'{s} <{CONFIDENCE_COUNT.value}> "{f.confidences}"^^<{XSD_INTEGER.value}>{g}'
            f'{s} <{CONFIDENCE_SUM.value}> "{f.confidence_sum if f.confidences else 0.0!r}"^^<{XSD_DOUBLE.value}>{g}'
        )
        if f.confidences and f.max_confidence is not None:
            lines.append(f'{s} <{MAX_CONFIDENCE.value}> "{f.max_confidence!r}"^^<{XSD_DOUBLE.value}>{g}')
    for node, pair in forms:
        if pair.mentions <= 0:
            continue
        s = f"<{node}>"
        lines.append(
            f"{s} <{FORM_OF.value}> <{pair.resource}>{g}"
            f"{s} <{FORM.value}> {Literal(pair.form)}{g}"
            f'{s} <{FORM_MENTION_COUNT.value}> "{pair.mentions}"^^<{XSD_INTEGER.value}>{g}'
            f'{s} <{FORM_DOCUMENT_COUNT.value}> "{pair.documents}"^^<{XSD_INTEGER.value}>{g}'
        )
    return "".join(lines)


def _set(figures: _Figures, predicate: NamedNode, value: str) -> None:
    if predicate == MENTION_COUNT:
        figures.mentions = int(value)
    elif predicate == DOCUMENT_COUNT:
        figures.documents = int(value)
    elif predicate == CONFIDENCE_COUNT:
        figures.confidences = int(value)
    elif predicate == CONFIDENCE_SUM:
        figures.confidence_sum = float(value)
    elif predicate == MAX_CONFIDENCE:
        figures.max_confidence = float(value)


_FORM_PREDICATES = (FORM_OF, FORM, FORM_MENTION_COUNT, FORM_DOCUMENT_COUNT)


def _set_form(pair: _FormFigures, predicate: NamedNode, value: str) -> None:
    if predicate == FORM_OF:
        pair.resource = value
    elif predicate == FORM:
        pair.form = value
    elif predicate == FORM_MENTION_COUNT:
        pair.mentions = int(value)
    elif predicate == FORM_DOCUMENT_COUNT:
        pair.documents = int(value)


def _rows(store: Store, sparql: str, **bindings: NamedNode) -> list[Row]:
    # An aggregate over no mention still gives one row, unbound.
    return [row for row in store.select(sparql, bindings=bindings) if row[0] is not None]


def _iri(term: Term | None) -> str:
    if not isinstance(term, NamedNode):
        raise TypeError(f"expected an IRI, got {term!r}")
    return term.value


def _max(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
