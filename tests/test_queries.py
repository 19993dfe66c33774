from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from conftest import ROOT

from graphbuild.errors import ParameterError, QueryError
from graphbuild.model.vocab import PREFIXES
from graphbuild.pipeline.ingest import ingest
from graphbuild.query.canned import (
    CannedQuery,
    bind,
    list_queries,
    load_query,
    paged_text,
    parse_query_file,
    queries_dir,
    run,
)
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.protocol import Rows, lexical

QUERY_FILES = sorted(queries_dir().glob("*.rq"))
DBR = "http://dbpedia.org/resource/"
SEED_ID = "000_70018b3530a68054"
# a value for each parameter kind, so that every canned query can run on the seed
SAMPLE = {"entity": "dbr:Pain", "iri": "dbr:Pain", "document": SEED_ID, "string": "pain", "integer": "3", "double": "0.95", "boolean": "true"}


def _table(store: EmbeddedStore, name: str, **params: str) -> list[tuple[str, ...]]:
    result = run(load_query(name), params, store=store)
    return [tuple("" if t is None else t.value for t in row) for row in result.rows]


# values that give rows on the enriched seed where the kind's sample would not
OVERRIDES = {"entities-by-type": {"type": "dbo:Disease"}, "documents-by-type": {"type": "dbo:Disease"}}


@pytest.fixture
def enriched_seed_store(seed_store: EmbeddedStore) -> EmbeddedStore:
    """The seed, a document that links to a redirect and a disambiguation page, and the enrichment fixture."""
    from graphbuild.enrichment import DumpSource, enrich
    from graphbuild.pipeline.ingest import ingest

    data = Path(__file__).resolve().parent / "data" / "dbpedia"
    ingest([data / "documents" / "redirect-and-disambiguation.txt"], store=seed_store, parallel=False)
    report = enrich(seed_store, source=DumpSource([data / "seed-resources.ttl"]))
    assert report.ok and report.enriched == 7
    return seed_store


@pytest.mark.parametrize("path", QUERY_FILES, ids=[p.stem for p in QUERY_FILES])
def test_every_canned_query_has_a_summary_parses_and_runs(path: Path, enriched_seed_store: EmbeddedStore) -> None:
    assert path.read_text(encoding="utf-8").startswith("#+ summary: ")
    canned = parse_query_file(path)
    assert canned.summary and all(p.doc for p in canned.parameters)
    values = {p.name: SAMPLE[p.kind] for p in canned.parameters} | OVERRIDES.get(canned.name, {})
    result = run(canned, values, store=enriched_seed_store)
    assert list(result.rows), f"{canned.name} returned no rows on the seed"


def test_the_required_queries_exist() -> None:
    names = {q.name for q in list_queries()}
    assert {"top-entities", "documents-mentioning", "co-mentions", "document-mentions", "surface-forms", "low-confidence"} <= names


def test_top_entities(seed_store: EmbeddedStore) -> None:
    rows = [(r[0].removeprefix(DBR), r[1], r[2], float(r[3])) for r in _table(seed_store, "top-entities")]
    # Most mentioned first; ties in the order of the store's index (the same on every run).
    assert [r[1] for r in rows] == ["6", "2", "2", "1", "1"]
    assert sorted(rows) == [
        ("Cancer_pain", "2", "1", 1.0),
        ("Decision_making", "6", "1", 0.999999999953161),
        ("Focus_group", "1", "1", 1.0),
        ("Pain", "2", "1", 0.9350527805613198),
        ("Palliative_care", "1", "1", 1.0),
    ]
    assert _table(seed_store, "top-entities") == _table(seed_store, "top-entities")


def test_documents_mentioning_hides_its_parameter(seed_store: EmbeddedStore) -> None:
    result = run(load_query("documents-mentioning"), {"entity": "dbr:Pain"}, store=seed_store)
    assert result.variables == ("id", "mentions", "surface_forms", "min_confidence", "max_confidence")
    rows = [tuple(t.value for t in row) for row in result.rows]
    assert [r[:5] for r in rows] == [(SEED_ID, "2", "pain", "0.9350527805613198", "0.9350527805613198")]


def test_full_iri_and_prefixed_name_agree(seed_store: EmbeddedStore) -> None:
    short = _table(seed_store, "documents-mentioning", entity="dbr:Cancer_pain")
    full = _table(seed_store, "documents-mentioning", entity=DBR + "Cancer_pain")
    assert short == full and len(short) == 1


def test_co_mentions(seed_store: EmbeddedStore) -> None:
    rows = _table(seed_store, "co-mentions", entity="dbr:Pain")
    assert rows == [(DBR + name, "1") for name in ("Cancer_pain", "Decision_making", "Focus_group", "Palliative_care")]


def test_document_mentions_in_text_order(seed_store: EmbeddedStore) -> None:
    rows = _table(seed_store, "document-mentions", document=SEED_ID)
    assert [(int(r[0]), int(r[1]), r[2]) for r in rows][:4] == [
        (77, 92, "palliative care"),
        (118, 133, "self-management"),
        (137, 148, "cancer pain"),
        (229, 244, "self-management"),
    ]
    assert len(rows) == 12
    assert all(r[5] == "true" for r in rows)


def test_surface_forms(seed_store: EmbeddedStore) -> None:
    assert _table(seed_store, "surface-forms", entity="dbr:Decision_making") == [("self-management", "6", "1")]


def test_low_confidence_default_and_bound_threshold(seed_store: EmbeddedStore) -> None:
    assert _table(seed_store, "low-confidence") == []
    rows = _table(seed_store, "low-confidence", threshold="0.95")
    # Least confident first; these two tie, and come in the order of the store's index.
    assert sorted((r[0], r[1], r[2], r[3], r[5]) for r in rows) == [
        (SEED_ID, "725", "729", "pain", "0.9350527805613198"),
        (SEED_ID, "807", "811", "pain", "0.9350527805613198"),
    ]


@pytest.mark.parametrize(
    "value",
    [
        "http://dbpedia.org/resource/Pain> } UNION { ?s ?p ?o",
        "dbr:Pain> ; DROP ALL",
        "http://x/ y",
        "Pain",
        "javascript alert(1)",
        "",
    ],
)
def test_injection_and_non_iris_are_refused(value: str, seed_store: EmbeddedStore) -> None:
    with pytest.raises(ParameterError, match=r"^parameter entity: .* is not a valid IRI"):
        run(load_query("co-mentions"), {"entity": value}, store=seed_store)


def test_string_parameters_stay_literals(seed_store: EmbeddedStore) -> None:
    hostile = f'{SEED_ID}" }} UNION {{ ?doc ?p ?o'
    assert _table(seed_store, "document-mentions", document=hostile) == []


@pytest.mark.parametrize(
    ("query", "values", "message"),
    [
        ("co-mentions", {}, "parameter entity: co-mentions needs a value"),
        ("co-mentions", {"entity": "dbr:Pain", "x": "1"}, "co-mentions has no parameter 'x'"),
        ("low-confidence", {"threshold": "high"}, "parameter threshold: expected a number, got 'high'"),
    ],
)
def test_parameter_errors(query: str, values: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterError) as info:
        bind(load_query(query), values)
    assert str(info.value).startswith(message)


def test_unknown_query_names_the_known_ones() -> None:
    with pytest.raises(QueryError, match="no canned query named 'nope'; known: co-mentions, "):
        load_query("nope")
    with pytest.raises(QueryError):
        load_query("../pyproject")


def test_header_syntax_errors(tmp_path: Path) -> None:
    (tmp_path / "a.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n")
    (tmp_path / "b.rq").write_text("#+ summary: x\n#+ param: y (colour) z\nSELECT * {}\n")
    with pytest.raises(QueryError, match=r"a\.rq:1: a canned query needs a '#\+ summary:' header line"):
        parse_query_file(tmp_path / "a.rq")
    with pytest.raises(QueryError, match=r"b\.rq:2: expected '#\+ param: NAME \(KIND"):
        parse_query_file(tmp_path / "b.rq")


def test_queries_parse_as_sparql() -> None:
    store = pyoxigraph.Store()
    for path in QUERY_FILES:
        canned: CannedQuery = parse_query_file(path)
        values = {p.name: SAMPLE[p.kind] for p in canned.parameters}
        store.query(canned.text, substitutions={pyoxigraph.Variable(k): v for k, v in bind(canned, values).items()})


# What each paged query gave before it paged (an aggregate over every mention, sorted in
# full): the definitions the page-by-page forms must still agree with, row for row.
BEFORE = {
    "documents-mentioning": """
        SELECT ?entity ?id (COUNT(?mention) AS ?mentions) (GROUP_CONCAT(DISTINCT ?surface; separator=" | ") AS ?surface_forms)
               (MIN(?confidence) AS ?min_confidence) (MAX(?confidence) AS ?max_confidence)
        WHERE {
          GRAPH ?document { ?mention itsrdf:taIdentRef ?entity ; nif:anchorOf|gb:surfaceForm ?surface .
                            OPTIONAL { ?mention itsrdf:taConfidence ?confidence } }
          ?document dcterms:identifier ?id
        } GROUP BY ?entity ?document ?id""",
    "surface-forms": """
        SELECT ?entity ?surface (COUNT(?mention) AS ?mentions) (COUNT(DISTINCT ?document) AS ?documents)
        WHERE { GRAPH ?document { ?mention itsrdf:taIdentRef ?entity ; nif:anchorOf|gb:surfaceForm ?surface } }
        GROUP BY ?entity ?surface""",
    "low-confidence": """
        SELECT ?threshold ?id ?begin ?end ?surface ?entity ?confidence
        WHERE {
          GRAPH ?document { ?mention itsrdf:taConfidence ?confidence } FILTER (?confidence < ?threshold)
          ?mention itsrdf:taIdentRef ?entity ; nif:anchorOf|gb:surfaceForm ?surface .
          ?document dcterms:identifier ?id
          OPTIONAL { ?mention nif:beginIndex ?begin } OPTIONAL { ?mention nif:endIndex ?end }
        }""",
    "entities-by-type": """
        SELECT ?type ?entity (COALESCE(SAMPLE(?english), SAMPLE(?other)) AS ?label) ?mentions ?documents
        WHERE {
          { SELECT ?type ?entity (COUNT(DISTINCT ?mention) AS ?mentions) (COUNT(DISTINCT ?document) AS ?documents)
            WHERE { { ?entity a ?type } UNION { ?target a ?type . ?entity dbo:wikiPageRedirects ?target }
                    GRAPH ?document { ?mention itsrdf:taIdentRef ?entity } }
            GROUP BY ?type ?entity }
          OPTIONAL { ?entity rdfs:label ?english FILTER (LANGMATCHES(LANG(?english), "en")) }
          OPTIONAL { ?entity rdfs:label ?other }
        } GROUP BY ?type ?entity ?mentions ?documents""",
    "documents-by-type": """
        SELECT ?type ?id (COUNT(DISTINCT ?entity) AS ?entities) (COUNT(DISTINCT ?mention) AS ?mentions)
               (GROUP_CONCAT(DISTINCT ?name; separator=" ") AS ?resources)
        WHERE {
          { SELECT DISTINCT ?type ?entity WHERE { { ?entity a ?type } UNION { ?target a ?type . ?entity dbo:wikiPageRedirects ?target } } }
          GRAPH ?document { ?mention itsrdf:taIdentRef ?entity }
          ?document dcterms:identifier ?id
          BIND (STRAFTER(STR(?entity), "http://dbpedia.org/resource/") AS ?name)
        } GROUP BY ?type ?document ?id""",
}


# GROUP_CONCAT columns and their separators: their parts come in no set order.
CONCATENATED = {"surface_forms": " | ", "resources": " "}


def _cells(rows: Rows) -> list[tuple[object, ...]]:
    """Each row's values by column name, a concatenation's parts as a set, sorted."""
    cells = [
        tuple(
            (name, frozenset(lexical(term).split(CONCATENATED[name])) if name in CONCATENATED else lexical(term))
            for name, term in zip(rows.variables, row)
        )
        for row in rows
    ]
    return sorted(cells, key=repr)


@pytest.mark.parametrize(("name", "params"), [
    ("documents-mentioning", {"entity": "dbr:Decision_making"}),
    ("documents-mentioning", {"entity": "dbr:Pain"}),
    ("surface-forms", {"entity": "dbr:Decision_making"}),
    ("low-confidence", {"threshold": "0.9999"}),
    ("entities-by-type", {"type": "dbo:Disease"}),
    ("documents-by-type", {"type": "dbo:Disease"}),
])
def test_paged_forms_give_the_rows_of_the_full_aggregates(name: str, params: dict[str, str], enriched_seed_store: EmbeddedStore) -> None:
    canned = load_query(name)
    rows = _cells(run(canned, params, store=enriched_seed_store))
    before = enriched_seed_store.select(BEFORE[name], bindings=bind(canned, params), prefixes=PREFIXES)
    assert rows and rows == _cells(before.without(params))


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    """60 documents of the benchmark's synthetic corpus, enriched from its dump: resources
    in many documents, classes with many resources."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import ENRICHMENT, generate

    from graphbuild.enrichment import DumpSource, enrich

    work = tmp_path_factory.mktemp("corpus")
    generate(work, documents=60, formats={"summary", "enrichment"})
    with EmbeddedStore.open(work / "store") as store:
        ingest([work / "summary"], store=store)
        assert enrich(store, source=DumpSource([work / ENRICHMENT])).ok
        yield store


def _most(store: EmbeddedStore, sparql: str) -> str:
    return lexical(next(iter(store.select(sparql, prefixes=PREFIXES)))[0])


PAGED = [
    ("top-entities", {}),
    ("documents-mentioning", {"entity": "most linked"}),
    ("low-confidence", {"threshold": "0.8"}),
    ("entities-by-type", {"type": "largest class"}),
    ("documents-by-type", {"type": "largest class"}),
    ("co-mentions", {"entity": "most linked"}),
]


def _values(store: EmbeddedStore, params: dict[str, str]) -> dict[str, str]:
    """Stand-ins for the resource in most documents and the class of most resources."""
    picks = {
        "most linked": "SELECT ?e WHERE { ?d schema:mentions ?e } GROUP BY ?e ORDER BY DESC(COUNT(?d)) LIMIT 1",
        "largest class": "SELECT ?c WHERE { ?e a ?c FILTER STRSTARTS(STR(?c), STR(dbo:)) } GROUP BY ?c ORDER BY DESC(COUNT(?e)) LIMIT 1",
    }
    return {name: _most(store, picks[value]) if value in picks else value for name, value in params.items()}


def _rows(store: EmbeddedStore, name: str, values: dict[str, str], **page: int | None) -> list[tuple[str, ...]]:
    return [tuple(lexical(t) for t in row) for row in run(load_query(name), values, store=store, **page)]


@pytest.mark.parametrize(("name", "params"), PAGED, ids=[name for name, _ in PAGED])
def test_pages_are_stable_and_together_are_the_whole_result(name: str, params: dict[str, str], corpus_store: EmbeddedStore) -> None:
    values = _values(corpus_store, params)
    whole = _rows(corpus_store, name, values)
    size = max(2, len(whole) // 4)
    pages = [_rows(corpus_store, name, values, limit=size, offset=offset) for offset in range(0, len(whole) + size, size)]
    assert len(whole) > 2 * size and all(len(page) == size for page in pages[:2]) and pages[-1] == []
    assert sorted(row for page in pages for row in page) == sorted(whole)
    assert _rows(corpus_store, name, values, limit=size, offset=size) == pages[1]


@pytest.mark.parametrize(("name", "column", "descending"), [
    ("top-entities", 1, True),
    ("entities-by-type", 3, True),
    ("low-confidence", 5, False),
])
def test_ranked_queries_keep_their_order_across_pages(name: str, column: int, descending: bool, corpus_store: EmbeddedStore) -> None:
    values = _values(corpus_store, dict(dict(PAGED)[name]))
    pages = [_rows(corpus_store, name, values, limit=5, offset=offset) for offset in (0, 5, 10)]
    ranks = [float(row[column]) for page in pages for row in page]
    assert len(ranks) == 15 and ranks == sorted(ranks, reverse=descending)


def test_a_page_goes_where_the_query_says(tmp_path: Path) -> None:
    inside = tmp_path / "inside.rq"
    inside.write_text("#+ summary: x\nSELECT ?s WHERE {\n  { SELECT ?s WHERE { ?s ?p ?o }\n    #+ page\n  }\n}\nORDER BY ?s\n")
    outside = tmp_path / "outside.rq"
    outside.write_text("#+ summary: x\nSELECT ?s WHERE { ?s ?p ?o }\n")
    assert paged_text(parse_query_file(inside), limit=10, offset=20).splitlines()[3] == "LIMIT 10 OFFSET 20"
    assert paged_text(parse_query_file(inside), limit=None).splitlines()[3] == ""
    assert paged_text(parse_query_file(outside), limit=5).endswith("{ ?s ?p ?o }\nLIMIT 5\n")
    assert paged_text(parse_query_file(outside), limit=None) == outside.read_text()
    for limit, offset in ((-1, 0), (1, -3), (True, 0)):
        with pytest.raises(QueryError, match="a page's .* is a whole number of rows"):
            paged_text(parse_query_file(outside), limit=limit, offset=offset)
    twice = tmp_path / "twice.rq"
    twice.write_text("#+ summary: x\nSELECT ?s WHERE {\n#+ page\n#+ page\n}\n")
    with pytest.raises(QueryError, match=r"twice\.rq:4: a canned query has at most one '#\+ page' line"):
        parse_query_file(twice)


def test_a_long_table_prints_in_blocks_and_nothing_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from graphbuild.query import results

    monkeypatch.setattr(results, "TABLE_BLOCK", 50)
    taken: list[int] = []

    def rows() -> Iterator[tuple[pyoxigraph.Literal]]:
        for number in range(120):
            taken.append(number)
            yield (pyoxigraph.Literal(str(number)),)

    out = io.StringIO()
    written = results.write_rows(Rows(("n",), rows()), results.ResultFormat.TABLE, out)
    assert (written.rows, written.more) == (120, False)
    assert out.getvalue().count("┃ n ") == 3 and out.getvalue().endswith("\n120 rows\n")
    # With a limit, one row past it is read to tell whether more follow, and no further.
    taken.clear()
    cut = results.write_rows(Rows(("n",), rows()), results.ResultFormat.CSV, io.StringIO(), limit=10)
    assert (cut.rows, cut.more, len(taken)) == (10, True, 11)


def _every_query(store: EmbeddedStore) -> dict[str, list[tuple[str, ...]]]:
    answers = {}
    for path in QUERY_FILES:
        canned = parse_query_file(path)
        values = {p.name: SAMPLE[p.kind] for p in canned.parameters} | OVERRIDES.get(canned.name, {})
        rows = run(canned, values, store=store).rows
        # a GROUP_CONCAT lists its values in the store's order: compared as sets of words
        answers[canned.name] = sorted(tuple(" ".join(sorted(("" if t is None else t.value).split())) for t in row) for row in rows)
    return answers


def test_a_store_in_the_full_form_answers_as_the_lean_one(enriched_seed_store: EmbeddedStore, tmp_path: Path) -> None:
    """A store written before the lean form (each phrase with its types, annotator and
    flag) answers every canned query, and counts, as the lean store does."""
    from graphbuild.output.rdf import ExportFormat, export

    export(enriched_seed_store, tmp_path / "full.nq", format=ExportFormat.NQUADS)
    with EmbeddedStore.memory() as earlier:
        earlier.bulk_load_nquads(tmp_path / "full.nq")
        assert earlier.quad_count() > enriched_seed_store.quad_count()
        assert _every_query(earlier) == _every_query(enriched_seed_store)
        lean, full = enriched_seed_store.stats(), earlier.stats()
        assert (lean.documents, lean.mentions, lean.unplaced, lean.resources) == (full.documents, full.mentions, full.unplaced, full.resources)


def test_document_mentions_reads_each_phrase_flag_and_the_context_one(tmp_path: Path) -> None:
    """Offsets given for one link and recovered for the other: each phrase says its own
    flag; all recovered (a summary): the context says it once; an unplaced link has none."""
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        '{"id": "mixed", "text": "pain and cancer pain", "links": ['
        '{"surface": "pain", "uri": "http://dbpedia.org/resource/Pain", "begin": 0, "end": 4}, '
        '{"surface": "cancer pain", "uri": "http://dbpedia.org/resource/Cancer_pain"}]}\n'
        '{"id": "recovered", "text": "pain and cancer pain", "links": ['
        '{"surface": "pain", "uri": "http://dbpedia.org/resource/Pain"}, '
        '{"surface": "nowhere", "uri": "http://dbpedia.org/resource/Nowhere"}]}\n'
    )
    with EmbeddedStore.memory() as store:
        ingest([mixed], store=store, parallel=False)
        flags = {(r[2], r[5]) for r in _table(store, "document-mentions", document="mixed")}
        assert flags == {("pain", ""), ("cancer pain", "true")}
        flags = {(r[2], r[5]) for r in _table(store, "document-mentions", document="recovered")}
        assert flags == {("pain", "true"), ("nowhere", "")}
