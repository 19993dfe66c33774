"""Tests for the Spotlight JSON reader (graphbuild.readers.spotlight).

Case files live in tests/data/spotlight/ (see its SOURCE.md): real /annotate responses
and edited copies, each with ``<name>.json.expected.json``.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode
from reader_cases import cases, expected, shape

from graphbuild.errors import InputError
from graphbuild.model.quads import document_iri
from graphbuild.model.records import Document, Skipped
from graphbuild.model.vocab import DEFAULT_BASE, GB, ITSRDF, SPOTLIGHT, XSD
from graphbuild.pipeline.ingest import ingest
from graphbuild.readers import InputFormat, read_documents, read_source
from graphbuild.readers.spotlight import EXTENSIONS, read_spotlight
from graphbuild.store.embedded import EmbeddedStore

HERE = Path(__file__).resolve().parent
CASES = HERE / "data" / "spotlight"
GOOD = cases(CASES / "good")
BAD = cases(CASES / "bad")


def test_case_folders_are_complete():
    assert len(GOOD) == 8 and len(BAD) == 7
    for path in GOOD + BAD:
        assert path.with_name(path.name + ".expected.json").is_file(), path
        assert InputFormat.guess(path) is InputFormat.SPOTLIGHT


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_case(path: Path):
    result = shape(path, read_source(path))
    assert result == expected(path)
    assert "errors" not in result


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_case(path: Path):
    result = shape(path, read_source(path))
    assert result == expected(path)
    assert len(result["errors"]) == 1


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_links_are_the_stated_resources_at_their_surface_forms(path: Path):
    """Independently of the reader: each resource, its @surfaceForm at its @offset (UTF-16)."""
    lines = path.read_text(encoding="utf-8").strip().split("\n")
    responses = (
        [json.loads(line) for line in lines] if path.name.startswith("several") else [json.loads("\n".join(lines))]
    )
    documents = list(read_source(path))
    assert len(documents) == len(responses)
    for response, document in zip(responses, documents):
        resources = response.get("Resources", [])
        resources = [resources] if isinstance(resources, dict) else resources
        assert document.text == response["@text"]
        assert len(document.links) == len(resources)
        units = response["@text"].encode("utf-16-le")
        for resource, link in zip(resources, document.links):
            before = units[: 2 * int(resource["@offset"])].decode("utf-16-le")
            assert (link.begin, link.end) == (len(before), len(before) + len(resource["@surfaceForm"]))
            assert link.resource == resource["@URI"]
            assert link.confidence == float(resource["@similarityScore"])
            assert link.support == int(resource["@support"])
            assert link.second_rank == float(resource["@percentageOfSecondRank"])
            assert document.text[link.begin : link.end].lower() == resource["@surfaceForm"].lower()


def test_berlin_in_detail():
    (document,) = read_source(CASES / "good" / "berlin.json")
    assert (document.id, document.annotator, len(document.links)) == ("berlin", SPOTLIGHT.value, 16)
    prussia = document.links[1]
    assert (prussia.surface, prussia.begin, prussia.end) == ("Prussia", 79, 86)
    assert prussia.types == (
        "http://schema.org/Place",
        "http://dbpedia.org/ontology/Place",
        "http://dbpedia.org/ontology/PopulatedPlace",
        "http://schema.org/Country",
        "http://dbpedia.org/ontology/Country",
    )
    assert (prussia.confidence, prussia.support, prussia.second_rank) == (0.7819490774521395, 5158, 0.2629082834645425)
    assert document.links[6].types == ()  # "@types": ""


def test_utf16_offsets_become_code_points():
    (document,) = read_source(CASES / "good" / "astral-offsets-edited.json")
    (link,) = document.links
    assert document.text.startswith("\U0001f393 The")
    assert (link.begin, link.end, document.text[link.begin : link.end]) == (20, 28, "Oklahoma")
    assert document.repairs == ()


def test_type_names_expand_to_iris():
    (document,) = read_source(CASES / "good" / "lone-resource-and-types-edited.json")
    assert document.links[0].types == (
        "http://xmlns.com/foaf/0.1/Person",
        "http://rdf.freebase.com/ns/location.citytown",
        "http://sw.opencyc.org/concept/Mx4rvVjaoJwpEbGdrcN5Y29ycA",
        "http://dbpedia.org/ontology/Place",
        "http://schema.org/Place",
    )


def test_response_without_resources_is_a_document_without_mentions():
    (document,) = read_source(CASES / "good" / "no-resources-edited.json")
    assert isinstance(document, Document)
    assert (document.text, document.links) == ("The University of Oklahoma", ())


def test_one_response_per_line_takes_its_id():
    ids = [d.id for d in read_source(CASES / "good" / "several-per-line.json")]
    assert ids == ["berlin", "oklahoma", "7"]


def test_bad_line_fails_only_its_document():
    items = list(read_source(CASES / "bad" / "line_without_id.json"))
    assert [type(i) for i in items] == [Document, InputError]
    assert items[1].line == 2


def test_empty_file_is_skipped(tmp_path: Path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"\n")
    assert list(read_source(path)) == [Skipped(str(path), "empty file, no response")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"@text": "\\ud800", "Resources": []}',
            '"@text" holds a lone surrogate (\\ud800) at position 0, which is no character',
        ),
        ("[1, 2]", "expected a JSON object: a Spotlight /annotate response"),
        ('{"@text": "x", "Resources": 3}', '"Resources" must be a list of resources'),
        (
            '{"@text": "x", "Resources": [3]}',
            'Resources[0]: expected an object with "@URI", "@surfaceForm" and "@offset"',
        ),
        ('{"id": true, "@text": "x"}', "the id must be a non-empty string or an integer, not True"),
        ('{"@text": "ab", "Resources": [{"@URI": "http://x/a", "@surfaceForm": "a"}]}', 'Resources[0]: no "@offset"'),
        (
            '{"@text": "ab", "Resources": [{"@URI": "http://x/a", "@surfaceForm": "a", "@offset": "0", '
            '"@percentageOfSecondRank": "-1"}]}',
            "Resources[0]: '@percentageOfSecondRank': '-1' is negative",
        ),
        ("\xff", None),
    ],
)
def test_malformed_responses(tmp_path: Path, text: str, message: str | None):
    path = tmp_path / "case.json"
    path.write_bytes(text.encode("utf-8") if message else b"\xff\xfe")
    (error,) = read_source(path)
    assert isinstance(error, InputError)
    assert error.line == 1
    assert error.message == (message or "not valid UTF-8 (byte 0); save the file as UTF-8")


def test_scores_and_types_reach_the_store(tmp_path: Path):
    with EmbeddedStore.open(tmp_path / "s") as store:
        report = ingest([CASES / "good" / "oklahoma.json"], store=store)
        assert (report.loaded, report.mentions) == (1, 7)
        graph = document_iri("oklahoma", DEFAULT_BASE)
        phrase = NamedNode(graph.value + "#char=18,26")
        values = {(q.predicate.value, q.object) for q in store.quads(graph, subject=phrase)}
        context = NamedNode(graph.value + "#char=0,204")
        shared = {(q.predicate.value, q.object) for q in store.quads(graph, subject=context)}
    assert (GB + "support", Literal("47520", datatype=NamedNode(XSD + "integer"))) in values
    assert (GB + "percentageOfSecondRank", Literal("0.31083199190989347", datatype=NamedNode(XSD + "double"))) in values
    assert (ITSRDF + "taConfidence", Literal("0.7628718792600525", datatype=NamedNode(XSD + "double"))) in values
    # The annotator is the same for every link: said once, on the context.
    assert (ITSRDF + "taAnnotatorsRef", SPOTLIGHT) in shared
    assert not any(predicate == ITSRDF + "taAnnotatorsRef" for predicate, _ in values)
    assert (ITSRDF + "taClassRef", NamedNode("http://www.wikidata.org/entity/Q3455524")) in values


def test_standard_input_with_format_spotlight(monkeypatch: pytest.MonkeyPatch):
    data = (CASES / "good" / "nozomi.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    (document,) = read_documents(["-"], format=InputFormat.SPOTLIGHT)
    assert (document.id, document.source, len(document.links)) == ("stdin", "<stdin>", 2)


def test_reader_takes_a_stream():
    data = (CASES / "good" / "nozomi.json").read_bytes()
    (document,) = read_spotlight(io.BytesIO(data), source="x", name="answer.json")
    assert document.id == "answer"
    assert EXTENSIONS == (".json",)
