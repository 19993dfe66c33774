from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import Literal, NamedNode, Triple

from graphbuild.enrichment.query import (
    Aspect,
    Selection,
    batch_query,
    parse_aspects,
    parse_languages,
    triples_by_resource,
)
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

DATA = Path(__file__).resolve().parent / "data" / "dbpedia"
DBR = "http://dbpedia.org/resource/"
PAIN, FOCUS, CARE = (NamedNode(DBR + name) for name in ("Pain", "Focus", "Palliative_care"))


@pytest.fixture(scope="module")
def fixture_store() -> pyoxigraph.Store:
    """The seed fixture in a plain in-memory Oxigraph store: the batch query runs on it as on an endpoint."""
    store = pyoxigraph.Store()
    store.load(path=str(DATA / "seed-resources.ttl"), format=pyoxigraph.RdfFormat.TURTLE)
    return store


def _answer(store: pyoxigraph.Store, resources: list[NamedNode], selection: Selection) -> dict[NamedNode, list[Triple]]:
    result = store.query(batch_query(resources, selection))
    rows = [{v.value: s[v] for v in result.variables if s[v] is not None} for s in result]
    return triples_by_resource(rows, resources)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("en", ("en",)), ("en,de", ("en", "de")), (" EN , de ,en", ("en", "de")), ("pt-BR", ("pt-br",))],
)
def test_languages(text: str, expected: tuple[str, ...]) -> None:
    assert parse_languages(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "languages: give at least one language, e.g. en or en,de"),
        ('en,"de', "languages: '\"de' is not a language tag (expected e.g. en, de, pt-br)"),
        ("en) || true || (", "languages: 'en) || true || (' is not a language tag (expected e.g. en, de, pt-br)"),
        ("english", "languages: 'english' is not a language tag (expected e.g. en, de, pt-br)"),
    ],
)
def test_bad_languages_are_refused(text: str, message: str) -> None:
    with pytest.raises(EnrichError) as info:
        parse_languages(text)
    assert str(info.value) == message


def test_aspects() -> None:
    assert parse_aspects("labels, Types") == {Aspect.LABELS, Aspect.TYPES}
    assert parse_aspects("labels,types,abstracts,categories,redirects,sameas") == set(Aspect)
    with pytest.raises(EnrichError) as info:
        parse_aspects("labels,comments")
    assert str(info.value) == "aspects: 'comments' is not one of labels, types, abstracts, categories, redirects, sameas"


def test_covered_by_needs_every_aspect_and_language() -> None:
    wanted = Selection(frozenset({Aspect.LABELS, Aspect.TYPES}), ("en", "de"))
    assert wanted.covered_by({"labels", "types", "sameas"}, {"en", "de", "fr"})
    assert not wanted.covered_by({"labels"}, {"en", "de"})
    assert not wanted.covered_by({"labels", "types"}, {"en"})


def test_the_query_names_resources_and_languages_only_as_terms() -> None:
    odd = NamedNode(DBR + 'Foppt_den_Dämon!')
    text = batch_query([PAIN, odd], Selection(languages=("en", "de")))
    assert text.count("VALUES ?r { <http://dbpedia.org/resource/Pain> <http://dbpedia.org/resource/Foppt_den_Dämon!> }") == 8
    assert 'LANGMATCHES(LANG(?label), "en") || LANGMATCHES(LANG(?label), "de")' in text
    pyoxigraph.Store().query(text)  # parses as SPARQL


def test_every_aspect_on_the_fixture(fixture_store: pyoxigraph.Store) -> None:
    got = _answer(fixture_store, [PAIN, FOCUS], Selection(languages=("en", "de")))
    pain = set(got[PAIN])
    assert {t for t in pain if t.predicate == RDFS_LABEL} == {
        Triple(PAIN, RDFS_LABEL, Literal("Pain", language="en")),
        Triple(PAIN, RDFS_LABEL, Literal("Schmerz", language="de")),
    }  # not "Douleur"@fr
    assert {t.object.value for t in pain if t.predicate == RDF_TYPE} == {
        "http://www.w3.org/2002/07/owl#Thing",
        "http://dbpedia.org/ontology/Disease",
        "http://www.wikidata.org/entity/Q12136",
        "http://www.ontologydesignpatterns.org/ont/dul/DUL.owl#Situation",
    }
    assert {t.object.language for t in pain if t.predicate == DBO_ABSTRACT} == {"en", "de"}
    assert {t.object.value for t in pain if t.predicate == DCTERMS_SUBJECT} == {DBR + "Category:Pain", DBR + "Category:Symptoms"}
    # Only Wikidata entities, not de.dbpedia or YAGO; foaf:isPrimaryTopicOf is not asked for.
    assert {t.object.value for t in pain if t.predicate == OWL_SAME_AS} == {"http://www.wikidata.org/entity/Q81938"}
    assert len(pain) == 2 + 4 + 2 + 2 + 1
    # Pain_(disambiguation) lists Pain: that flags the disambiguation page, not Pain.
    assert not any(t.predicate == DBO_WIKI_PAGE_DISAMBIGUATES for t in pain)
    assert {t.object.value for t in got[FOCUS] if t.predicate == DBO_WIKI_PAGE_DISAMBIGUATES} == {
        DBR + "Focus_(optics)", DBR + "Focus_group", DBR + "Focus_(geometry)", DBR + "Attention",
    }


def test_pages_redirecting_come_with_their_labels(fixture_store: pyoxigraph.Store) -> None:
    got = set(_answer(fixture_store, [CARE], Selection(frozenset({Aspect.REDIRECTS}), ("en",)))[CARE])
    medicine, comfort = NamedNode(DBR + "Palliative_medicine"), NamedNode(DBR + "Comfort_care")
    assert got == {
        Triple(medicine, DBO_WIKI_PAGE_REDIRECTS, CARE),
        Triple(medicine, RDFS_LABEL, Literal("Palliative medicine", language="en")),
        Triple(comfort, DBO_WIKI_PAGE_REDIRECTS, CARE),
        Triple(comfort, RDFS_LABEL, Literal("Comfort care", language="en")),
    }


def test_a_selection_asks_only_for_its_aspects(fixture_store: pyoxigraph.Store) -> None:
    got = _answer(fixture_store, [PAIN, CARE], Selection(frozenset({Aspect.TYPES}), ("en",)))
    assert {t.predicate for triples in got.values() for t in triples} == {RDF_TYPE}
    assert len(got[PAIN]) == 4 and len(got[CARE]) == 3


def test_pages_slice_the_ordered_answer(fixture_store: pyoxigraph.Store) -> None:
    selection = Selection(languages=("en", "de"))
    pages = []
    for offset in range(0, 24, 8):
        result = fixture_store.query(batch_query([PAIN, CARE], selection, page=(8, offset)))
        pages.append([tuple(sorted((v.value, str(s[v])) for v in result.variables if s[v] is not None)) for s in result])
    rows = [row for page in pages for row in page]
    # 11 rows for Pain; 8 for Palliative care plus one per page redirecting to it
    assert [len(page) for page in pages] == [8, 8, 5] and len(set(rows)) == 21
    whole = fixture_store.query(batch_query([PAIN, CARE], selection))
    assert set(rows) == {tuple(sorted((v.value, str(s[v])) for v in whole.variables if s[v] is not None)) for s in whole}


def test_unknown_resources_and_blank_nodes_are_dropped() -> None:
    rows = [
        {"r": PAIN, "label": Literal("Pain", language="en")},
        {"r": PAIN, "type": pyoxigraph.BlankNode()},
        {"r": NamedNode(DBR + "Other"), "label": Literal("Other")},
        {"r": PAIN, "src": NamedNode(DBR + "Painful"), "src_label": Literal("Painful", language="en")},
        {"r": PAIN, "src": NamedNode(DBR + "Ache")},
        {"r": PAIN, "label": Literal("Pain", language="en")},
        {"r": PAIN, "something": Literal("else")},
    ]
    assert triples_by_resource(rows, [PAIN, FOCUS]) == {
        PAIN: [
            Triple(PAIN, RDFS_LABEL, Literal("Pain", language="en")),
            Triple(NamedNode(DBR + "Painful"), DBO_WIKI_PAGE_REDIRECTS, PAIN),
            Triple(NamedNode(DBR + "Painful"), RDFS_LABEL, Literal("Painful", language="en")),
            Triple(NamedNode(DBR + "Ache"), DBO_WIKI_PAGE_REDIRECTS, PAIN),
        ],
        FOCUS: [],
    }
