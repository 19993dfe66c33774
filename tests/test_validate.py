from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
from conftest import DATA, SEEDS
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.validation.checks import ANCHOR_SLICE, StoredDocument, check_batch
from graphbuild.validation.run import validate

CASES = DATA / "validate"
DOC = "https://w3id.org/graphbuild/doc/"
NIF = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
SHAPES = "https://w3id.org/graphbuild/shapes#"
runner = CliRunner()


def gb(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def load(path: Path, store_dir: Path, *, copies: int = 0) -> Path:
    """A real on-disk store holding a TriG case, or that many copies of it as morphine-NN."""
    text = path.read_text(encoding="utf-8")
    texts = [text.replace("morphine", f"morphine-{i:02}") for i in range(copies)] if copies else [text]
    with EmbeddedStore.open(store_dir) as store:
        for trig in texts:
            store.add(pyoxigraph.parse(trig.encode("utf-8"), format=pyoxigraph.RdfFormat.TRIG))
    return store_dir


@pytest.mark.parametrize("case", sorted(CASES.glob("*.trig")), ids=lambda p: p.stem)
def test_case_prints_exactly_its_violations(case: Path, tmp_path: Path) -> None:
    expected = case.with_suffix(".out").read_text(encoding="utf-8")
    result = gb("validate", "--store", load(case, tmp_path / "store"))
    assert result.stdout == expected
    assert result.exit_code == (0 if expected.endswith(": no violations\n") else 1)


def test_every_case_has_its_expected_output() -> None:
    cases = {p.stem for p in CASES.glob("*.trig")}
    assert cases == {p.stem for p in CASES.glob("*.out")}
    assert len(cases) >= 11


def test_the_seeds_validate_clean(tmp_path: Path) -> None:
    assert gb("ingest", SEEDS, "--store", tmp_path / "s", "--quiet").exit_code == 0
    result = gb("validate", "--store", tmp_path / "s")
    assert (result.exit_code, result.stdout) == (0, "8 documents, 137 mentions checked: no violations\n")


def test_seed_store_report(seed_store: EmbeddedStore) -> None:
    report = validate(seed_store)
    assert (report.documents, report.mentions, report.unplaced, report.violations) == (1, 12, 0, ())
    assert report.conforms


def test_violation_record(tmp_path: Path) -> None:
    with EmbeddedStore.open(load(CASES / "anchor-not-slice.trig", tmp_path / "s"), read_only=True) as store:
        report = validate(store)
    (violation,) = report.violations
    assert violation.document == "morphine"
    assert violation.graph == DOC + "morphine"
    assert violation.focus == DOC + "morphine#char=30,36"
    assert violation.path == NIF + "anchorOf"
    assert violation.values == ('"Zurich"',)
    assert violation.message == 'is not the text slice [30:36], "Zürich"'
    assert (violation.severity, violation.source) == ("Violation", ANCHOR_SLICE)
    assert report.summary == "1 document, 4 mentions checked: 1 violation in 1 document"


def test_json_output(tmp_path: Path) -> None:
    result = gb("validate", "--store", load(CASES / "two-resources.trig", tmp_path / "s"), "--format", "json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert (body["conforms"], body["documents"], body["mentions"], body["unplaced"]) == (False, 1, 4, 0)
    assert body["violations"] == [
        {
            "document": "morphine",
            "graph": DOC + "morphine",
            "focus": DOC + "morphine#char=0,8",
            "path": "http://www.w3.org/2005/11/its/rdf#taIdentRef",
            "values": ["<http://dbpedia.org/resource/Morphine>", "<http://dbpedia.org/resource/Opioid>"],
            "message": "must be exactly one IRI",
            "severity": "Violation",
            "source": SHAPES + "identRef",
        }
    ]


def test_json_output_when_clean(tmp_path: Path) -> None:
    result = gb("validate", "--store", load(CASES / "clean.trig", tmp_path / "s"), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "conforms": True,
        "documents": 2,
        "mentions": 6,
        "unplaced": 1,
        "violations": [],
    }


def test_bad_format_and_missing_store(tmp_path: Path) -> None:
    bad = gb("validate", "--store", load(CASES / "clean.trig", tmp_path / "s"), "--format", "csv")
    assert (bad.exit_code, bad.stderr) == (
        1,
        "Error: --format 'csv' does not fit this result; choose one of table, json\n",
    )
    missing = gb("validate", "--store", tmp_path / "nowhere")
    assert missing.exit_code == 1
    assert missing.stderr.startswith(f"Error: no store at {tmp_path / 'nowhere'}")


@pytest.mark.parametrize("workers", [1, 2])
def test_batches_and_workers_give_every_violation(tmp_path: Path, workers: int) -> None:
    store_dir = load(CASES / "anchor-not-slice.trig", tmp_path / "s", copies=12)
    with EmbeddedStore.open(store_dir, read_only=True) as store:
        # Two documents (106 triples) a batch: 6 batches, with 2 workers in child processes.
        report = validate(store, workers=workers, batch_triples=120)
    assert (report.documents, report.mentions) == (12, 48)
    assert [(v.document, v.focus) for v in report.violations] == [
        (f"morphine-{i:02}", f"{DOC}morphine-{i:02}#char=30,36") for i in range(12)
    ]


def test_graphs_describing_the_same_nodes_are_checked_apart(tmp_path: Path) -> None:
    # The same phrases in two graphs: checked together they would have two anchors each.
    text = (CASES / "clean.trig").read_text(encoding="utf-8").split("\ndoc:lactoferrin {")[0]
    copy = text.replace("doc:morphine {", "<https://w3id.org/graphbuild/doc/morphine-copy> {")
    with EmbeddedStore.open(tmp_path / "s") as store:
        for trig in (text, copy):
            store.add(pyoxigraph.parse(trig.encode("utf-8"), format=pyoxigraph.RdfFormat.TRIG))
        report = validate(store, workers=1)
    assert (report.documents, report.mentions, report.violations) == (2, 8, ())


def test_shapes_accept_non_negative_integer_before_any_store() -> None:
    # Parsed, not stored: the offsets keep the datatype NIF gives them.
    quads = tuple(
        pyoxigraph.parse((CASES / "non-negative-integer.trig").read_bytes(), format=pyoxigraph.RdfFormat.TRIG)
    )
    datatypes = {q.object.datatype.value for q in quads if q.predicate.value == NIF + "beginIndex"}
    assert datatypes == {"http://www.w3.org/2001/XMLSchema#nonNegativeInteger"}
    assert check_batch([StoredDocument(DOC + "morphine", "morphine", quads)]) == []


def test_shapes_reject_an_offset_of_another_datatype() -> None:
    text = (CASES / "clean.trig").read_text(encoding="utf-8").replace("nif:endIndex 26 ;", 'nif:endIndex "26" ;')
    quads = tuple(pyoxigraph.parse(text.encode("utf-8"), format=pyoxigraph.RdfFormat.TRIG))
    morphine = tuple(q for q in quads if q.graph_name == pyoxigraph.NamedNode(DOC + "morphine"))
    (violation,) = check_batch([StoredDocument(DOC + "morphine", "morphine", morphine)])
    assert (violation.focus, violation.path, violation.values) == (
        DOC + "morphine#char=15,26",
        NIF + "endIndex",
        ('"26"',),
    )
    assert (violation.message, violation.source) == ("must be exactly one integer >= 0", SHAPES + "phraseEnd")
