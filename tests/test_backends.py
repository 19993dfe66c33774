"""The same suite against every backend: the embedded store, `oxigraph serve` and Virtuoso."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from conftest import SEED, SEEDS
from servers import OxigraphServer, VirtuosoServer, start_oxigraph
from test_figures import AGGREGATE as AGGREGATE_FIGURES
from test_figures import FORMS_AGGREGATE, FORMS_STORED
from test_figures import STORED as STORED_FIGURES
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.model.vocab import ITS_TA_IDENT_REF
from graphbuild.output.rdf import ExportFormat, export
from graphbuild.pipeline.delete import delete
from graphbuild.pipeline.ingest import ingest
from graphbuild.query.canned import load_query, run
from graphbuild.report.gather import Reader
from graphbuild.store import Store, open_store
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.figures import is_current
from graphbuild.store.protocol import query_form
from graphbuild.store.remote import Endpoints, RemoteStore, with_values

SEED_ID = SEED.stem
DBR = "http://dbpedia.org/resource/"


@pytest.fixture(scope="session")
def oxigraph_union_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """`oxigraph serve --union-default-graph`, as `graphbuild serve` runs it."""
    with start_oxigraph(tmp_path_factory.mktemp("oxigraph-union"), union_default_graph=True) as server:
        yield server


def _url(server: OxigraphServer | VirtuosoServer) -> str:
    return server.query_url.removesuffix("/query")


@pytest.fixture(params=["embedded", "oxigraph", "virtuoso"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """(location as a user gives it, the open store), emptied of graphbuild's graphs."""
    if request.param == "embedded":
        location = str(tmp_path / "store")
        with EmbeddedStore.open(Path(location)) as store:
            yield location, store
        return
    server = request.getfixturevalue("oxigraph_union_server" if request.param == "oxigraph" else "writable_virtuoso")
    location = _url(server)
    with open_store(location) as store:
        assert isinstance(store, RemoteStore)
        _empty(store)
        yield location, store
        _empty(store)


def _empty(store: RemoteStore) -> None:
    store.replace(store.graphs(), [])


def _rows(store: Store, name: str, **params: str) -> list[tuple[str, ...]]:
    result = run(load_query(name), params, store=store)
    return [tuple("" if t is None else t.value for t in row) for row in result.rows]


def _numbers(rows: list[tuple[str, ...]]) -> list[tuple[object, ...]]:
    """Values compared as numbers where they are numbers: servers write 1 or 1.0E0 for 1.0,
    Virtuoso writes doubles to six significant digits and booleans as 1 and 0."""

    def value(cell: str) -> object:
        cell = {"true": "1", "false": "0"}.get(cell, cell)
        try:
            return float(f"{float(cell):.6g}")
        except ValueError:
            return cell

    return [tuple(value(cell) for cell in row) for row in rows]


def test_ingest_stats_and_reingest(backend: tuple[str, Store]) -> None:
    _, store = backend
    report = ingest([SEED], store=store)
    assert (report.loaded, report.failed, report.mentions) == (1, 0, 12)
    stats = store.stats()
    assert (stats.documents, stats.mentions, stats.resources, stats.unplaced, stats.graphs) == (1, 12, 5, 0, 3)
    again = ingest([SEED], store=store)
    assert (again.loaded, again.replaced, again.unchanged) == (0, 0, 1)
    assert store.stats().quads == stats.quads


def test_canned_queries_agree_with_the_embedded_store(backend: tuple[str, Store], tmp_path: Path) -> None:
    _, store = backend
    ingest([SEED], store=store)
    with EmbeddedStore.open(tmp_path / "reference") as reference:
        ingest([SEED], store=reference)
        for name, params in [
            ("top-entities", {}),
            ("documents-mentioning", {"entity": "dbr:Pain"}),
            ("co-mentions", {"entity": "dbr:Pain"}),
            ("document-mentions", {"document": SEED_ID}),
            ("surface-forms", {"entity": "dbr:Decision_making"}),
            ("low-confidence", {"threshold": "0.95"}),
        ]:
            # Rows in the store's order (ties, a page's documents) may come in another
            # order from a server: compared as sets, and in full by test_queries.
            assert sorted(_numbers(_rows(store, name, **params)), key=repr) == sorted(_numbers(_rows(reference, name, **params)), key=repr), name
        # A page picked inside a subquery sees the parameter there too (a VALUES block on a server).
        page = run(load_query("documents-mentioning"), {"entity": "dbr:Pain"}, store=store, limit=1)
        assert [row[0].value for row in page.rows if row[0] is not None] == [SEED_ID]


def test_changed_document_replaces_its_graph(backend: tuple[str, Store], tmp_path: Path) -> None:
    _, store = backend
    doc = tmp_path / f"{SEED_ID}.txt"
    shutil.copy(SEED, doc)
    ingest([doc], store=store)
    lines = doc.read_text(encoding="utf-8").split("\n")
    doc.write_text(lines[0] + "\n" + "\n".join(line for line in lines[1:] if "Focus_group" in line) + "\n", encoding="utf-8")
    report = ingest([doc], store=store)
    assert (report.loaded, report.replaced) == (0, 1)
    assert _rows(store, "top-entities")[0][:3] == (DBR + "Focus_group", "1", "1")
    assert store.stats().mentions == 1


def test_the_report_reads_for_its_figures_the_mentions_a_page_shows(backend: tuple[str, Store]) -> None:
    # Without a page per document the report reads only the mentions' predicates.
    _, store = backend
    ingest([SEEDS], store=store)
    reader = Reader(store)
    documents = reader.documents()
    assert len(documents) == 8
    mentions = links = 0
    for graph, doc_id in documents:
        page, figures = reader.document(graph, doc_id), reader.document(graph, doc_id, provenance=False)
        assert figures.mentions == page.mentions
        assert sorted(map(repr, figures.unplaced)) == sorted(map(repr, page.unplaced))
        assert (figures.text, figures.quads, figures.left_out) == ("", (), page.left_out)
        assert page.text
        mentions += len(page.mentions) + len(page.unplaced)
        identifying = list(store.quads(pyoxigraph.NamedNode(graph), predicates=[ITS_TA_IDENT_REF]))
        assert {q.predicate for q in identifying} == {ITS_TA_IDENT_REF}
        links += len(identifying)
    assert (mentions, links) == (137, 137)


def test_delete(backend: tuple[str, Store]) -> None:
    _, store = backend
    ingest([SEED], store=store)
    assert delete([SEED_ID, "nope"], store=store) == ([SEED_ID], ["nope"])
    stats = store.stats()
    assert (stats.documents, stats.mentions) == (0, 0)


def test_export_gives_the_same_triples(backend: tuple[str, Store], tmp_path: Path) -> None:
    _, store = backend
    ingest([SEED], store=store)
    with EmbeddedStore.open(tmp_path / "reference") as reference:
        ingest([SEED], store=reference)
        expected = _document_triples(reference)
    assert _document_triples(store) == expected


def _document_triples(store: Store) -> set[str]:
    out = io.BytesIO()
    export(store, out, format=ExportFormat.NTRIPLES, document=SEED_ID)
    triples = pyoxigraph.parse(out.getvalue(), pyoxigraph.RdfFormat.N_TRIPLES)
    # provenance times differ between two ingests; the document's own triples must not
    return {_canonical(t) for t in triples if "w3.org/ns/prov#" not in str(t.predicate)}


def _canonical(triple: pyoxigraph.Triple) -> str:
    """A triple with numbers as numbers: Oxigraph stores xsd:nonNegativeInteger as
    xsd:integer, and Virtuoso writes doubles to six significant digits."""
    obj = triple.object
    if isinstance(obj, pyoxigraph.Literal) and obj.datatype.value.rsplit("#", 1)[-1] in _NUMERIC:
        return f"{triple.subject} {triple.predicate} {float(obj.value):.6g}"
    return str(triple)


_NUMERIC = {"integer", "nonNegativeInteger", "double", "decimal"}


def test_cli_against_the_backend(backend: tuple[str, Store]) -> None:
    location, store = backend
    if isinstance(store, EmbeddedStore):
        store.close()  # the CLI opens the folder itself
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(SEED), "--store", location])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 document loaded")
    csv = runner.invoke(app, ["query", "surface-forms", "-p", "entity=dbr:Pain", "--store", location, "--format", "csv"])
    assert csv.exit_code == 0 and csv.stdout_bytes == b"surface,mentions,documents\r\npain,2,1\r\n"
    ask = runner.invoke(app, ["sparql", "ASK { ?m nif:anchorOf 'cancer pain' }", "--store", location])
    assert ask.stdout == "true\n"
    # With the predeclared prefixes, whose namespace IRIs end in '#': a server's answer was
    # once read as SELECT rows because comment stripping cut the query at the first '#'.
    construct = runner.invoke(
        app,
        ["sparql", "CONSTRUCT { ?m itsrdf:taIdentRef ?r } WHERE { ?m itsrdf:taIdentRef ?r ; nif:anchorOf 'pain' }",
         "--store", location, "--format", "ntriples"],
    )
    assert construct.exit_code == 0, construct.output
    lines = sorted(construct.stdout.strip().splitlines())
    assert len(lines) == 2 and all(line.endswith("<http://dbpedia.org/resource/Pain> .") for line in lines)
    describe = runner.invoke(app, ["sparql", "DESCRIBE dbr:Pain", "--store", location, "--format", "ntriples"])
    assert describe.exit_code == 0, describe.output


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>\nCONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("# a comment with SELECT in it\nDESCRIBE <http://example.org/a#b>", "DESCRIBE"),
        ("PREFIX a: <http://example.org/ask#>\nSELECT ?s WHERE { ?s a:p 'CONSTRUCT' }", "SELECT"),
        ("BASE <http://example.org/#>\nask { ?s ?p ?o }", "ASK"),
    ],
)
def test_query_form_reads_past_the_prologue(query: str, form: str) -> None:
    assert query_form(query) == form


def test_values_block_goes_into_the_first_where() -> None:
    query = "#+ summary: x\n# WHERE { not this one\nSELECT ?e ?n WHERE { ?m ?p ?e }"
    bound = with_values(query, {"e": pyoxigraph.NamedNode(DBR + "Pain"), "n": pyoxigraph.Literal('a"b')})
    assert bound.endswith('SELECT ?e ?n WHERE { VALUES (?e ?n) { (<http://dbpedia.org/resource/Pain> "a\\"b") }  ?m ?p ?e }')


@pytest.mark.parametrize(
    ("url", "query", "update", "graph_store"),
    [
        ("http://h:7878", "http://h:7878/query", "http://h:7878/update", "http://h:7878/store"),
        ("http://h:8890/sparql", "http://h:8890/sparql", "http://h:8890/sparql", "http://h:8890/sparql-graph-crud"),
    ],
)
def test_endpoint_layouts(url: str, query: str, update: str, graph_store: str) -> None:
    assert Endpoints.guess(url) == Endpoints(query, update, graph_store)
    assert Endpoints.guess(url, graph_store="http://x/gsp").graph_store == "http://x/gsp"


def test_unreachable_server_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["stats", "--store", "http://127.0.0.1:9/sparql"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach http://127.0.0.1:9/sparql")


def test_figures_follow_replace_and_delete(backend: tuple[str, Store], tmp_path: Path) -> None:
    _, store = backend
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED.parent, corpus)
    ingest([corpus], store=store)
    seed = corpus / SEED.name
    lines = seed.read_text(encoding="utf-8").split("\n")
    seed.write_text(lines[0] + "\n" + "\n".join(line for line in lines[1:] if "Pain" in line) + "\n", encoding="utf-8")
    assert ingest([corpus], store=store).replaced == 1
    delete(["016c47f14cd178b649ed16cb8c53"], store=store)
    stored, aggregate = _figures(store, STORED_FIGURES), _figures(store, AGGREGATE_FIGURES)
    assert len(stored) == 61 and stored == aggregate
    assert stored[DBR + "Pain"] == ("2", "1", "2", "1.87011", "0.935053")
    forms = _rows_of(store, FORMS_STORED)
    assert forms == _rows_of(store, FORMS_AGGREGATE) and len(forms) > 61
    assert (DBR + "Pain", "pain", "2", "1") in forms
    assert is_current(store)


def _rows_of(store: Store, sparql: str) -> list[tuple[str, ...]]:
    return sorted(tuple(t.value for t in row if t is not None) for row in store.select(sparql).rows)


def _figures(store: Store, sparql: str) -> dict[str, tuple[str, ...]]:
    result = store.select(sparql)
    return {row[0].value: tuple("-" if t is None else f"{float(t.value):.6g}" for t in row[1:]) for row in result.rows}
