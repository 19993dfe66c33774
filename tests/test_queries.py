from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from graphbuild.errors import ParameterError, QueryError
from graphbuild.query.canned import CannedQuery, bind, list_queries, load_query, parse_query_file, queries_dir, run
from graphbuild.store.embedded import EmbeddedStore

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
    rows = _table(seed_store, "top-entities")
    assert [(r[0].removeprefix(DBR), r[1], r[2], float(r[3])) for r in rows] == [
        ("Decision_making", "6", "1", 0.999999999953161),
        ("Cancer_pain", "2", "1", 1.0),
        ("Pain", "2", "1", 0.9350527805613198),
        ("Focus_group", "1", "1", 1.0),
        ("Palliative_care", "1", "1", 1.0),
    ]


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
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(SEED_ID, "725", "729", "pain"), (SEED_ID, "807", "811", "pain")]


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
    with pytest.raises(ParameterError, match=r"--param entity: .* is not a valid IRI"):
        run(load_query("co-mentions"), {"entity": value}, store=seed_store)


def test_string_parameters_stay_literals(seed_store: EmbeddedStore) -> None:
    hostile = f'{SEED_ID}" }} UNION {{ ?doc ?p ?o'
    assert _table(seed_store, "document-mentions", document=hostile) == []


@pytest.mark.parametrize(
    ("query", "values", "message"),
    [
        ("co-mentions", {}, "co-mentions needs --param entity=VALUE"),
        ("co-mentions", {"entity": "dbr:Pain", "x": "1"}, "co-mentions has no parameter 'x'"),
        ("low-confidence", {"threshold": "high"}, "--param threshold: expected a number, got 'high'"),
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
