"""`graphbuild annotate`: exit codes, the summary line and the error lines, against a stand-in Spotlight."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DATA
from servers import FaultServer
from spotlight_standin import StandInSpotlight
from typer.testing import CliRunner, Result

import graphbuild.cli.build as build_commands
from graphbuild.cli import app

TEXTS = DATA / "annotate"
runner = CliRunner()
Spotlights = Callable[..., StandInSpotlight]
SUMMARY = "4 documents annotated in 4 requests, 0 skipped unchanged, 0 failed, 0 empty; 4 loaded, 0 replaced; 26 mentions, 0 unplaced\n"


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_commands, "DEFAULT_POLICY", replace(build_commands.DEFAULT_POLICY, attempts=2, backoff=0.01))


def gb(*args: object, input: str | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_annotate_loads_and_sums_up_and_a_rerun_asks_nothing(tmp_path: Path, spotlight: Spotlights) -> None:
    server = spotlight()
    result = gb("annotate", TEXTS, "--spotlight", server.url, "--store", tmp_path / "s")
    assert (result.exit_code, result.stdout, result.stderr) == (0, SUMMARY, "")
    again = gb("annotate", TEXTS, "--spotlight", server.url, "--store", tmp_path / "s")
    assert again.exit_code == 0
    assert again.stdout == "0 documents annotated in 0 requests, 4 skipped unchanged, 0 failed, 0 empty; 0 loaded, 0 replaced; 0 mentions, 0 unplaced\n"
    stricter = gb("annotate", TEXTS, "--spotlight", server.url, "--store", tmp_path / "s", "--confidence", "0.9", "--support", "40")
    assert stricter.stdout.startswith("4 documents annotated in 4 requests, 0 skipped unchanged, 0 failed, 0 empty; 0 loaded, 4 replaced;")
    assert len(server.requests) == 8
    assert {asked.form["confidence"] for asked in server.requests[4:]} == {"0.9"}
    stats = gb("stats", "--store", tmp_path / "s", "--format", "json")
    assert json.loads(stats.stdout)["documents"] == 4


def test_a_failing_document_is_reported_the_rest_loaded_and_the_exit_status_is_1(tmp_path: Path, spotlight: Spotlights) -> None:
    server = spotlight(broken=["新幹線"])
    result = gb("annotate", TEXTS, "--spotlight", server.url, "--store", tmp_path / "s", "--concurrency", "2")
    assert result.exit_code == 1
    assert result.stderr == (
        f"{TEXTS / 'texts.csv'}:2: document 'nozomi' not annotated: {server.annotate_url}: gave up after 2 tries: "
        "HTTP 500 Internal Server Error: java.lang.NullPointerException\n"
    )
    assert result.stdout == "3 documents annotated in 5 requests, 0 skipped unchanged, 1 failed, 0 empty; 3 loaded, 0 replaced; 24 mentions, 0 unplaced; 1 request retried\n"


def test_output_writes_json_lines_for_ingest(tmp_path: Path, spotlight: Spotlights) -> None:
    server = spotlight()
    answers = tmp_path / "answers.json"
    result = gb("annotate", TEXTS, "--spotlight", server.url, "--output", answers)
    assert result.exit_code == 0
    assert result.stdout == f"4 documents annotated in 4 requests, 0 failed, 0 empty; written to {answers}; 26 mentions, 0 unplaced\n"
    assert not (tmp_path / "graphbuild-store").exists()
    loaded = gb("ingest", answers, "--store", tmp_path / "s")
    assert loaded.stdout == "4 documents loaded, 0 replaced, 0 skipped unchanged, 0 failed, 0 empty; 26 mentions, 0 unplaced\n"


def test_standard_input_is_one_document(tmp_path: Path, spotlight: Spotlights) -> None:
    server = spotlight()
    result = gb("annotate", "-", "--spotlight", server.url, "--store", tmp_path / "s", input="The University of Oklahoma\n")
    assert result.exit_code == 0, result.output
    rows = gb("query", "document-mentions", "-p", "document=stdin", "--store", tmp_path / "s", "--format", "csv")
    assert rows.stdout.splitlines()[1:] == ["18,26,Oklahoma,http://dbpedia.org/resource/Oklahoma,0.7628718792600525,,"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--spotlight", "ftp://example.org/rest"], "Error: the Spotlight URL 'ftp://example.org/rest' is not an http(s) URL\n"),
        (
            ["--spotlight", "https://api.dbpedia-spotlight.org/de", "--lang", "en"],
            "Error: the Spotlight URL https://api.dbpedia-spotlight.org/de serves the language 'de', not 'en'\n",
        ),
    ],
)
def test_bad_settings_exit_1_before_any_request(tmp_path: Path, args: list[str], error: str) -> None:
    result = gb("annotate", TEXTS, *args, "--store", tmp_path / "s")
    assert (result.exit_code, result.stderr, result.stdout) == (1, error, "")


def test_a_url_with_no_spotlight_exits_1(tmp_path: Path, spotlight: Spotlights) -> None:
    wrong = spotlight().url.removesuffix("/rest")
    result = gb("annotate", TEXTS, "--spotlight", wrong, "--store", tmp_path / "s")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {wrong}/annotate: HTTP 404 Not Found: no Spotlight /annotate there;")


def test_a_server_that_is_down_stops_the_run(tmp_path: Path, fault_server: Callable[..., FaultServer]) -> None:
    down = fault_server([])  # answers 503 to everything
    source = tmp_path / "many.jsonl"
    source.write_text("".join(json.dumps({"id": n, "text": f"Text {n}."}) + "\n" for n in range(30)), encoding="utf-8")
    result = gb("annotate", source, "--spotlight", down.url, "--store", tmp_path / "s", "--concurrency", "1")
    assert result.exit_code == 1
    *errors, stopped = result.stderr.splitlines()
    assert len(errors) == 11 and errors[0].startswith(f"{source}:1: document '0' not annotated: ")
    assert stopped.startswith("Error: 10 documents in a row could not be annotated, so no more were sent (the last: ")
    assert result.stdout.startswith("0 documents annotated in 22 requests, 0 skipped unchanged, 11 failed, 0 empty;")


def test_annotate_has_help() -> None:
    result = gb("annotate", "--help")
    assert result.exit_code == 0 and "--spotlight" in result.stdout and "--concurrency" in result.stdout
