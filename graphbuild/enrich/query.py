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

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graphbuild.errors import EnrichError
from graphbuild.vocab import DBO, DCTERMS, OWL, RDF, RDFS

LABEL = NamedNode(RDFS + "label")
TYPE = NamedNode(RDF + "type")
ABSTRACT = NamedNode(DBO + "abstract")
SUBJECT = NamedNode(DCTERMS + "subject")
REDIRECTS = NamedNode(DBO + "wikiPageRedirects")
DISAMBIGUATES = NamedNode(DBO + "wikiPageDisambiguates")
SAME_AS = NamedNode(OWL + "sameAs")
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/Q"

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
Term = NamedNode | Literal | BlankNode
Row = Mapping[str, Term]


class Aspect(str, Enum):
    """What ``--what`` can ask for."""

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
        raise EnrichError("--lang: give at least one language, e.g. en or en,de")
    for tag in tags:
        if not _LANGUAGE.match(tag):
            raise EnrichError(f"--lang: {tag!r} is not a language tag (expected e.g. en, de, pt-br)")
    return tuple(dict.fromkeys(tags))


def parse_aspects(text: str) -> frozenset[Aspect]:
    """``"labels,types"`` -> the aspects; unknown names are refused with the known ones."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    known = ", ".join(a.value for a in Aspect)
    if not names:
        raise EnrichError(f"--what: give at least one of {known}")
    aspects = set()
    for name in names:
        try:
            aspects.add(Aspect(name))
        except ValueError:
            raise EnrichError(f"--what: {name!r} is not one of {known}") from None
    return frozenset(aspects)


def batch_query(resources: Sequence[NamedNode], selection: Selection, *, page: tuple[int, int] | None = None) -> str:
    """The SELECT ?r ?p ?o ?src for a batch; ``page`` = (limit, offset) orders and slices it.

    A row with ``?src`` unbound is the triple ``?r ?p ?o``; a row with ``?src`` bound says
    ``?src`` redirects to ``?r``, with ``?o`` one of ``?src``'s labels when it has any.
    """
    values = "VALUES ?r { " + " ".join(str(NamedNode(r.value)) for r in resources) + " }"
    languages = " || ".join(f"LANGMATCHES(LANG(?o), {Literal(tag)})" for tag in selection.languages)
    aspects = selection.aspects
    branches = []
    worded = [p for aspect, p in ((Aspect.LABELS, LABEL), (Aspect.ABSTRACTS, ABSTRACT)) if aspect in aspects]
    if worded:
        branches.append(f"{values} VALUES ?p {{ {_terms(worded)} }} ?r ?p ?o . FILTER ({languages})")
    linked = [p for aspect, p in ((Aspect.TYPES, TYPE), (Aspect.CATEGORIES, SUBJECT), (Aspect.REDIRECTS, REDIRECTS)) if aspect in aspects]
    # A disambiguation page is always flagged: it is what makes a link plainly wrong.
    linked.append(DISAMBIGUATES)
    branches.append(f"{values} VALUES ?p {{ {_terms(linked)} }} ?r ?p ?o . FILTER (isIRI(?o))")
    if Aspect.SAMEAS in aspects:
        wikidata = Literal(WIKIDATA_ENTITY)
        branches.append(f"{values} ?r {SAME_AS} ?o . FILTER (STRSTARTS(STR(?o), {wikidata})) BIND ({SAME_AS} AS ?p)")
    if Aspect.REDIRECTS in aspects:
        branches.append(f"{values} ?src {REDIRECTS} ?r . OPTIONAL {{ ?src {LABEL} ?o . FILTER ({languages}) }}")
    where = "\n  UNION\n  ".join("{ " + branch + " }" for branch in branches)
    text = f"SELECT ?r ?p ?o ?src WHERE {{\n  {where}\n}}"
    if page is not None:
        limit, offset = page
        text += f"\nORDER BY ?r ?p ?o ?src LIMIT {int(limit)} OFFSET {int(offset)}"
    return text


def triples_by_resource(rows: Iterable[Row], resources: Sequence[NamedNode]) -> dict[NamedNode, list[Triple]]:
    """Group the answer's triples by the resource they were fetched for, without duplicates.

    Rows for resources not asked about and rows with blank nodes are dropped: a blank node
    from a remote store means nothing in ours.
    """
    found: dict[NamedNode, dict[Triple, None]] = {r: {} for r in resources}
    for row in rows:
        resource, predicate, obj, source = row.get("r"), row.get("p"), row.get("o"), row.get("src")
        if resource not in found or isinstance(obj, BlankNode):
            continue
        triples = found[resource]
        if isinstance(source, NamedNode):
            triples[Triple(source, REDIRECTS, resource)] = None
            if isinstance(obj, Literal):
                triples[Triple(source, LABEL, obj)] = None
        elif source is None and isinstance(predicate, NamedNode) and obj is not None:
            triples[Triple(resource, predicate, obj)] = None
    return {r: list(triples) for r, triples in found.items()}


def _terms(terms: Iterable[NamedNode]) -> str:
    return " ".join(str(t) for t in terms)
