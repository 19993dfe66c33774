"""A smoke run of the benchmark runner, and the generator's enrichment dump (figures are
never asserted: benchmarks are not tests)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
from conftest import ROOT

from graphbuild.store.embedded import EmbeddedStore

sys.path.insert(0, str(ROOT / "bench"))

import query_latency
from generate import ENRICHMENT, generate

DBO = "http://dbpedia.org/ontology/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
REDIRECTS = DBO + "wikiPageRedirects"
DISAMBIGUATES = DBO + "wikiPageDisambiguates"
CLASS = re.compile(re.escape(DBO) + r"Class(\d+)$")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict]:
    """One run of the runner on 40 documents: its work folder, table lines and figures."""
    work = tmp_path_factory.mktemp("bench")
    out = work / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--documents", "40", "--repeat", "1", "--work", str(work), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return work / "40", proc.stdout.splitlines(), json.loads(out.read_text())["40"]


def test_runner_prints_the_table(smoke: tuple[Path, list[str], dict]) -> None:
    _, lines, figures = smoke
    assert lines[0] == "| | 40 docs |"
    labels = [line.split(" | ")[0].lstrip("| ") for line in lines[2:]]
    assert labels[:5] == ["quads", "(a) graphbuild ingest", "(b) limit: bulk_load of ready N-Quads", "a/b (target ≥ 0.8)", "(c) rdflib build + serialise"]
    assert labels[6:8] == ["store on disk", "enrich from dump"]
    assert re.fullmatch(r"\| enrich from dump \| [\d.]+ s, [\d,]+ resources/s, [\d,]+ MiB \|", lines[2 + 7])
    assert labels[8:11] == ["optimize: time, disk after", "validate (target ≤ 1× ingest)", "report (target ≤ 1× ingest)"]
    assert re.fullmatch(r"\| optimize: time, disk after \| [\d.]+ s, [\d,]+ → [\d,]+ MiB \|", lines[2 + 8])
    assert re.fullmatch(r"\| validate \(target ≤ 1× ingest\) \| [\d.]+ s = [\d.]+× ingest, [\d,]+ MiB \|", lines[2 + 9])
    # the report of 40 documents: a page per document, and its summary line
    assert figures["report"]["site"]["files"] > 40 and figures["report"]["says"].startswith("wrote ")
    assert figures["validate"]["says"].startswith("40 documents")
    assert {"top-entities", "document-mentions"} <= set(figures["queries"])


def test_runner_enriches_the_store_from_the_dump(smoke: tuple[Path, list[str], dict]) -> None:
    work, _, figures = smoke
    linked = _linked(work / "corpus" / "corpus.jsonl")
    # every linked resource is in the dump, and every redirect target is a linked resource
    assert figures["enrich"]["resources"] == len(linked)
    assert figures["enrich"]["how"] == "graphbuild enrich --from enrichment.nt.gz --what labels,types,redirects"
    with EmbeddedStore.open(work / "store", read_only=True) as store:
        typed = store.select(
            "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { GRAPH ?g { ?e a ?c } "
            "FILTER (STRSTARTS(STR(?c), 'http://dbpedia.org/ontology/Class')) }"
        )
        assert int(next(typed.rows)[0].value) == len(linked)
    # every path wrote every quad: the export holds the ingested quads and the enrichment's,
    # the documents in the full NIF form: each phrase 4 quads more (2 types, the annotator,
    # offsetsInferred), each context 2 fewer (a summary's phrases are all inferred)
    with EmbeddedStore.open(work / "store", read_only=True) as store:
        stats = store.stats()
    exported = sum(1 for _ in (work / "export.nq").open())
    expansion = 4 * stats.mentions - 2 * stats.documents
    assert exported == figures["quads"] + figures["enrich"]["quads"] + expansion
    assert sum(1 for _ in (work / "export-as-stored.nq").open()) == figures["quads"] + figures["enrich"]["quads"]
    assert figures["enrich"]["quads"] > 4 * len(linked)


def test_query_latency_binds_classes_to_type(smoke: tuple[Path, list[str], dict]) -> None:
    work, _, figures = smoke
    members: dict[str, set[str]] = {}
    for triple in _dump(work / "corpus" / ENRICHMENT):
        if triple.predicate.value == TYPE:
            members.setdefault(triple.object.value, set()).add(triple.subject.value)
    ranked = sorted(members, key=lambda c: (-len(members[c]), c))
    parameters = figures["query parameters"]
    for name in ("documents-by-type", "entities-by-type"):
        assert parameters[f"{name} [top]"] == {"type": ranked[0]}
        assert parameters[f"{name} [rank10]"] == {"type": ranked[9]}
        assert f"{name} [rank100]" not in figures["queries"]
    mentions = Counter(link["uri"] for record in _records(work / "corpus" / "corpus.jsonl") for link in record["links"])
    assert parameters["co-mentions [top]"] == {"entity": mentions.most_common(1)[0][0]}
    assert parameters["co-mentions [rank100]"]["entity"].startswith("http://dbpedia.org/resource/")
    assert {"disambiguation-links", "suspicious-links", "documents-by-type [rank10]"} <= set(figures["queries"])
    assert "disambiguation-links" not in parameters


def test_query_latency_skips_type_queries_on_a_store_without_enrichment(seed_store: EmbeddedStore) -> None:
    planned = {figure: values for figure, _, values in query_latency.plan(seed_store)}
    assert not any(figure.startswith(("documents-by-type", "entities-by-type")) for figure in planned)
    assert planned["co-mentions [top]"]["entity"].startswith("http://dbpedia.org/resource/")
    assert planned["disambiguation-links"] == {}


def test_dump_has_the_shape_of_dbpedia_for_the_corpus(tmp_path: Path) -> None:
    counts = generate(tmp_path, documents=2000, formats={"jsonl", "enrichment"})
    linked = _linked(tmp_path / "corpus.jsonl")
    assert counts["resources"] == len(linked) > 1000
    triples = list(_dump(tmp_path / ENRICHMENT))
    assert counts["enrichment triples"] == len(triples)
    by_predicate: dict[str, list[pyoxigraph.Triple]] = {}
    for triple in triples:
        by_predicate.setdefault(triple.predicate.value, []).append(triple)
    assert set(by_predicate) == {LABEL, TYPE, REDIRECTS, DISAMBIGUATES}
    alt = {t.subject.value for t in by_predicate[REDIRECTS] if t.subject.value.endswith("_(alt)")}
    # one English label for every resource and every page redirecting to one
    labels = Counter(t.subject.value for t in by_predicate[LABEL])
    assert set(labels) == linked | alt and set(labels.values()) == {1}
    assert {t.object.language for t in by_predicate[LABEL]} == {"en"}
    # 1-3 of 200 classes each, Zipf-like: the biggest class holds far more than the tenth
    types = Counter(t.subject.value for t in by_predicate[TYPE])
    assert set(types) == linked and set(types.values()) == {1, 2, 3}
    classes = Counter(int(CLASS.match(t.object.value)[1]) for t in by_predicate[TYPE])
    assert max(classes) < 200 and len(classes) > 150
    assert classes.most_common(1)[0][0] == 0 and classes[0] > 5 * classes[9] > 5 * classes[99]
    # redirects and disambiguation pages among the resources, pointing to other resources
    redirects = {t.subject.value: t.object.value for t in by_predicate[REDIRECTS] if t.subject.value not in alt}
    assert set(redirects.values()) <= linked and all(s != o for s, o in redirects.items())
    assert 0.03 < len(redirects) / len(linked) < 0.07
    options: dict[str, set[str]] = {}
    for t in by_predicate[DISAMBIGUATES]:
        options.setdefault(t.subject.value, set()).add(t.object.value)
    assert set(options) <= linked and {len(o) for o in options.values()} == {3}
    assert all(page not in o and o <= linked for page, o in options.items())
    assert 0.01 < len(options) / len(linked) < 0.03
    # a fifth have a page redirecting to them, whose label is the lower-cased name
    assert 0.17 < len(alt) / len(linked) < 0.23
    names = {t.subject.value: t.object.value for t in by_predicate[LABEL]}
    for page in alt:
        assert names[page] == names[page.removesuffix("_(alt)")].lower()
    # labels match the surface forms, but for a few
    surfaces = _surfaces(tmp_path / "corpus.jsonl")
    differing = [iri for iri in linked if _normal(names[iri]) not in {_normal(s) for s in surfaces[iri]}]
    assert 0.015 < len(differing) / len(linked) < 0.045


def test_dump_is_the_same_for_the_same_seed_and_leaves_the_corpus_alone(tmp_path: Path) -> None:
    generate(tmp_path / "a", documents=300, formats={"jsonl", "enrichment"})
    generate(tmp_path / "b", documents=300, formats={"enrichment"})
    generate(tmp_path / "c", documents=300, seed=2, formats={"enrichment"})
    generate(tmp_path / "d", documents=300, formats={"jsonl"})
    assert (tmp_path / "a" / ENRICHMENT).read_bytes() == (tmp_path / "b" / ENRICHMENT).read_bytes()
    assert (tmp_path / "a" / ENRICHMENT).read_bytes() != (tmp_path / "c" / ENRICHMENT).read_bytes()
    assert (tmp_path / "a" / "corpus.jsonl").read_bytes() == (tmp_path / "d" / "corpus.jsonl").read_bytes()
    assert not (tmp_path / "d" / ENRICHMENT).exists()


def _dump(path: Path) -> list[pyoxigraph.Triple]:
    with gzip.open(path, "rb") as stream:
        quads = pyoxigraph.parse(stream, pyoxigraph.RdfFormat.N_TRIPLES)
        return [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads]


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def _linked(path: Path) -> set[str]:
    return {link["uri"] for record in _records(path) for link in record["links"]}


def _surfaces(path: Path) -> dict[str, set[str]]:
    surfaces: dict[str, set[str]] = {}
    for record in _records(path):
        for link in record["links"]:
            surfaces.setdefault(link["uri"], set()).add(link["surface"])
    return surfaces


def _normal(text: str) -> str:
    """As suspicious-links compares them: lower case, no spaces or punctuation."""
    return re.sub(r"[\s\W_]+", "", text).lower()


def test_the_run_at_a_million_keeps_figures_exact_through_a_replace_and_a_delete(tmp_path: Path) -> None:
    # The same stages as the run at a million, on 300 documents: 30 replaced, 30 deleted.
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "million.py"), "--work", str(tmp_path), "--documents", "300",
         "--stages", "generate,convert,load,check,export,change"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["check"]["sampled graphs equal"] > 0
    # Both ended within the time limit: the dump wrote every stored quad, export the full
    # NIF form (more quads than the store holds).
    ours, theirs = figures["export"]["graphbuild export"], figures["export"]["pyoxigraph dump"]
    assert not ours["stopped after the time limit"] and not theirs["stopped after the time limit"]
    assert theirs["quads"] == figures["check"]["quads"] < ours["quads"]
    change = figures["change"]
    assert change["replace"]["says"].startswith("0 documents loaded, 30 replaced, 0 skipped unchanged, 0 failed")
    assert change["delete"]["says"] == "30 documents deleted"
    assert change["figures differing"] == 0
    assert change["resources checked"] > 30
    # Each replaced document lost a link (7 quads, its schema:mentions too where it was the
    # resource's only one), each deleted one all its quads.
    assert change["quads after"] < change["quads before"] - 30 * 7
    assert "| change: replace |" in done.stdout and "| change: delete |" in done.stdout


def test_listing_bench_compares_two_checkouts_on_a_folder() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "listing.py"), "--corpus", str(ROOT / "seeds"), "--baseline", str(ROOT), "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "| 9 sources, median of 1 | find_sources | Advance | runs | memory held |"
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| baseline", "| current", "| current / baseline"]
