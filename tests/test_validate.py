from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph
import pytest
from conftest import DATA, SEEDS
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.validation.checks import (
    ANCHOR_SLICE,
    StoredDocument,
    check_batch,
    check_document,
    check_twins,
    properties,
    sparql_twin,
)
from graphbuild.validation.run import validate
from graphbuild.validation.shapes import SHAPES as SHAPES_FILE
from graphbuild.validation.shapes import ShapesError, compile_shapes

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
    heard: list[tuple[str, int, int | None]] = []
    report = validate(seed_store, progress=lambda *call: heard.append(call))
    assert (report.documents, report.mentions, report.unplaced, report.violations) == (1, 12, 0, ())
    assert report.conforms
    # Every named graph but the metadata graph is read, and the bar ends at its total.
    graphs = len(seed_store.graphs()) - 1
    assert heard[-1] == ("graphs", graphs, graphs)


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
def test_jobs_and_workers_give_every_violation(tmp_path: Path, workers: int) -> None:
    store_dir = load(CASES / "anchor-not-slice.trig", tmp_path / "s", copies=12)
    heard: list[tuple[str, int, int | None]] = []
    with EmbeddedStore.open(store_dir, read_only=True) as store:
        # Five graph names a job: 3 jobs, with 2 workers in child processes that open the store.
        report = validate(store, workers=workers, job_graphs=5, progress=lambda *call: heard.append(call))
    assert (report.documents, report.mentions) == (12, 48)
    assert [(v.document, v.focus) for v in report.violations] == [
        (f"morphine-{i:02}", f"{DOC}morphine-{i:02}#char=30,36") for i in range(12)
    ]
    assert heard == [("graphs", 5, 12), ("graphs", 10, 12), ("graphs", 12, 12)]


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


# The compiled checks against the shapes file they come from.

XSD = "http://www.w3.org/2001/XMLSchema#"
ITS = "http://www.w3.org/2005/11/its/rdf#"


def _lactoferrin() -> tuple[pyoxigraph.Quad, ...]:
    quads = pyoxigraph.parse((CASES / "clean.trig").read_bytes(), format=pyoxigraph.RdfFormat.TRIG)
    return tuple(q for q in quads if q.graph_name == pyoxigraph.NamedNode(DOC + "lactoferrin"))


def _mutants() -> list[tuple[str, tuple[pyoxigraph.Quad, ...]]]:
    """The lactoferrin document with one checked value dropped, doubled or replaced, every way."""
    quads = _lactoferrin()
    checked = {NIF + p for p in ("anchorOf", "beginIndex", "endIndex", "isString", "referenceContext")}
    checked |= {ITS + "taIdentRef", ITS + "taConfidence"}
    replacements = [
        pyoxigraph.Literal("-3", datatype=pyoxigraph.NamedNode(XSD + "integer")),
        pyoxigraph.Literal("7", datatype=pyoxigraph.NamedNode(XSD + "decimal")),
        pyoxigraph.Literal("0.5", datatype=pyoxigraph.NamedNode(XSD + "double")),
        pyoxigraph.Literal("1.5", datatype=pyoxigraph.NamedNode(XSD + "double")),
        pyoxigraph.Literal("999", datatype=pyoxigraph.NamedNode(XSD + "integer")),
        pyoxigraph.Literal("iron"),
        pyoxigraph.Literal("iron", language="en"),
        pyoxigraph.NamedNode("http://dbpedia.org/resource/Iron"),
        pyoxigraph.NamedNode(DOC + "lactoferrin#char=0,11"),
    ]
    mutants = []
    for index, quad in enumerate(quads):
        if quad.predicate.value not in checked:
            continue
        rest = quads[:index] + quads[index + 1 :]
        name = f"{quad.subject.value.rpartition('#')[2]} {quad.predicate.value.rpartition('#')[2]}"
        mutants.append((f"{name} dropped", rest))
        for value in replacements:
            changed = pyoxigraph.Quad(quad.subject, quad.predicate, value, quad.graph_name)
            mutants.append((f"{name} = {value}", (*rest, changed)))
            if value != quad.object:
                mutants.append((f"{name} += {value}", (*quads, changed)))
    return mutants


def _pyshacl(documents: list[tuple[pyoxigraph.Quad, ...]]) -> list[set[tuple[str, str, tuple[str, ...], str, str]]]:
    """(focus, path, values, message, source) of each result of pyshacl, per document.

    One pyshacl run over all the documents, each moved under an IRI of its own (a run per
    document would take minutes), its SPARQL parsed once as the validator used to.
    """
    import pyshacl
    import rdflib
    from rdflib.namespace import SH
    from rdflib.plugins.sparql import prepareQuery

    prepared: dict[str, object] = {}

    class Data(rdflib.Graph):
        def query(self, query_object: object, *args: object, **kwargs: object) -> object:
            if isinstance(query_object, str):
                query_object = prepared.setdefault(query_object, prepareQuery(query_object))
            return super().query(query_object, *args, **kwargs)

    def moved(term: object, n: int) -> object:
        if isinstance(term, pyoxigraph.NamedNode) and term.value.startswith(DOC):
            return pyoxigraph.NamedNode(f"{DOC}{n}/{term.value[len(DOC):]}")
        return term

    triples = [
        pyoxigraph.Triple(moved(q.subject, n), q.predicate, moved(q.object, n))
        for n, quads in enumerate(documents)
        for q in quads
    ]
    data = Data().parse(data=pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES), format="nt")
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    found: list[set[tuple[str, str, tuple[str, ...], str, str]]] = [set() for _ in documents]
    for result in report.objects(None, SH.result):
        focus, path, value = (report.value(result, p) for p in (SH.focusNode, SH.resultPath, SH.value))
        values = [value] if value is not None else sorted(data.objects(focus, path), key=str)
        n, _, rest = str(focus)[len(DOC) :].partition("/")
        shown = tuple(_back(v.n3() if not isinstance(v, rdflib.Literal) or v.language else str(v)) for v in values)
        message = str(report.value(result, SH.resultMessage))
        found[int(n)].add((DOC + rest, str(path), shown, message, str(report.value(result, SH.sourceShape))))
    return found


def _back(shown: str) -> str:
    return re.sub(r"(https://w3id.org/graphbuild/doc/)\d+/", r"\1", shown)


def _compiled(quads: tuple[pyoxigraph.Quad, ...]) -> set[tuple[str, str, tuple[str, ...], str, str]]:
    found = set()
    for v in check_document(StoredDocument(DOC + "lactoferrin", "lactoferrin", quads)):
        if v.source == ANCHOR_SLICE:
            continue
        terms = [_parsed_term(value) for value in v.values]
        shown = tuple(t.value if isinstance(t, pyoxigraph.Literal) and not t.language else _n3(t) for t in terms)
        found.add((v.focus, v.path or "", shown, v.message, v.source))
    return found


def _parsed_term(ntriples: str) -> pyoxigraph.NamedNode | pyoxigraph.Literal:
    triple = next(iter(pyoxigraph.parse(f"<x:s> <x:p> {ntriples} .".encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)))
    assert isinstance(triple.object, (pyoxigraph.NamedNode, pyoxigraph.Literal))
    return triple.object


def _n3(term: pyoxigraph.NamedNode | pyoxigraph.Literal) -> str:
    return f"<{term.value}>" if isinstance(term, pyoxigraph.NamedNode) else f'"{term.value}"@{term.language}'


def test_the_compiled_checks_find_what_pyshacl_finds() -> None:
    # Ways of breaking one checked value of a document, run through both: same results. Every
    # 12th of the ~300 mutants: pyshacl takes half a second for each (the twins test takes all).
    mutants = _mutants()[::12]
    assert len(mutants) > 20
    broken = 0
    for (name, quads), expected in zip(mutants, _pyshacl([quads for _, quads in mutants])):
        assert _compiled(quads) == expected, name
        broken += bool(expected)
    assert broken > 15  # most mutants break a rule: the comparison is not between empty sets


def test_each_sparql_constraint_agrees_with_its_twin() -> None:
    # The constraint's own SELECT, run by Oxigraph, against the Python function that stands for it.
    shapes = compile_shapes(SHAPES_FILE)
    prologue = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in shapes.prefixes.items())
    rules = shapes.sparql_rules()
    assert sorted(rules) == [SHAPES + "contextSpan", SHAPES + "phraseInsideText", SHAPES + "phraseOrder"]
    rows_seen = 0
    for _, quads in [("as is", _lactoferrin()), *_mutants()]:
        graph = pyoxigraph.Store()
        graph.extend(pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in quads)
        props = properties(quads)
        for iri, rule in rules.items():
            message_vars = re.findall(r"\{[?$](\w+)\}", rule.message)
            by_sparql = {
                (row["this"], row["value"], tuple(row[v].value for v in message_vars))
                for row in graph.query(prologue + rule.select.replace("$this", "?this"))
            }
            by_twin = {
                (focus, value, tuple(bound[v].value for v in message_vars))
                for focus in props
                for _, value, bound in sparql_twin(rule)(focus, props)
            }
            assert by_twin == by_sparql, (iri, quads)
            rows_seen += len(by_sparql)
    assert rows_seen > 20


def test_shapes_the_checker_does_not_implement_are_refused(tmp_path: Path) -> None:
    text = SHAPES_FILE.read_text(encoding="utf-8")
    pattern = tmp_path / "pattern.ttl"
    pattern.write_text(text.replace("sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ;", 'sh:pattern "^x" ;', 1))
    with pytest.raises(ShapesError, match=r"gbsh:phraseAnchor|phraseAnchor: http://www.w3.org/ns/shacl#pattern on a property shape is not implemented"):
        compile_shapes(pattern)
    extra = tmp_path / "extra.ttl"
    extra.write_text(text.replace("sh:sparql gbsh:contextSpan .", "sh:sparql gbsh:contextSpan , gbsh:phraseOrderAgain .") + (
        '\ngbsh:phraseOrderAgain a sh:SPARQLConstraint ; sh:message "again" ; sh:prefixes gbsh: ;\n'
        '    sh:select "SELECT $this WHERE { $this nif:beginIndex ?b }" .\n'
    ))
    with pytest.raises(ShapesError, match="SPARQL constraints without a Python twin: https://w3id.org/graphbuild/shapes#phraseOrderAgain; twins without one: none"):
        check_twins(compile_shapes(extra))
    check_twins(compile_shapes(SHAPES_FILE))
