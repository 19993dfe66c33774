"""What to ask DBpedia about a batch of resources, and how its answer becomes triples.

One SELECT per batch, resources in ``VALUES``: every branch of the UNION carries its own
``VALUES`` so that no engine evaluates a branch unbound. Resources are IRIs read from the
store and languages are validated tags; both reach the text only as serialised RDF terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from pyoxigraph import Literal, NamedNode, Triple

from graphbuild.errors import EnrichError
from graphbuild.model.vocab import (
    DBO_ABSTRACT,
    DBO_WIKI_PAGE_DISAMBIGUATES,
    DBO_WIKI_PAGE_REDIRECTS,
    DCTERMS_SUBJECT,
    OWL_SAME_AS,
    RDF_TYPE,
    RDFS_LABEL,
)
from graphbuild.store.protocol import Term

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/Q"

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
# A row of an endpoint's answer, by variable name.
Row = Mapping[str, Term]


class Aspect(str, Enum):
    """What enrichment can ask DBpedia for about each resource."""

    LABELS = "labels"
    TYPES = "types"
    ABSTRACTS = "abstracts"
    CATEGORIES = "categories"
    REDIRECTS = "redirects"
    SAMEAS = "sameas"


@dataclass(frozen=True, slots=True)
class Selection:
    """The aspects and languages one enrichment asks for."""

    aspects: frozenset[Aspect] = field(default_factory=lambda: frozenset(Aspect))
    languages: tuple[str, ...] = ("en",)

    def covered_by(self, aspects: Iterable[str], languages: Iterable[str]) -> bool:
        """Whether an earlier fetch of these aspects and languages already holds all this asks."""
        return {a.value for a in self.aspects} <= set(aspects) and set(self.languages) <= set(languages)


def parse_languages(text: str) -> tuple[str, ...]:
    """``"en,de"`` -> ``("en", "de")``; each must be a language tag such as ``en`` or ``pt-br``."""
    tags = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not tags:
        raise EnrichError("give at least one language, e.g. en or en,de", setting="languages")
    for tag in tags:
        if not _LANGUAGE.match(tag):
            raise EnrichError(f"{tag!r} is not a language tag (expected e.g. en, de, pt-br)", setting="languages")
    return tuple(dict.fromkeys(tags))


def parse_aspects(text: str) -> frozenset[Aspect]:
    """``"labels,types"`` -> the aspects; unknown names are refused with the known ones."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    known = ", ".join(a.value for a in Aspect)
    if not names:
        raise EnrichError(f"give at least one of {known}", setting="aspects")
    aspects = set()
    for name in names:
        try:
            aspects.add(Aspect(name))
        except ValueError:
            raise EnrichError(f"{name!r} is not one of {known}", setting="aspects") from None
    return frozenset(aspects)


# Each branch of the batch query binds one of these variables: its predicate is a constant
# in the pattern (so engines look each resource up in their index; Oxigraph scans the whole
# store for ``VALUES ?p { … } ?r ?p ?o``), and no BIND is needed (Virtuoso 7.2 fails on
# ``BIND`` beside ``FILTER`` in UNION branches).
_BRANCHES: tuple[tuple[str, NamedNode, Aspect | None, str], ...] = (
    ("label", RDFS_LABEL, Aspect.LABELS, "languages"),
    ("abstract", DBO_ABSTRACT, Aspect.ABSTRACTS, "languages"),
    ("type", RDF_TYPE, Aspect.TYPES, "iri"),
    ("category", DCTERMS_SUBJECT, Aspect.CATEGORIES, "iri"),
    ("target", DBO_WIKI_PAGE_REDIRECTS, Aspect.REDIRECTS, "iri"),
    # A disambiguation page is always flagged: it is what makes a link plainly wrong.
    ("option", DBO_WIKI_PAGE_DISAMBIGUATES, None, "iri"),
    ("wikidata", OWL_SAME_AS, Aspect.SAMEAS, "wikidata"),
)
_PREDICATES = {name: predicate for name, predicate, _, _ in _BRANCHES}
_VARIABLES = ("r", *_PREDICATES, "src", "src_label")


def batch_query(resources: Sequence[NamedNode], selection: Selection, *, page: tuple[int, int] | None = None) -> str:
    """The SELECT for a batch; ``page`` = (limit, offset) orders it and takes a slice.

    Each row binds ``?r`` and one more variable: ``?label``, ``?type``… is the object of
    that predicate; ``?src`` is a page redirecting to ``?r``, with ``?src_label`` one of
    its labels when it has any.
    """
    values = "VALUES ?r { " + " ".join(str(NamedNode(r.value)) for r in resources) + " }"
    branches = []
    for name, predicate, aspect, check in _BRANCHES:
        if aspect is None or aspect in selection.aspects:
            branches.append(f"{values} ?r {predicate} ?{name} . FILTER ({_check(check, name, selection)})")
    if Aspect.REDIRECTS in selection.aspects:
        label = _check("languages", "src_label", selection)
        branches.append(f"{values} ?src {DBO_WIKI_PAGE_REDIRECTS} ?r . OPTIONAL {{ ?src {RDFS_LABEL} ?src_label . FILTER ({label}) }}")
    where = "\n  UNION\n  ".join("{ " + branch + " }" for branch in branches)
    projection = " ".join(f"?{v}" for v in _VARIABLES)
    text = f"SELECT {projection} WHERE {{\n  {where}\n}}"
    if page is None:
        return text
    # Sorted in a subquery, sliced outside: Virtuoso refuses ORDER BY with LIMIT + OFFSET
    # past its row cap ("SR353: Sorted TOP clause specifies more then 15000 rows to sort").
    limit, offset = page
    return f"SELECT {projection} WHERE {{ {{ {text}\nORDER BY {projection} }} }}\nLIMIT {int(limit)} OFFSET {int(offset)}"


def _check(kind: str, name: str, selection: Selection) -> str:
    if kind == "languages":
        return " || ".join(f"LANGMATCHES(LANG(?{name}), {Literal(tag)})" for tag in selection.languages)
    if kind == "wikidata":
        return f"STRSTARTS(STR(?{name}), {Literal(WIKIDATA_ENTITY)})"
    return f"isIRI(?{name})"


def triples_by_resource(rows: Iterable[Row], resources: Sequence[NamedNode]) -> dict[NamedNode, list[Triple]]:
    """Group the answer's triples by the resource they were fetched for, without duplicates.

    Rows for resources not asked about and blank nodes are dropped: a blank node from a
    remote store means nothing in ours.
    """
    found: dict[NamedNode, dict[Triple, None]] = {r: {} for r in resources}
    for row in rows:
        resource = row.get("r")
        if not isinstance(resource, NamedNode) or resource not in found:
            continue
        triples = found[resource]
        source = row.get("src")
        if isinstance(source, NamedNode):
            triples[Triple(source, DBO_WIKI_PAGE_REDIRECTS, resource)] = None
            label = row.get("src_label")
            if isinstance(label, Literal):
                triples[Triple(source, RDFS_LABEL, label)] = None
        for name, predicate in _PREDICATES.items():
            obj = row.get(name)
            if isinstance(obj, (NamedNode, Literal)):
                triples[Triple(resource, predicate, obj)] = None
    return {r: list(triples) for r, triples in found.items()}
