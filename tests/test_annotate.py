"""annotate against a stand-in Spotlight (recorded answers) and a fault server, into real stores."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA
from pyoxigraph import NamedNode
from servers import Close, FaultServer, Hang, OxigraphServer, Reply, Trickle
from spotlight_standin import StandInSpotlight, joined, recorded

from graphbuild import __version__
from graphbuild.errors import AnnotateError
from graphbuild.model.quads import document_iri
from graphbuild.model.vocab import DEFAULT_BASE, GB, METADATA_GRAPH, PROV
from graphbuild.pipeline.annotate import GIVE_UP_AFTER, AnnotateReport, annotate
from graphbuild.pipeline.ingest import ingest
from graphbuild.spotlight.client import DEFAULT_POLICY, SpotlightSettings
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.figures import is_current
from graphbuild.store.protocol import metadata_record
from graphbuild.store.remote import Endpoints, RemoteStore

TEXTS = DATA / "annotate"
RECORDED = DATA / "spotlight" / "good"
FAST = replace(DEFAULT_POLICY, attempts=3, backoff=0.01, max_backoff=0.05, max_retry_after=5, timeout=1.5)
Spotlights = Callable[..., StandInSpotlight]
Faults = Callable[..., FaultServer]
# The four texts of tests/data/annotate, with the recordings they come from.
DOCUMENTS = {"berlin": "berlin", "oklahoma": "oklahoma", "graduation": "astral-offsets-edited", "nozomi": "nozomi"}


def settings(where: str, **changes: Any) -> SpotlightSettings:
    """Spotlight at ``where`` asked for everything the recordings hold (confidence 0), tried fast."""
    return replace(SpotlightSettings(where, confidence=0.0, policy=FAST), **changes)


def graph_of(store: EmbeddedStore, doc_id: str) -> set[str]:
    return {str(quad) for quad in store.quads(document_iri(doc_id, DEFAULT_BASE))}


def record_of(store: EmbeddedStore, doc_id: str) -> dict[str, str]:
    return metadata_record(store, document_iri(doc_id, DEFAULT_BASE))


def spans(store: EmbeddedStore, doc_id: str) -> list[tuple[int, int, str]]:
    """(begin, end, anchor) of every mention of a document, from its graph."""
    nodes: dict[str, dict[str, str]] = {}
    for quad in store.quads(document_iri(doc_id, DEFAULT_BASE)):
        nodes.setdefault(str(quad.subject), {})[quad.predicate.value.rsplit("#", 1)[-1]] = quad.object.value
    return sorted((int(n["beginIndex"]), int(n["endIndex"]), n["anchorOf"]) for n in nodes.values() if "anchorOf" in n)


def lines_of(tmp_path: Path, texts: dict[str, str], name: str = "texts.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in texts.items()), encoding="utf-8")
    return path


def test_the_graph_equals_ingesting_the_recorded_answers(tmp_path: Path, spotlight: Spotlights) -> None:
    server = spotlight()
    names = ["berlin", "oklahoma", "nozomi", "astral-offsets-edited"]
    texts = {name: answer["@text"] for name, answer in zip(names, recorded(*names))}
    with EmbeddedStore.open(tmp_path / "annotated") as annotated, EmbeddedStore.open(tmp_path / "ingested") as ingested:
        report = annotate([lines_of(tmp_path, texts)], spotlight=settings(server.url), store=annotated)
        loaded = ingest([RECORDED / f"{name}.json" for name in names], store=ingested)
        assert (report.annotated, report.loaded, report.failed, report.requests) == (4, 4, 0, 4)
        assert (loaded.loaded, loaded.failed) == (4, 0)
        assert report.mentions == loaded.mentions == 16 + 7 + 2 + 1
        for name in names:
            assert graph_of(annotated, name) == graph_of(ingested, name), name
            assert record_of(annotated, name)[GB + "contentHash"] == record_of(ingested, name)[GB + "contentHash"]
        # The astral character before "Oklahoma" counts two UTF-16 units and one code point.
        assert spans(annotated, "astral-offsets-edited") == [(20, 28, "Oklahoma")]


def test_requests_are_form_encoded_and_ask_for_json(tmp_path: Path, spotlight: Spotlights, store: EmbeddedStore) -> None:
    server = spotlight()
    annotate([TEXTS / "texts.csv"], spotlight=settings(server.url, confidence=0.35, support=20), store=store)
    (asked,) = server.requests
    assert asked.path == "/rest/annotate"
    assert asked.accept == "application/json"
    assert asked.form == {"text": "新幹線のぞみで人工知能学会全国大会にやってきた", "confidence": "0.35", "support": "20"}


def test_provenance_records_endpoint_parameters_time_and_version(spotlight: Spotlights, store: EmbeddedStore) -> None:
    server = spotlight()
    given = settings(server.url, confidence=0.5, support=3, language="en")
    annotate([TEXTS / "texts.jsonl"], spotlight=given, store=store)
    record = record_of(store, "oklahoma")
    assert record[GB + "annotationEndpoint"] == server.url + "/annotate"
    assert (record[GB + "annotationConfidence"], record[GB + "annotationSupport"]) == ("0.5", "3")
    assert record[GB + "annotationLanguage"] == "en"
    assert 0.0 < float(record[GB + "annotationSeconds"]) < FAST.timeout
    assert record[GB + "annotationKey"] == given.key(json.loads((TEXTS / "texts.jsonl").read_text().splitlines()[0])["text"])
    assert record[GB + "toolVersion"] == __version__
    assert record[PROV + "wasDerivedFrom"] == (TEXTS / "texts.jsonl").resolve().as_uri()


def test_a_rerun_skips_what_is_stored_without_a_request(spotlight: Spotlights, store: EmbeddedStore) -> None:
    server = spotlight()
    first = annotate([TEXTS], spotlight=settings(server.url), store=store)
    again = annotate([TEXTS], spotlight=settings(server.url), store=store)
    assert (first.annotated, first.unchanged) == (4, 0)
    assert (again.annotated, again.unchanged, again.requests, again.loaded, again.replaced) == (0, 4, 0, 0, 0)
    assert len(server.requests) == 4
    assert again.summary() == (
        "0 documents annotated in 0 requests, 4 skipped unchanged, 0 failed, 0 empty; 0 loaded, 0 replaced; 0 mentions, 0 unplaced"
    )


def test_other_settings_or_another_text_replace_the_document(tmp_path: Path, spotlight: Spotlights, store: EmbeddedStore) -> None:
    server = spotlight()
    annotate([TEXTS], spotlight=settings(server.url), store=store)
    stricter = annotate([TEXTS], spotlight=settings(server.url, confidence=0.9), store=store)
    # At 0.9 the stand-in keeps 13 of Berlin's 16 resources and 4 of Oklahoma's 7, as Spotlight would drop them.
    assert (stricter.annotated, stricter.replaced, stricter.loaded, stricter.mentions) == (4, 4, 0, 13 + 4 + 0 + 2)
    assert record_of(store, "berlin")[GB + "annotationConfidence"] == "0.9"
    assert len(spans(store, "berlin")) == 13
    assert store.stats().documents == 4
    # Support 1 keeps every resource: the same links, yet a new record of how they were made.
    same_links = annotate([TEXTS], spotlight=settings(server.url, confidence=0.9, support=1), store=store)
    assert (same_links.replaced, same_links.unchanged) == (4, 0)
    assert record_of(store, "nozomi")[GB + "annotationSupport"] == "1"
    keys = [q for q in store.quads(METADATA_GRAPH, subject=document_iri("nozomi", DEFAULT_BASE)) if q.predicate.value == GB + "annotationKey"]
    assert len(keys) == 1
    changed = lines_of(tmp_path, {"oklahoma": "Delta Dental of Oklahoma"})
    replaced = annotate([changed], spotlight=settings(server.url, confidence=0.9, support=1), store=store)
    assert (replaced.replaced, replaced.mentions) == (1, 1)
    assert spans(store, "oklahoma") == [(0, 12, "Delta Dental")]
    assert is_current(store)


def test_a_long_text_in_parts_gives_the_mentions_of_the_whole(tmp_path: Path, spotlight: Spotlights) -> None:
    # Real answers joined into one long text, astral characters between them and in them.
    long = joined(recorded("berlin", "astral-offsets-edited", "oklahoma", "nozomi", "astral-offsets-edited"), " 🎓 ")
    server = spotlight([long])
    source = lines_of(tmp_path, {"long": long["@text"]})
    with EmbeddedStore.open(tmp_path / "whole") as whole, EmbeddedStore.open(tmp_path / "parts") as parted:
        at_once = annotate([source], spotlight=settings(server.url), store=whole)
        assert (at_once.requests, at_once.split) == (1, 0)
        in_parts = annotate([source], spotlight=settings(server.url, max_chars=200), store=parted)
        assert in_parts.split == 1 and in_parts.requests == len(server.requests) - 1 >= 5
        assert all(len(asked.text) <= 200 for asked in server.requests[1:])
        assert graph_of(parted, "long") == graph_of(whole, "long")
        assert len(spans(whole, "long")) == 16 + 1 + 7 + 2 + 1
        text = long["@text"]
        assert all(text[begin:end] == anchor for begin, end, anchor in spans(parted, "long"))
        assert in_parts.summary().endswith("; 27 mentions, 0 unplaced; 1 document sent in parts")


def test_a_part_the_server_refuses_as_too_large_is_cut_in_halves(tmp_path: Path, spotlight: Spotlights) -> None:
    long = joined(recorded("berlin", "astral-offsets-edited", "oklahoma"), " 🎓 ")
    server = spotlight([long], max_chars=300)
    source = lines_of(tmp_path, {"long": long["@text"], "short": "The University of Oklahoma"})
    with EmbeddedStore.open(tmp_path / "s") as store:
        report = annotate([source], spotlight=settings(server.url), store=store, concurrency=1)
        assert (report.annotated, report.failed, report.split) == (2, 0, 1)
        assert len(spans(store, "long")) == 16 + 1 + 7
        # 803 characters refused, then 305 of its first half; the rest went in parts of 200 at most.
        assert sorted(len(asked.text) for asked in server.requests if len(asked.text) > 300) == [305, len(long["@text"])]
        assert [asked.text for asked in server.requests].count("The University of Oklahoma") == 1


def test_output_writes_spotlight_json_lines_that_ingest_reads(tmp_path: Path, spotlight: Spotlights) -> None:
    server = spotlight()
    for name in ("answers.json", "answers.json.gz"):
        report = annotate([TEXTS], spotlight=settings(server.url), output=tmp_path / name)
        assert report.summary() == (
            f"4 documents annotated in 4 requests, 0 failed, 0 empty; written to {tmp_path / name}; 26 mentions, 0 unplaced"
        )
    assert gzip.decompress((tmp_path / "answers.json.gz").read_bytes()) == (tmp_path / "answers.json").read_bytes()
    lines = [json.loads(line) for line in (tmp_path / "answers.json").read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["berlin", "nozomi", "oklahoma", "graduation"]
    assert list(lines[0])[:2] == ["id", "@text"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["answers.json", "answers.json.gz"]
    with EmbeddedStore.open(tmp_path / "a") as annotated, EmbeddedStore.open(tmp_path / "i") as ingested:
        annotate([TEXTS], spotlight=settings(server.url), store=annotated)
        assert ingest([tmp_path / "answers.json.gz"], store=ingested).loaded == 4
        for doc_id in DOCUMENTS:
            assert graph_of(annotated, doc_id) == graph_of(ingested, doc_id)


def test_answers_come_in_reading_order_whatever_answers_first(tmp_path: Path, spotlight: Spotlights) -> None:
    server = spotlight(slow={"Berlin": 1.0})
    report = annotate([TEXTS], spotlight=settings(server.url), output=tmp_path / "out.json", concurrency=4)
    assert report.annotated == 4
    ids = [json.loads(line)["id"] for line in (tmp_path / "out.json").read_text(encoding="utf-8").splitlines()]
    assert ids == ["berlin", "nozomi", "oklahoma", "graduation"]
    berlin = next(asked for asked in server.requests if "Berlin" in asked.text)
    assert any(asked.at < berlin.answered for asked in server.requests if asked is not berlin)  # asked at once


def test_an_annotated_store_on_a_server_skips_too(spotlight: Spotlights, oxigraph_server: OxigraphServer) -> None:
    server = spotlight()
    base = "https://w3id.org/graphbuild/test-annotate/"
    with RemoteStore.open(Endpoints.guess(oxigraph_server.query_url.rsplit("/", 1)[0])) as remote:
        first = annotate([TEXTS / "texts.jsonl"], spotlight=settings(server.url), store=remote, base=base)
        again = annotate([TEXTS / "texts.jsonl"], spotlight=settings(server.url), store=remote, base=base)
        assert (first.loaded, again.unchanged, again.requests) == (2, 2, 0)
        assert metadata_record(remote, NamedNode(base + "graduation"))[GB + "annotationLanguage"] == "en"


# --- when Spotlight misbehaves ---------------------------------------------------------------


def faulty(fault_server: Faults, spotlight: Spotlights, script: list[object]) -> FaultServer:
    """A fault server that plays ``script``, then passes requests on to a stand-in Spotlight."""
    return fault_server(script, spotlight().annotate_url)


def test_a_server_error_is_retried(fault_server: Faults, spotlight: Spotlights, store: EmbeddedStore) -> None:
    fault = faulty(fault_server, spotlight, [Reply(500, body=b"java.lang.NullPointerException\n\tat org.dbpedia"), Reply(502)])
    report = annotate([TEXTS / "texts.csv"], spotlight=settings(fault.url), store=store)
    assert [seen.answered for seen in fault.requests] == ["Reply", "Reply", "Proxy"]
    assert (report.annotated, report.requests, report.retries, report.failed) == (1, 3, 2, 0)
    assert spans(store, "nozomi") == [(3, 6, "のぞみ"), (7, 13, "人工知能学会")]


def test_429_waits_as_long_as_retry_after_says(fault_server: Faults, spotlight: Spotlights, store: EmbeddedStore) -> None:
    fault = faulty(fault_server, spotlight, [Reply(429, {"Retry-After": "1"}, b"Rate limit exceeded")])
    report = annotate([TEXTS / "texts.csv"], spotlight=settings(fault.url), store=store)
    assert report.annotated == 1
    first, second = fault.requests
    assert second.at - first.at >= 1.0  # the backoff alone would have waited 0.01 s


def test_a_silent_or_trickling_server_is_cut_off_and_asked_again(fault_server: Faults, spotlight: Spotlights, store: EmbeddedStore) -> None:
    fault = faulty(fault_server, spotlight, [Hang(), Trickle(0.2)])
    report = annotate([TEXTS / "texts.csv"], spotlight=settings(fault.url), store=store)
    assert [seen.answered for seen in fault.requests] == ["Hang", "Trickle", "Proxy"]
    assert (report.annotated, report.retries) == (1, 2)


def test_a_dropped_connection_and_garbage_are_retried(fault_server: Faults, spotlight: Spotlights, store: EmbeddedStore) -> None:
    garbage = Reply(200, {"Content-Type": "text/html"}, b"<html><body>Service Temporarily Unavailable</body></html>")
    fault = faulty(fault_server, spotlight, [Close(), garbage])
    report = annotate([TEXTS / "texts.csv"], spotlight=settings(fault.url), store=store)
    assert [seen.answered for seen in fault.requests] == ["Close", "Reply", "Proxy"]
    assert report.annotated == 1


def test_a_document_whose_requests_keep_failing_is_reported_and_left_out(
    fault_server: Faults, spotlight: Spotlights, store: EmbeddedStore
) -> None:
    garbage = Reply(200, {"Content-Type": "text/html"}, b"<html><body>Service Temporarily Unavailable</body></html>")
    fault = faulty(fault_server, spotlight, [garbage] * 3 + [Reply(429, {"Retry-After": "3600"})])
    report = annotate([TEXTS], spotlight=settings(fault.url), store=store, concurrency=1)
    endpoint = fault.url + "/annotate"
    assert [str(error) for error in report.errors] == [
        f"{TEXTS / 'berlin.txt'}: document 'berlin' not annotated: {endpoint}: gave up after 3 tries: answered something "
        "that is not Spotlight JSON (Expecting value: line 1 column 1 (char 0)): '<html><body>Service Temporarily Unavailable</body></html>'",
        f"{TEXTS / 'texts.csv'}:2: document 'nozomi' not annotated: {endpoint}: HTTP 429 Too Many Requests; "
        "it asks to wait 3600 s, longer than the 5 s graphbuild waits",
    ]
    assert (report.annotated, report.loaded, report.failed, report.ok) == (2, 2, 2, False)
    assert store.stats().documents == 2
    assert report.summary() == (
        "2 documents annotated in 6 requests, 0 skipped unchanged, 2 failed, 0 empty; 2 loaded, 0 replaced; "
        "8 mentions, 0 unplaced; 2 requests retried"
    )


def test_server_errors_for_some_texts_leave_the_others_written(spotlight: Spotlights, store: EmbeddedStore) -> None:
    server = spotlight(broken=["Oklahoma"])
    report = annotate([TEXTS], spotlight=settings(server.url), store=store)
    assert [str(error) for error in report.errors] == [
        f"{TEXTS / 'texts.jsonl'}:{line}: document {doc_id!r} not annotated: {server.annotate_url}: gave up after 3 tries: "
        "HTTP 500 Internal Server Error: java.lang.NullPointerException"
        for line, doc_id in ((1, "oklahoma"), (2, "graduation"))
    ]
    assert sorted(record_of(store, doc_id) != {} for doc_id in DOCUMENTS) == [False, False, True, True]
    again = annotate([TEXTS], spotlight=settings(server.url), store=store)
    assert (again.unchanged, again.failed, again.requests) == (2, 2, 6)  # only the failed are asked again


def test_after_enough_failures_in_a_row_no_more_is_asked(tmp_path: Path, fault_server: Faults, store: EmbeddedStore) -> None:
    fault = fault_server([])  # no upstream: every request is answered 503
    source = lines_of(tmp_path, {f"doc-{n}": f"Text number {n}." for n in range(GIVE_UP_AFTER + 5)})
    report = annotate([source], spotlight=settings(fault.url, policy=replace(FAST, attempts=2)), store=store, concurrency=1)
    # The tenth failure stops the reading; the one document already sent still comes back.
    assert (report.failed, report.requests, report.annotated) == (GIVE_UP_AFTER + 1, 2 * (GIVE_UP_AFTER + 1), 0)
    assert report.stopped == (
        f"{GIVE_UP_AFTER} documents in a row could not be annotated, so no more were sent (the last: document 'doc-9' not "
        f"annotated: {fault.url}/annotate: gave up after 2 tries: HTTP 503 Service Unavailable: no upstream); "
        f"rerun once {fault.url}/annotate answers"
    )
    assert not report.ok


def test_a_url_with_no_spotlight_stops_at_once(spotlight: Spotlights, store: EmbeddedStore) -> None:
    server = spotlight()
    wrong = server.url.removesuffix("/rest")
    with pytest.raises(AnnotateError) as info:
        annotate([TEXTS], spotlight=settings(wrong), store=store, concurrency=1)
    assert str(info.value) == (
        f"{wrong}/annotate: HTTP 404 Not Found: no Spotlight /annotate there; the URL to give is the "
        "base before /annotate (http://localhost:2222/rest for Spotlight's Docker image)"
    )
    texts = [asked.text for asked in server.requests]
    assert len(set(texts)) == len(texts)  # never asked twice
    assert store.stats().documents == 0


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"url": "ftp://example.org/rest"}, "the Spotlight URL 'ftp://example.org/rest' is not an http(s) URL"),
        ({"url": "https://api.dbpedia-spotlight.org/de"}, "the Spotlight URL https://api.dbpedia-spotlight.org/de serves the language 'de', not 'en'"),
        ({"confidence": 1.5}, "the confidence must be in [0, 1], not 1.5"),
        ({"language": "English"}, "the language must be a language code such as en or pt-BR, not 'English'"),
        ({"max_chars": 10}, "the longest part of a text sent must be 200 characters or more, not 10"),
    ],
)
def test_bad_settings_are_refused_before_any_request(store: EmbeddedStore, changes: dict[str, object], problem: str) -> None:
    with pytest.raises(AnnotateError) as info:
        annotate([TEXTS], spotlight=settings("http://127.0.0.1:9/rest", **changes), store=store)
    assert str(info.value) == problem


def test_a_store_or_an_output_file_not_both(tmp_path: Path, store: EmbeddedStore) -> None:
    for where in ({}, {"store": store, "output": tmp_path / "x.json"}):
        with pytest.raises(AnnotateError) as info:
            annotate([TEXTS], spotlight=settings("http://127.0.0.1:9/rest"), **where)
        assert str(info.value) == "annotate writes into a store or into an output file: give one of the two"


# --- stopped half-way ------------------------------------------------------------------------


class _Interrupt:
    """A progress callback that presses Ctrl-C once ``after`` documents are done."""

    def __init__(self, after: int) -> None:
        self.after = after

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        assert (stage, total) == ("documents", 4)
        if done == self.after:
            raise KeyboardInterrupt


def test_ctrl_c_leaves_every_stored_document_whole(spotlight: Spotlights, store: EmbeddedStore) -> None:
    server = spotlight()
    with pytest.raises(KeyboardInterrupt):
        annotate([TEXTS], spotlight=settings(server.url), store=store, progress=_Interrupt(2))
    assert sorted(doc_id for doc_id in DOCUMENTS if record_of(store, doc_id)) == ["berlin", "nozomi"]
    documents = {str(quad.graph_name) for quad in store.quads() if quad.graph_name.value.startswith(DEFAULT_BASE)}
    assert documents == {f"<{DEFAULT_BASE}berlin>", f"<{DEFAULT_BASE}nozomi>"}  # no graph without its record
    assert is_current(store)
    rest = annotate([TEXTS], spotlight=settings(server.url), store=store)
    assert (rest.unchanged, rest.annotated, rest.loaded) == (2, 2, 2)


def test_ctrl_c_leaves_no_output_file(tmp_path: Path, spotlight: Spotlights) -> None:
    server = spotlight()
    with pytest.raises(KeyboardInterrupt):
        annotate([TEXTS], spotlight=settings(server.url), output=tmp_path / "out.json", progress=_Interrupt(3))
    assert list(tmp_path.iterdir()) == []


def test_the_report_sums_up_a_run_with_everything() -> None:
    report = AnnotateReport(annotated=5, requests=9, retries=2, split=1, unchanged=3, failed=1, empty=1, loaded=4, replaced=1, mentions=40, unplaced=2)
    assert report.summary() == (
        "5 documents annotated in 9 requests, 3 skipped unchanged, 1 failed, 1 empty; 4 loaded, 1 replaced; "
        "40 mentions, 2 unplaced; 2 requests retried; 1 document sent in parts"
    )
