"""Enrichment end to end: a real store, real SPARQL servers (Virtuoso, Oxigraph), dumps, faults."""

from __future__ import annotations

import bz2
import gzip
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import SEED
from pyoxigraph import Literal, NamedNode, Quad
from servers import FaultServer, OxigraphServer, Partial, Reply, VirtuosoServer, start_oxigraph

from graphbuild.enrichment import Aspect, DumpSource, Endpoint, RetryPolicy, Selection, enrich
from graphbuild.model.quads import enrichment_graph
from graphbuild.model.vocab import (
    ENRICHMENT_GRAPH,
    FIGURES_GRAPH,
    FORM,
    METADATA_GRAPH,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    XSD,
)
from graphbuild.pipeline.ingest import ingest
from graphbuild.query.canned import load_query, run
from graphbuild.store.embedded import EmbeddedStore

DATA = Path(__file__).resolve().parent / "data" / "dbpedia"
FIXTURE, ESBM, DOCUMENTS = DATA / "seed-resources.ttl", DATA / "esbm-excerpt.nt", DATA / "documents"
DBR = "http://dbpedia.org/resource/"
SEED_RESOURCES = [NamedNode(DBR + n) for n in ("Cancer_pain", "Decision_making", "Focus_group", "Pain", "Palliative_care")]
POLICY = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, timeout=10)
EN_DE = Selection(languages=("en", "de"))
BIG = NamedNode(DBR + "Graphbuild_row_cap_test")
BIG_TYPES = 10_050
Faults = Callable[..., FaultServer]


@pytest.fixture(scope="module")
def virtuoso(virtuoso_server: VirtuosoServer) -> str:
    """Virtuoso with the seed fixture and the ESBM excerpt in <http://dbpedia.org>, as on dbpedia.org."""
    for path in (FIXTURE, ESBM):
        virtuoso_server.ensure_loaded(path, "http://dbpedia.org")
    return virtuoso_server.query_url


@pytest.fixture(scope="module")
def oxigraph(oxigraph_server: OxigraphServer) -> str:
    for path in (FIXTURE, ESBM):
        oxigraph_server.ensure_loaded(path)
    return oxigraph_server.query_url


def _store(tmp_path: Path, *paths: Path, name: str = "store") -> EmbeddedStore:
    store = EmbeddedStore.open(tmp_path / name)
    report = ingest(list(paths), store=store, parallel=False)
    assert report.failed == 0
    return store


def _enrichment(store: EmbeddedStore) -> set[Quad]:
    return {q for g in store.graphs() if g.value.startswith(ENRICHMENT_GRAPH.value + "?") for q in store.quads(g)}


def _record(store: EmbeddedStore, resource: NamedNode) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for quad in store.quads(METADATA_GRAPH, subject=enrichment_graph(resource)):
        found.setdefault(quad.predicate.value, set()).add(quad.object.value)
    return found


def _rows(store: EmbeddedStore, name: str, **params: str) -> list[tuple[str, ...]]:
    result = run(load_query(name), params, store=store)
    return [tuple("" if t is None else t.value for t in row) for row in result.rows]


def test_the_seed_enriched_from_virtuoso_gets_a_label_and_types_for_each_resource(tmp_path: Path, virtuoso: str) -> None:
    with _store(tmp_path, SEED) as store:
        document_quads = {q for g in store.graphs() for q in store.quads(g)}
        report = enrich(store, source=Endpoint(virtuoso, policy=POLICY), selection=EN_DE)
        assert (report.linked, report.enriched, report.cached, report.not_found, report.failed) == (5, 5, 0, 0, 0)
        assert report.requests == 1 and report.ok
        for resource in SEED_RESOURCES:
            own = list(store.quads(enrichment_graph(resource), subject=resource))
            labels = {q.object for q in own if q.predicate == RDFS_LABEL}
            assert {label.language for label in labels} == {"en", "de"}, resource
            assert any(q.predicate == RDF_TYPE for q in own), resource
        # Document graphs and their metadata are untouched: enrichment lives in graphs of its own.
        assert document_quads <= {q for g in store.graphs() for q in store.quads(g)}
        assert all(q.graph_name.value.startswith(ENRICHMENT_GRAPH.value) for q in _enrichment(store))
        assert len(_enrichment(store)) == 11 + 10 + 9 + 12 + 11  # counted by hand from seed-resources.ttl


def test_suspicious_links_lists_the_self_management_mentions(tmp_path: Path, virtuoso: str) -> None:
    with _store(tmp_path, SEED) as store:
        enrich(store, source=Endpoint(virtuoso, policy=POLICY), selection=EN_DE)
        rows = _rows(store, "suspicious-links")
    assert [(r[1], r[3], r[4].removeprefix(DBR), set(r[5].split(" | ")), r[6]) for r in rows] == [
        (begin, "self-management", "Decision_making", {"Decision-making", "Entscheidung"}, "0.999999999953161")
        for begin in ("118", "229", "347", "469", "991", "1123")
    ]



def test_suspicious_links_reads_the_surface_forms_from_the_figures(tmp_path: Path, virtuoso: str) -> None:
    # Each resource's forms come from the per-(resource, form) figures: joining every
    # mention with its form held the whole mention list in memory (gigabytes at 1M documents).
    with _store(tmp_path, SEED) as store:
        enrich(store, source=Endpoint(virtuoso, policy=POLICY), selection=EN_DE)
        pairs = [q.subject for q in store.quads(FIGURES_GRAPH) if q.predicate == FORM and q.object == Literal("self-management")]
        assert len(pairs) == 1 and isinstance(pairs[0], NamedNode)
        store.replace_subjects(FIGURES_GRAPH, [pairs[0]], [])
        assert _rows(store, "suspicious-links") == []

def test_each_resource_has_its_fetch_record(tmp_path: Path, virtuoso: str) -> None:
    with _store(tmp_path, SEED) as store:
        before = datetime.now(timezone.utc)
        enrich(store, source=Endpoint(virtuoso, policy=POLICY), selection=EN_DE)
        after = datetime.now(timezone.utc)
        for resource in SEED_RESOURCES:
            record = _record(store, resource)
            (fetched,) = record[PROV + "generatedAtTime"]
            assert before <= datetime.fromisoformat(fetched) <= after
            assert record[PROV + "wasDerivedFrom"] == {virtuoso}
            assert record["https://w3id.org/graphbuild/ns#enrichmentOf"] == {resource.value}
            assert record["https://w3id.org/graphbuild/ns#enrichedAspect"] == {a.value for a in Aspect}
            assert record["https://w3id.org/graphbuild/ns#enrichedLanguage"] == {"en", "de"}
            assert record["https://w3id.org/graphbuild/ns#found"] == {"true"}
        stamps = [q.object for q in store.quads(METADATA_GRAPH) if q.predicate.value == PROV + "generatedAtTime"]
        assert len(stamps) == 6 and {s.datatype for s in stamps} == {NamedNode(XSD + "dateTime")}  # 5 + the document


def test_a_second_run_fetches_nothing_and_refresh_fetches_again(tmp_path: Path, virtuoso: str, fault_server: Faults) -> None:
    server = fault_server([], virtuoso)
    with _store(tmp_path, SEED) as store:
        enrich(store, source=Endpoint(server.url, policy=POLICY), selection=EN_DE)
        first = _enrichment(store)
        stamp = _record(store, SEED_RESOURCES[3])[PROV + "generatedAtTime"]
        again = enrich(store, source=Endpoint(server.url, policy=POLICY), selection=EN_DE)
        assert (again.enriched, again.cached, again.requests) == (0, 5, 0)
        assert len(server.requests) == 1
        refreshed = enrich(store, source=Endpoint(server.url, policy=POLICY), selection=EN_DE, refresh=True)
        assert (refreshed.enriched, refreshed.cached, refreshed.requests) == (5, 0, 1)
        assert _enrichment(store) == first  # replaced, not doubled
        assert _record(store, SEED_RESOURCES[3])[PROV + "generatedAtTime"] != stamp


def test_asking_for_more_than_was_fetched_fetches_again(tmp_path: Path, virtuoso: str) -> None:
    endpoint = Endpoint(virtuoso, policy=POLICY)
    with _store(tmp_path, SEED) as store:
        enrich(store, source=endpoint, selection=Selection(frozenset({Aspect.LABELS}), ("en",)))
        assert {q.predicate for q in _enrichment(store)} == {RDFS_LABEL}
        wider = enrich(store, source=endpoint, selection=Selection(frozenset({Aspect.LABELS, Aspect.TYPES}), ("en",)))
        assert (wider.enriched, wider.cached) == (5, 0)
        assert {q.predicate for q in _enrichment(store)} == {RDFS_LABEL, RDF_TYPE}
        narrower = enrich(store, source=endpoint, selection=Selection(frozenset({Aspect.TYPES}), ("en",)))
        assert (narrower.enriched, narrower.cached, narrower.requests) == (0, 5, 2)


def test_a_link_to_a_redirect_gains_its_target_and_misses_are_recorded(tmp_path: Path, virtuoso: str) -> None:
    with _store(tmp_path, DOCUMENTS / "redirect-and-disambiguation.txt") as store:
        report = enrich(store, source=Endpoint(virtuoso, policy=POLICY), selection=EN_DE)
        assert (report.linked, report.enriched, report.not_found, report.targets, report.requests) == (3, 3, 1, 1, 2)
        assert report.not_found_resources == [NamedNode(DBR + "Nursing")]
        care = NamedNode(DBR + "Palliative_care")
        assert Literal("Palliative care", language="en") in {q.object for q in store.quads(enrichment_graph(care), subject=care)}
        assert _record(store, NamedNode(DBR + "Nursing"))["https://w3id.org/graphbuild/ns#found"] == {"false"}
        assert not list(store.quads(enrichment_graph(NamedNode(DBR + "Nursing"))))
        # Types reach the redirect page through its target; the disambiguation page is flagged.
        assert _rows(store, "entities-by-type", type="dbo:MedicalSpecialty") == [
            (DBR + "Palliative_medicine", "Palliative medicine", "1", "1")
        ]
        assert _rows(store, "disambiguation-links") == [
            ("redirect-and-disambiguation", "47", "52", "focus", DBR + "Focus", "0.6123405710328851", "4")
        ]
        # The redirect page's own label matches: not suspicious; "focus" matches "Focus".
        assert _rows(store, "suspicious-links") == []
        again = enrich(store, source=Endpoint(virtuoso, policy=POLICY), selection=EN_DE)
        assert (again.cached, again.requests, again.targets) == (3, 0, 0)


@pytest.mark.parametrize("compress", [bz2.compress, gzip.compress], ids=["bz2", "gz"])
def test_virtuoso_oxigraph_and_dumps_give_the_same_graph(
    tmp_path: Path, virtuoso: str, oxigraph: str, compress: Callable[[bytes], bytes]
) -> None:
    suffix = ".bz2" if compress is bz2.compress else ".gz"
    dumps = [tmp_path / f"seed-resources.ttl{suffix}", tmp_path / f"esbm.nt{suffix}"]
    for source, target in zip((FIXTURE, ESBM), dumps):
        target.write_bytes(compress(source.read_bytes()))
    graphs = []
    for number, source in enumerate((Endpoint(virtuoso, policy=POLICY), Endpoint(oxigraph, policy=POLICY), DumpSource(dumps))):
        with _store(tmp_path, SEED, DOCUMENTS, name=f"store{number}") as store:
            report = enrich(store, source=source, selection=EN_DE)
            assert (report.linked, report.enriched, report.not_found, report.targets) == (19, 18, 1, 0)
            graphs.append(_enrichment(store))
    assert graphs[0] == graphs[1] == graphs[2]
    assert len(graphs[0]) == 53 + 7 + 230  # seed, the test document, ESBM (grep)


def test_a_batch_over_the_row_cap_is_split_and_a_big_resource_paged(
    tmp_path: Path, virtuoso_server: VirtuosoServer, virtuoso: str, fault_server: Faults
) -> None:
    big = tmp_path / "row-cap.nt"
    with open(big, "w", encoding="utf-8") as out:
        out.writelines(f"<{BIG.value}> <{RDF_TYPE.value}> <http://example.org/class/C{i:05d}> .\n" for i in range(BIG_TYPES))
    virtuoso_server.ensure_loaded(big, "http://example.org/row-cap")
    text = "Pain, cancer pain and the row cap."
    rows = [("Pain", "Pain"), ("cancer pain", "Cancer_pain"), ("row cap", BIG.value.removeprefix(DBR))]
    document = tmp_path / "row-cap.txt"
    document.write_text(text + "\n" + "".join(f"{s:<30}1.0^^http://www.w3.org/2001/XMLSchema#double    {DBR}{r}\n\n" for s, r in rows))
    server = fault_server([], virtuoso)
    with _store(tmp_path, document) as store:
        report = enrich(store, source=Endpoint(server.url, policy=POLICY), selection=EN_DE)
        assert (report.enriched, report.failed, report.requests) == (3, 0, 8)
        assert sum(1 for q in store.quads(enrichment_graph(BIG)) if q.predicate == RDF_TYPE) == BIG_TYPES
        assert len({q for q in _enrichment(store) if q.subject == NamedNode(DBR + "Pain")}) == 11
    # 3 resources cut at 10,000 rows -> halves (1, 2) -> the pair cut -> Big alone cut -> 3 pages of 5,000; Pain.
    assert [seen.resources for seen in server.requests] == [3, 1, 2, 1, 1, 1, 1, 1]
    assert ["LIMIT" in seen.query for seen in server.requests] == [False] * 4 + [True] * 3 + [False]


def test_a_partial_answer_is_asked_again_in_halves(tmp_path: Path, virtuoso: str, fault_server: Faults) -> None:
    with _store(tmp_path, SEED, name="direct") as store:
        enrich(store, source=Endpoint(virtuoso, policy=POLICY), selection=EN_DE)
        direct = _enrichment(store)
    server = fault_server([Partial(0.5)], virtuoso)
    with _store(tmp_path, SEED) as store:
        report = enrich(store, source=Endpoint(server.url, policy=POLICY), selection=EN_DE)
        assert (report.enriched, report.requests) == (5, 3)
        assert _enrichment(store) == direct
    assert [(seen.answered, seen.resources) for seen in server.requests] == [("Partial", 5), ("Proxy", 2), ("Proxy", 3)]


def test_a_failed_batch_leaves_the_store_as_it_was(tmp_path: Path, virtuoso: str, fault_server: Faults) -> None:
    with _store(tmp_path, SEED) as store:
        enrich(store, source=Endpoint(virtuoso, policy=POLICY), selection=EN_DE)
        before = {q for g in store.graphs() for q in store.quads(g)} | set(store.quads(METADATA_GRAPH))
        server = fault_server([Reply(503)] * 3)
        report = enrich(store, source=Endpoint(server.url, policy=POLICY), selection=EN_DE, refresh=True)
        assert (report.enriched, report.failed, report.ok) == (0, 5, False)
        assert report.failures == [f"{server.url}: gave up after 3 tries: HTTP 503 Service Unavailable"]
        assert {q for g in store.graphs() for q in store.quads(g)} | set(store.quads(METADATA_GRAPH)) == before


def test_a_redirect_elsewhere_caches_nothing(tmp_path: Path, oxigraph: str, fault_server: Faults) -> None:
    """A 302 to another host used to be followed without the query, and that host's empty
    answer was recorded as "not found" for every resource of the batch."""
    elsewhere = fault_server([Reply(200, {"Content-Type": "application/sparql-results+json"},
                                    b'{"head": {"vars": []}, "results": {"bindings": []}}')] * 10)
    server = fault_server([Reply(302, {"Location": elsewhere.url})] * 10)
    with _store(tmp_path, SEED) as store:
        report = enrich(store, source=Endpoint(server.url, policy=POLICY), selection=EN_DE)
        assert (report.enriched, report.failed, report.ok) == (0, 5, False)
        assert report.failures[0].startswith(f"{server.url}: redirected (HTTP 302) to {elsewhere.url};")
        assert [_record(store, resource) for resource in SEED_RESOURCES] == [{}] * 5
        assert elsewhere.requests == []
        report = enrich(store, source=Endpoint(oxigraph, policy=POLICY), selection=EN_DE)
        assert (report.enriched, report.failed) == (5, 0)


def test_a_server_stopped_mid_run_keeps_the_good_batches(tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    with _store(tmp_path, SEED) as store:
        with start_oxigraph(tmp_path / "oxigraph") as server:
            server.load(FIXTURE)

            def stop_after_first_batch(stage: str, done: int, total: int | None) -> None:
                progress.append((done, total))
                server.stop()

            report = enrich(
                store, source=Endpoint(server.query_url, policy=POLICY), selection=EN_DE, batch_size=2,
                progress=stop_after_first_batch,
            )
        assert progress == [(2, 5)]
        assert (report.enriched, report.failed, report.requests) == (2, 3, 4)
        assert report.failures == [f"{server.query_url}: gave up after 3 tries: cannot reach it ([Errno 111] Connection refused)"]
        enriched = {q.graph_name for q in _enrichment(store)}
        assert enriched == {enrichment_graph(r) for r in SEED_RESOURCES[:2]}
        with start_oxigraph(tmp_path / "oxigraph-again") as again:
            again.load(FIXTURE)
            rest = enrich(store, source=Endpoint(again.query_url, policy=POLICY), selection=EN_DE, batch_size=2)
        assert (rest.enriched, rest.cached, rest.failed, rest.requests) == (3, 2, 0, 2)
        assert {q.graph_name for q in _enrichment(store)} == {enrichment_graph(r) for r in SEED_RESOURCES}


def test_batches_are_far_below_the_row_cap(tmp_path: Path, virtuoso: str, fault_server: Faults) -> None:
    server = fault_server([], virtuoso)
    with _store(tmp_path, SEED, DOCUMENTS) as store:
        report = enrich(store, source=Endpoint(server.url, policy=POLICY), selection=EN_DE, batch_size=7)
    assert [seen.resources for seen in server.requests] == [7, 7, 5]
    assert report.requests == 3


@pytest.mark.skipif(not os.environ.get("GRAPHBUILD_LIVE_DBPEDIA"), reason="reaches dbpedia.org: set GRAPHBUILD_LIVE_DBPEDIA=1 to run")
def test_live_dbpedia(tmp_path: Path) -> None:
    with _store(tmp_path, SEED) as store:
        report = enrich(store, source=Endpoint("https://dbpedia.org/sparql"), selection=EN_DE)
        assert report.ok and report.enriched + report.not_found == 5
        for resource in SEED_RESOURCES:
            graph = list(store.quads(enrichment_graph(resource)))
            assert any(q.predicate == RDFS_LABEL for q in graph) or any(q.predicate.value.endswith("wikiPageRedirects") for q in graph)
