"""``graphbuild enrich``: output, exit codes, option checks."""

from __future__ import annotations

import bz2
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SEED
from servers import FaultServer, Reply, VirtuosoServer
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.enrichment import fetch

DATA = Path(__file__).resolve().parent / "data" / "dbpedia"
FIXTURE, ESBM, DOCUMENTS = DATA / "seed-resources.ttl", DATA / "esbm-excerpt.nt", DATA / "documents"
runner = CliRunner()
Faults = Callable[..., FaultServer]


def gb(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    assert gb("ingest", SEED, "--store", path).exit_code == 0
    return path


@pytest.fixture(scope="module")
def virtuoso(virtuoso_server: VirtuosoServer) -> str:
    for path in (FIXTURE, ESBM):
        virtuoso_server.ensure_loaded(path, "http://dbpedia.org")
    return virtuoso_server.query_url


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "DEFAULT_POLICY", fetch.RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, timeout=5))


def test_enrich_prints_a_summary_and_caches(store_dir: Path, virtuoso: str) -> None:
    result = gb("enrich", "--store", store_dir, "--endpoint", virtuoso, "--lang", "en,de")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"5 resources enriched, 0 already cached, 0 not found, 0 failed (1 request to {virtuoso})\n"
    again = gb("enrich", "--store", store_dir, "--endpoint", virtuoso, "--lang", "en,de")
    assert again.stdout == f"0 resources enriched, 5 already cached, 0 not found, 0 failed (0 requests to {virtuoso})\n"
    refresh = gb("enrich", "--store", store_dir, "--endpoint", virtuoso, "--lang", "en,de", "--refresh")
    assert refresh.stdout.startswith("5 resources enriched, 0 already cached")
    rows = gb("query", "suspicious-links", "--store", store_dir, "--format", "csv").stdout.splitlines()
    assert rows[0] == "id,begin,end,surface,entity,labels,confidence"
    assert [row.split(",")[3:5] for row in rows[1:]] == [["self-management", "http://dbpedia.org/resource/Decision_making"]] * 6


def test_redirect_targets_and_misses_in_the_summary(tmp_path: Path, virtuoso: str) -> None:
    store = tmp_path / "store"
    gb("ingest", DOCUMENTS / "redirect-and-disambiguation.txt", "--store", store)
    result = gb("enrich", "--store", store, "--endpoint", virtuoso)
    assert result.stdout == (
        f"3 resources enriched, 0 already cached, 1 not found, 0 failed (1 redirect target followed; 2 requests to {virtuoso})\n"
    )


def test_enrich_from_dump_files(store_dir: Path, tmp_path: Path) -> None:
    dump = tmp_path / "seed.ttl.bz2"
    dump.write_bytes(bz2.compress(FIXTURE.read_bytes()))
    result = gb("enrich", "--store", store_dir, "--from", dump, "--from", ESBM, "--what", "labels,types")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "5 resources enriched, 0 already cached, 0 not found, 0 failed (1 request to 2 dump files (seed.ttl.bz2, esbm-excerpt.nt))\n"
    )
    types = gb("query", "entities-by-type", "-p", "type=dbo:Disease", "--store", store_dir, "--format", "csv")
    assert types.stdout.splitlines() == [
        "entity,label,mentions,documents",
        "http://dbpedia.org/resource/Cancer_pain,Cancer pain,2,1",
        "http://dbpedia.org/resource/Pain,Pain,2,1",
    ]


def test_a_failing_endpoint_exits_1_with_a_clear_message(store_dir: Path, fault_server: Faults, fast_retries: None) -> None:
    server = fault_server([Reply(503)] * 3)
    result = gb("enrich", "--store", store_dir, "--endpoint", server.url)
    assert result.exit_code == 1
    assert result.stdout == f"0 resources enriched, 0 already cached, 0 not found, 5 failed (3 requests to {server.url})\n"
    assert result.stderr == (
        f"Error: {server.url}: gave up after 3 tries: HTTP 503 Service Unavailable; 5 resources not fetched "
        "(they keep what they had; what earlier batches fetched is stored: run again for the rest)\n"
    )


def test_a_broken_dump_is_named_by_file_and_line(store_dir: Path, tmp_path: Path) -> None:
    dump = tmp_path / "broken.nt"
    dump.write_text("<http://dbpedia.org/resource/Pain> <http://www.w3.org/2000/01/rdf-schema#label> \"Pain\"@en .\n<broken\n")
    result = gb("enrich", "--store", store_dir, "--from", dump)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {dump}:2: not valid RDF: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lang", "en;de"], "Error: --lang: 'en;de' is not a language tag (expected e.g. en, de, pt-br)\n"),
        (["--what", "labels,links"], "Error: --what: 'links' is not one of labels, types, abstracts, categories, redirects, sameas\n"),
        (["--endpoint", "http://127.0.0.1:9/sparql", "--from", str(FIXTURE)], "Error: give --endpoint or --from, not both\n"),
        (["--endpoint", "dbpedia.org/sparql"], "Error: --endpoint: 'dbpedia.org/sparql' is not an http(s) URL\n"),
        (["--endpoint", "http://dbpedia.org/spa rql"], "Error: --endpoint: 'http://dbpedia.org/spa rql' is not a valid URL\n"),
        (["--from", "nowhere.ttl"], "Error: --from: nowhere.ttl: no such file\n"),
    ],
    ids=["lang", "what", "both-sources", "endpoint", "endpoint-iri", "from"],
)
def test_bad_options(store_dir: Path, args: list[str], message: str) -> None:
    result = gb("enrich", "--store", store_dir, *args)
    assert (result.exit_code, result.stderr) == (1, message)


def test_no_store(tmp_path: Path) -> None:
    result = gb("enrich", "--store", tmp_path / "none", "--endpoint", "http://127.0.0.1:9/sparql")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: no store at {tmp_path / 'none'}: ingest documents into it first\n"
    )
    assert not (tmp_path / "none").exists()


def test_help_lists_exactly_the_issue_options() -> None:
    result = runner.invoke(app, ["enrich", "--help"])
    options = set(re.findall(r"(--[a-z-]+)", result.stdout))
    assert options == {"--store", "--endpoint", "--lang", "--what", "--refresh", "--from", "--help"}
    assert "(defaulthttps://dbpedia.org/sparql)" in re.sub(r"[\s│]", "", result.stdout)
