"""The report site: counts, highlighted mentions at the store's offsets, inert corpus text,
links that resolve, and a real headless Chromium that opens pages without console errors."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph
import pytest
from conftest import DATA, SEED, SEEDS
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.errors import ReportError
from graphbuild.model.vocab import DBR, PREFIXES
from graphbuild.pipeline.ingest import ingest
from graphbuild.query.canned import load_query, run
from graphbuild.report import build_report, documents
from graphbuild.report.gather import Mention
from graphbuild.report.highlight import Mark, segments
from graphbuild.report.network import Edge, strongest
from graphbuild.report.site import MARKER, document_path, page_name, resource_path
from graphbuild.report.tally import Tally
from graphbuild.store.embedded import EmbeddedStore

ENRICHMENT = DATA / "report" / "seed-enrichment.ttl"
ENRICHMENT_GRAPH = pyoxigraph.NamedNode("https://w3id.org/graphbuild/graph/test-enrichment")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
XSD_DOUBLE = "^^http://www.w3.org/2001/XMLSchema#double"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    inside_text: bool = False
    children: list[Element] = field(default_factory=list)


class Page(HTMLParser):
    """Every element of a page with the text inside it, and the text of ``div#text``."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.document_text = ""
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        inside = any(e.attrs.get("id") == "text" for e in self._open)
        element = Element(tag, {k: v or "" for k, v in attrs}, inside_text=inside)
        if self._open:
            self._open[-1].children.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data
        if any(e.attrs.get("id") == "text" for e in self._open):
            self.document_text += data

    def by_attr(self, name: str) -> dict[str, Element]:
        return {e.attrs[name]: e for e in self.elements if name in e.attrs}

    def marks(self) -> list[Element]:
        return [e for e in self.elements if e.inside_text and "mention" in e.attrs.get("class", "").split()]

    def figure_spec(self, figure_id: str) -> dict:
        return json.loads(self.by_attr("id")[f"{figure_id}-spec"].text)


def read(site: Path, path: str) -> Page:
    return Page((site / path).read_text(encoding="utf-8"))


def counts(page: Page) -> dict[str, int]:
    return {name: int(e.text.replace(",", "")) for name, e in page.by_attr("data-count").items() if e.tag == "dd"}


def _store_with(path: Path, *sources: Path) -> EmbeddedStore:
    store = EmbeddedStore.open(path)
    report = ingest(list(sources), store=store)
    assert report.failed == 0
    return store


@pytest.fixture(scope="module")
def seeds_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedStore, Path]]:
    base = tmp_path_factory.mktemp("seeds")
    with _store_with(base / "store", SEEDS) as store:
        build_report(store, base / "site", top=20)
        yield store, base / "site"


@pytest.fixture(scope="module")
def enriched_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedStore, Path]]:
    base = tmp_path_factory.mktemp("enriched")
    with _store_with(base / "store", SEED) as store:
        store.add(_enrichment())
        build_report(store, base / "site")
        yield store, base / "site"


EVIL_TEXT = (
    'Evil <script>window.__pwned = 1; console.error("pwned")</script> text with '
    '<img src=x onerror="window.__pwned = 2"> & "quotes" about pain and <b>bold</b> and pain again.'
)
EVIL_ROWS = [
    ("<b>bold</b>", "0.8", DBR + "Bold"),
    ("pain", "0.3", DBR + "Pain"),
    ("<script>", "0.95", DBR + "Script"),
    ('"><script>window.__pwned = 4</script>', "0.7", DBR + "Nowhere"),
    ("text", "0.6", "javascript:window.__pwned=5"),
]


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedStore, Path]]:
    """A summary file whose text, surface forms, id and IRIs try to inject markup."""
    base = tmp_path_factory.mktemp("evil")
    source = base / "in" / "evil<i>doc.txt"
    source.parent.mkdir()
    rows = "".join(f"{surface:<30}{conf}{XSD_DOUBLE}          {iri}\n\n" for surface, conf, iri in EVIL_ROWS)
    source.write_text(EVIL_TEXT + "\n" + rows, encoding="utf-8")
    with _store_with(base / "store", source) as store:
        build_report(store, base / "site")
        yield store, base / "site"


def test_seed_index_counts(tmp_path: Path, seed_store: EmbeddedStore) -> None:
    build_report(seed_store, tmp_path / "site")
    page = read(tmp_path / "site", "index.html")
    assert counts(page) == {
        "documents": 1,
        "mentions": 12,
        "resources": 5,
        "quads": seed_store.stats().quads,
        "unplaced": 0,
    }
    shares = page.by_attr("data-share")
    assert {name: e.attrs["data-part"] for name, e in shares.items()} == {
        "inferred": "12",
        "ambiguous": "0",
        "unplaced": "0",
    }
    assert shares["inferred"].text.split()[0] == "100.0%"


def test_seeds_index_counts(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    store, site = seeds_site
    page = read(site, "index.html")
    assert counts(page) == {
        "documents": 8,
        "mentions": 137,
        "resources": 70,
        "quads": store.stats().quads,
        "unplaced": 0,
    }
    ambiguous = _count(store, "SELECT (COUNT(?m) AS ?n) WHERE { ?m gb:ambiguousPlacement true }")
    assert ambiguous == 20
    shares = page.by_attr("data-share")
    assert shares["ambiguous"].attrs["data-part"] == "20"
    assert shares["ambiguous"].text.split()[0] == "14.6%"  # 20 of 137


def test_seeds_top_resources_chart(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    store, site = seeds_site
    bars = read(site, "index.html").figure_spec("top-resources")["data"][0]
    expected = run(load_query("top-entities"), {}, store=store)
    # top-entities leaves ties in the store's order; the report breaks them by documents, then IRI.
    ranked = sorted(((row[0].value, int(row[1].value), int(row[2].value)) for row in expected.rows), key=lambda r: (-r[1], -r[2], r[0]))
    top = [(iri, mentions) for iri, mentions, _ in ranked[:20]]
    # Most mentioned on top: plotly draws the first category at the bottom.
    assert list(zip(bars["customdata"][::-1], bars["x"][::-1])) == [(resource_path(iri), n) for iri, n in top]
    assert bars["y"][-1] == "dbr:Förster_resonance_energy_transfer"


def test_seeds_confidence_histogram(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    store, site = seeds_site
    bins = read(site, "index.html").figure_spec("confidences")["data"][0]["y"]
    assert len(bins) == 20
    assert sum(bins) == 137
    at_least_095 = _count(store, "SELECT (COUNT(?m) AS ?n) WHERE { ?m itsrdf:taConfidence ?c FILTER (?c >= 0.95) }")
    assert bins[-1] == at_least_095


def test_min_confidence_leaves_links_out(tmp_path: Path) -> None:
    with _store_with(tmp_path / "store", SEEDS) as store:
        build_report(store, tmp_path / "site", min_confidence=0.99)
        kept = _count(
            store, "SELECT (COUNT(?m) AS ?n) WHERE { ?m a nif:Phrase ; itsrdf:taConfidence ?c FILTER (?c >= 0.99) }"
        )
        seed_page = read(tmp_path / "site", document_path(SEED.stem))
    assert kept == 113
    assert counts(read(tmp_path / "site", "index.html"))["mentions"] == 113
    # The seed's two "pain" mentions (0.935) are left out of its page.
    assert [m.attrs["data-resource"] for m in seed_page.marks()].count(DBR + "Pain") == 0
    assert len(seed_page.marks()) == 10


def test_not_enriched_says_so(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = seeds_site
    page = read(site, "index.html")
    assert "graphbuild enrich" in page.by_attr("id")["enrichment"].text
    assert "top-types" not in page.by_attr("id")


def test_every_mention_is_highlighted_at_its_offsets(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    store, site = seeds_site
    documents = sorted(path.stem for path in SEEDS.glob("*.txt") if path.stat().st_size)
    assert len(documents) == 8
    for doc_id in documents:
        page = read(site, document_path(doc_id))
        text = _text_of(store, doc_id)
        assert page.document_text == text
        marks = page.marks()
        highlighted = []
        for mark in marks:
            begin, end = int(mark.attrs["data-begin"]), int(mark.attrs["data-end"])
            assert mark.text == text[begin:end]
            assert mark.attrs["href"] == "../" + resource_path(mark.attrs["data-resource"])
            highlighted.append((begin, end, mark.attrs["data-resource"], float(mark.attrs["data-confidence"])))
        expected = run(load_query("document-mentions"), {"document": doc_id}, store=store)
        stored = [(int(r[0].value), int(r[1].value), r[3].value, float(r[4].value)) for r in expected.rows]
        assert highlighted == stored, doc_id


def test_mention_tooltip_and_colour(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = seeds_site
    marks = {(m.attrs["data-begin"], m.attrs["data-end"]): m for m in read(site, document_path(SEED.stem)).marks()}
    pain = marks[("725", "729")]
    assert pain.attrs["title"] == "dbr:Pain\nconfidence 0.9350527805613198\noffsets inferred"
    assert pain.attrs["class"].split() == ["mention", "c3", "inferred"]
    assert marks[("77", "92")].attrs["class"].split() == ["mention", "c4", "inferred"]


def test_document_links_its_turtle(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = seeds_site
    page = read(site, document_path(SEED.stem))
    turtle = [e.attrs["href"] for e in page.elements if e.attrs.get("type") == "text/turtle"]
    assert turtle == [page_name(SEED.stem) + ".ttl"]
    graph = pyoxigraph.Store()
    graph.load(path=str(site / "documents" / turtle[0]), format=pyoxigraph.RdfFormat.TURTLE)
    anchors = {
        str(q.object.value)
        for q in graph.quads_for_pattern(None, pyoxigraph.NamedNode(PREFIXES["nif"] + "anchorOf"), None)
    }
    assert anchors == {"palliative care", "self-management", "cancer pain", "focus group", "pain"}


def test_unplaced_and_crossing_mentions_are_listed_apart(evil_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = evil_site
    page = read(site, document_path("evil<i>doc"))
    unplaced = page.by_attr("id")["unplaced"]
    rows = [e for e in unplaced.children[1].children if e.tag == "tr"]
    assert [r.attrs["data-resource"] for r in rows] == [DBR + "Nowhere"]
    assert rows[0].children[0].text == '"><script>window.__pwned = 4</script>'


NESTED_NIF = """\
@prefix nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> .
@prefix itsrdf: <http://www.w3.org/2005/11/its/rdf#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<http://example.org/nyt#char=0,31> a nif:Context ; nif:isString "The New York Times reported it." ;
  nif:beginIndex "0"^^xsd:nonNegativeInteger ; nif:endIndex "31"^^xsd:nonNegativeInteger .
<http://example.org/nyt#char=4,18> a nif:Phrase ; nif:referenceContext <http://example.org/nyt#char=0,31> ;
  nif:anchorOf "New York Times" ; nif:beginIndex "4"^^xsd:nonNegativeInteger ; nif:endIndex "18"^^xsd:nonNegativeInteger ;
  itsrdf:taIdentRef <http://dbpedia.org/resource/The_New_York_Times> ; itsrdf:taConfidence "0.97"^^xsd:double .
<http://example.org/nyt#char=4,12> a nif:Phrase ; nif:referenceContext <http://example.org/nyt#char=0,31> ;
  nif:anchorOf "New York" ; nif:beginIndex "4"^^xsd:nonNegativeInteger ; nif:endIndex "12"^^xsd:nonNegativeInteger ;
  itsrdf:taIdentRef <http://dbpedia.org/resource/New_York_City> .
<http://example.org/nyt#char=13,27> a nif:Phrase ; nif:referenceContext <http://example.org/nyt#char=0,31> ;
  nif:anchorOf "Times reported" ; nif:beginIndex "13"^^xsd:nonNegativeInteger ; nif:endIndex "27"^^xsd:nonNegativeInteger ;
  itsrdf:taIdentRef <http://dbpedia.org/resource/Crossing> ; itsrdf:taConfidence "0.4"^^xsd:double .
"""


def test_nested_mentions_nest_and_crossing_ones_are_listed_apart(tmp_path: Path) -> None:
    source = tmp_path / "nyt.ttl"
    source.write_text(NESTED_NIF, encoding="utf-8")
    with _store_with(tmp_path / "store", source) as store:
        build_report(store, tmp_path / "site")
        doc_id = _rows(store, "SELECT ?id WHERE { ?d dcterms:identifier ?id }")[0][0]
    page = read(tmp_path / "site", document_path(doc_id))
    assert page.document_text == "The New York Times reported it."
    outer, inner = page.marks()
    assert (outer.tag, outer.text, outer.attrs["data-resource"]) == (
        "span",
        "New York Times",
        DBR + "The_New_York_Times",
    )
    assert "href" not in outer.attrs  # links do not nest: the outer one is a span
    assert (inner.tag, inner.text, inner.attrs["data-resource"]) == ("a", "New York", DBR + "New_York_City")
    assert inner in outer.children
    assert (inner.attrs["class"].split()[1], inner.attrs["data-confidence"]) == ("cn", "")
    rejected = page.by_attr("id")["rejected"].children[1].children
    assert [[c.text for c in row.children[:3]] for row in rejected] == [["13", "27", "Times reported"]]


@pytest.mark.parametrize(
    ("spans", "expected", "rejected"),
    [
        pytest.param([(0, 3), (4, 7)], ["[abc]", " ", "[def]", " ghi"], [], id="flat"),
        pytest.param([(0, 7), (4, 7)], ["[abc [def]]", " ghi"], [], id="nested"),
        pytest.param([(0, 7), (0, 7)], ["[[abc def]]", " ghi"], [], id="same-span"),
        pytest.param([(0, 5), (4, 7)], ["[abc d]", "ef ghi"], [(4, 7)], id="crossing"),
        pytest.param([(8, 12), (3, 2), (8, 11)], ["abc def ", "[ghi]"], [(8, 12), (3, 2)], id="outside"),
        pytest.param([], ["abc def ghi"], [], id="none"),
    ],
)
def test_segments(spans: list[tuple[int, int]], expected: list[str], rejected: list[tuple[int, int]]) -> None:
    text = "abc def ghi"
    mentions = [Mention(f"m{i}", "http://x/r", "", b, e, None) for i, (b, e) in enumerate(spans)]
    parts, left = segments(text, mentions)
    assert [_flatten(p) for p in parts] == expected
    assert sorted((m.begin, m.end) for m in left) == sorted(rejected)


def test_resource_page(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = seeds_site
    page = read(site, resource_path(DBR + "Carbon_dioxide"))
    assert counts(page) == {"mentions": 9, "documents": 1}
    forms = page.by_attr("id")["surface-forms"]
    assert [" ".join(c.text for c in row.children) for row in forms.children[1].children] == ["CO2 9"]
    documents = [e.attrs["href"] for e in page.by_attr("id")["documents"].children[1].children[0].children[0].children]
    assert documents == ["../" + document_path("01c45bd04502aed061729efa73e4")]
    co = [r.children[0].children[0].attrs["title"] for r in page.by_attr("id")["co-mentions"].children[1].children]
    assert len(co) == 20 and DBR + "Biodiversity" in co and DBR + "Carbon_dioxide" not in co


def test_network_nodes_and_edges(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    store, site = seeds_site
    spec = read(site, "network.html").figure_spec("network")
    nodes = spec["data"][-1]
    assert len(nodes["customdata"]) == 20
    edges = read(site, "network.html").by_attr("id")["edges"].children[1].children
    pairs = {tuple(sorted(c.children[0].attrs["title"] for c in row.children[:2])) for row in edges}
    top = {
        row[0]
        for row in _rows(
            store,
            "SELECT ?e (COUNT(?m) AS ?n) WHERE { ?m itsrdf:taIdentRef ?e } GROUP BY ?e ORDER BY DESC(?n) ?e LIMIT 20",
        )
    }
    shared = _rows(
        store,
        "SELECT DISTINCT ?a ?b WHERE { ?d schema:mentions ?a , ?b FILTER (STR(?a) < STR(?b)) }",
    )
    expected = {(a, b) for a, b in shared if a in top and b in top}
    assert pairs == expected and len(pairs) > 0


def test_network_draws_each_nodes_strongest_edges() -> None:
    shared = {("x", "y"): 9, ("x", "z"): 8, ("y", "z"): 7, ("y", "w"): 6, ("z", "w"): 5, ("x", "w"): 4}
    edges = [Edge(a, b, n) for (a, b), n in shared.items()]
    # Two per node: x-w is the third of both x and w, every other edge is among the two of an end.
    assert [(e.a, e.b) for e in strongest(edges, per_node=2)] == [pair for pair in shared if pair != ("x", "w")]


def test_every_link_resolves(seeds_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = seeds_site
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 1 + 1 + 1 + 1 + 8 + 70  # index, network, two lists, documents, resources
    for path in pages:
        page = Page(path.read_text(encoding="utf-8"))
        for element in page.elements:
            target = element.attrs.get("href") or element.attrs.get("src")
            if not target or target.startswith(("http://", "https://", "data:")):
                continue
            file_part, _, fragment = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            assert resolved.is_file(), f"{path.relative_to(site)}: {target}"
            if fragment:
                assert fragment in Page(resolved.read_text(encoding="utf-8")).by_attr("id"), target


def test_enriched_index_shows_types_and_suspicious_links(enriched_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = enriched_site
    page = read(site, "index.html")
    assert page.by_attr("id")["enrichment"].text == "5 of 5 resources have a label in the store."
    types = page.figure_spec("top-types")["data"][0]
    assert dict(zip(types["y"], types["x"])) == {"dbo:Disease": 4, "dbo:Activity": 6, "dbo:MedicalSpecialty": 1}
    suspicious = page.by_attr("id")["suspicious"].children[1].children
    assert [row.children[0].text for row in suspicious] == ["self-management"] * 6
    assert page.by_attr("data-count")["suspicious"].text == "6"
    first = suspicious[0].children[0].children[0].attrs["href"]
    assert first == document_path(SEED.stem) + "#m-118-133"


def test_a_redirect_label_clears_a_suspicious_link(tmp_path: Path, seed_store: EmbeddedStore) -> None:
    seed_store.add(_enrichment())
    redirect = pyoxigraph.NamedNode(DBR + "Self-management")
    seed_store.add(
        [
            pyoxigraph.Quad(
                redirect,
                pyoxigraph.NamedNode(PREFIXES["rdfs"] + "label"),
                pyoxigraph.Literal("Self-management", language="en"),
                ENRICHMENT_GRAPH,
            ),
            pyoxigraph.Quad(
                redirect,
                pyoxigraph.NamedNode(PREFIXES["dbo"] + "wikiPageRedirects"),
                pyoxigraph.NamedNode(DBR + "Decision_making"),
                ENRICHMENT_GRAPH,
            ),
        ]
    )
    build_report(seed_store, tmp_path / "site")
    page = read(tmp_path / "site", "index.html")
    assert page.by_attr("data-count")["suspicious"].text == "0"


def test_enriched_tooltip_and_resource_page(enriched_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = enriched_site
    marks = {(m.attrs["data-begin"], m.attrs["data-end"]): m for m in read(site, document_path(SEED.stem)).marks()}
    assert marks[("725", "729")].attrs["title"] == (
        "dbr:Pain\nPain\nconfidence 0.9350527805613198\ntypes: dbo:Disease\noffsets inferred"
    )
    page = read(site, resource_path(DBR + "Pain"))
    assert page.by_attr("class")["abstract"].text.endswith("<script>window.__pwned = 3</script>")
    assert [e.text for e in page.elements if e.tag == "h1"] == ["Pain"]
    assert [e.text for e in page.by_attr("class")["types"].children] == ["dbo:Disease", "owl:Thing"]
    assert "http://www.wikidata.org/entity/Q81938" in {e.attrs.get("href") for e in page.elements}


def test_corpus_text_stays_inert(evil_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = evil_site
    for path in sorted(site.rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        for raw in ("<script>window", "<img src=x", "<b>bold", "<i>doc", '"><script>'):
            assert raw not in html, f"{path}: {raw!r} unescaped"
        page = Page(html)
        for element in page.elements:
            assert element.tag not in ("img", "b", "i"), f"{path}: <{element.tag}> from the corpus"
            assert not any(name.startswith("on") for name in element.attrs), f"{path}: {element.attrs}"
            assert not element.attrs.get("href", "").lower().startswith("javascript:"), path
            if element.tag == "script":
                assert element.attrs.get("type") == "application/json" or element.attrs.get("src", "").endswith(
                    ("assets/plotly.min.js", "assets/report.js")
                ), f"{path}: {element}"
    page = read(site, document_path("evil<i>doc"))
    assert page.document_text == EVIL_TEXT
    assert {m.text for m in page.marks()} >= {"<b>bold</b>", "<script>", "pain"}
    assert [e.text for e in page.elements if e.tag == "h1"] == ["evil<i>doc"]


def test_javascript_iri_is_not_a_link(evil_site: tuple[EmbeddedStore, Path]) -> None:
    _, site = evil_site
    page = read(site, resource_path("javascript:window.__pwned=5"))
    assert page.by_attr("class")["sub"].text == "javascript:window.__pwned=5"
    assert all(not e.attrs.get("href", "").startswith("javascript") for e in page.elements)


def test_output_folder_is_replaced_only_when_it_is_a_report(tmp_path: Path, seed_store: EmbeddedStore) -> None:
    site = tmp_path / "site"
    build_report(seed_store, site)
    (site / "documents" / "stale.html").write_text("old", encoding="utf-8")
    build_report(seed_store, site)
    assert (site / MARKER).is_file() and not (site / "documents" / "stale.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ReportError, match="is not empty and holds no graphbuild report"):
        build_report(seed_store, other)
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_a_failed_build_leaves_the_earlier_report(
    tmp_path: Path, seed_store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    build_report(seed_store, site)
    before = sorted(p.relative_to(site) for p in site.rglob("*"))

    def broken(self: object) -> list:
        raise ReportError("disk on fire")

    monkeypatch.setattr(Tally, "ranking", broken)
    with pytest.raises(ReportError, match="disk on fire"):
        build_report(seed_store, site)
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "store"]  # no partial folder left


def test_worker_processes_write_the_same_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "PAGE_SIZE", 3)  # three list pages, so both workers get some
    _store_with(tmp_path / "store", SEEDS).close()
    with EmbeddedStore.open(tmp_path / "store", read_only=True) as store:
        one = build_report(store, tmp_path / "one", workers=1)
        two = build_report(store, tmp_path / "two", workers=2)
    assert one.pages == two.pages == 1 + 1 + 3 + 1 + 8 + 70
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file())
    assert "documents-3.html" in {f.name for f in files}
    for name in files:
        first, second = (tmp_path / "one" / name).read_bytes(), (tmp_path / "two" / name).read_bytes()
        assert _without_time(first) == _without_time(second), name


def test_cli_report(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    assert runner.invoke(app, ["ingest", str(SEEDS), "--store", str(store)]).exit_code == 0
    args = [
        "report",
        "--store",
        str(store),
        "--output",
        str(tmp_path / "site"),
        "--top",
        "5",
        "--min-confidence",
        "0.5",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == f"wrote {tmp_path / 'site' / 'index.html'}: 8 documents, 70 resources, 137 mentions (82 pages)\n"
    )
    assert len(read(tmp_path / "site", "network.html").figure_spec("network")["data"][-1]["customdata"]) == 5
    bad = runner.invoke(app, ["report", "--store", str(store), "--output", str(SEEDS)])
    assert bad.exit_code == 1
    assert (
        bad.stderr
        == f"Error: --output: {SEEDS} is not empty and holds no graphbuild report; choose an empty or new folder\n"
    )
    missing = runner.invoke(app, ["report", "--store", str(tmp_path / "none"), "--output", str(tmp_path / "x")])
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: no store at")


class Browser:
    """Headless Chromium driven over the DevTools protocol: console errors, exceptions,
    failed loads and a screenshot of each page it opens."""

    def __init__(self, folder: Path) -> None:
        import websocket  # websocket-client, a test dependency

        profile = folder / "profile"
        self.process = subprocess.Popen(
            [
                CHROMIUM or "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1280,1000",
                f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._port(profile / "DevToolsActivePort")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def _port(self, path: Path) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if path.is_file() and path.read_text().strip():
                return int(path.read_text().split()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.process.returncode}")
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port within 30 s")

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def open(self, path: Path, *, settle: str, timeout: float = 30) -> None:
        """Navigate to a file and wait until the JavaScript expression ``settle`` is true."""
        self.events.clear()
        self.call("Page.navigate", url=path.resolve().as_uri())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"document.readyState === 'complete' && ({settle})") is True:
                return
            time.sleep(0.1)
        raise AssertionError(f"{path}: {settle} still false after {timeout} s")

    def evaluate(self, expression: str) -> object:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def errors(self) -> list[str]:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description") or details["text"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console.{params['type']}: {[a.get('value') for a in params.get('args', [])]}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"{params['entry']['source']}: {params['entry']['text']}")
        return found

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH: install Debian's chromium (.ci/run does) to run the browser tests")
    chromium = Browser(tmp_path_factory.mktemp("chromium"))
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: $GRAPHBUILD_SCREENSHOTS if set, else a pytest temporary folder."""
    folder = Path(os.environ.get("GRAPHBUILD_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


FIGURES_DRAWN = (
    "document.querySelectorAll('.js-plotly-plot').length === document.querySelectorAll('[data-figure]').length"
)


def test_the_browser_harness_sees_errors(browser: Browser, tmp_path: Path) -> None:
    """The checks below would pass vacuously if errors went unseen: make some."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><title>x</title><img src="missing.png"><script>console.error("boom"); nope();</script>',
        encoding="utf-8",
    )
    browser.open(page, settle="true")
    errors = browser.errors()
    assert any("boom" in e for e in errors), errors
    assert any("nope is not defined" in e for e in errors), errors
    assert any("ERR_FILE_NOT_FOUND" in e for e in errors), errors


@pytest.mark.parametrize("page", ["index.html", "network.html"])
def test_chromium_draws_the_charts_without_errors(
    browser: Browser, seeds_site: tuple[EmbeddedStore, Path], screenshots: Path, page: str
) -> None:
    _, site = seeds_site
    browser.open(site / page, settle=FIGURES_DRAWN)
    browser.screenshot(screenshots / f"seeds-{page.replace('.html', '.png')}")
    assert browser.errors() == []
    drawn = browser.evaluate("document.querySelectorAll('.js-plotly-plot .main-svg').length")
    assert isinstance(drawn, int) and drawn >= 1
    if page == "index.html":
        bars = browser.evaluate("document.querySelectorAll('#top-resources .bars .point').length")
        assert bars == 20


def test_chromium_opens_a_document_page_without_errors(
    browser: Browser, seeds_site: tuple[EmbeddedStore, Path], screenshots: Path
) -> None:
    _, site = seeds_site
    browser.open(site / document_path(SEED.stem), settle="true")
    browser.screenshot(screenshots / "seed-document.png")
    assert browser.errors() == []
    assert browser.evaluate("document.querySelectorAll('#text a.mention').length") == 12
    assert browser.evaluate("document.getElementById('text').textContent.length") == 1161


def test_chromium_keeps_corpus_markup_inert(
    browser: Browser, evil_site: tuple[EmbeddedStore, Path], screenshots: Path
) -> None:
    _, site = evil_site
    for path in (site / document_path("evil<i>doc"), site / "index.html", site / resource_path(DBR + "Nowhere")):
        browser.open(path, settle="true")
        assert browser.errors() == [], path
        assert browser.evaluate("typeof window.__pwned") == "undefined", path
    browser.open(site / document_path("evil<i>doc"), settle="true")
    browser.screenshot(screenshots / "evil-document.png")
    assert browser.evaluate("document.getElementById('text').textContent") == EVIL_TEXT


def _enrichment() -> list[pyoxigraph.Quad]:
    """The fixture's triples in a graph of their own, as enrichment keeps them."""
    triples = pyoxigraph.parse(path=str(ENRICHMENT), format=pyoxigraph.RdfFormat.TURTLE)
    return [pyoxigraph.Quad(t.subject, t.predicate, t.object, ENRICHMENT_GRAPH) for t in triples]


def _without_time(page: bytes) -> bytes:
    return re.sub(rb" on \d{4}-\d\d-\d\d \d\d:\d\d UTC", b"", page)


def _flatten(part: str | Mark) -> str:
    if isinstance(part, str):
        return part
    return "[" + "".join(_flatten(child) for child in part.children) + "]"


def _rows(store: EmbeddedStore, sparql: str, **bindings: object) -> list[tuple[str, ...]]:
    result = store.select(sparql, bindings=bindings, prefixes=PREFIXES)
    return [tuple(term.value for term in row) for row in result.rows]


def _count(store: EmbeddedStore, sparql: str) -> int:
    return int(_rows(store, sparql)[0][0])


def _text_of(store: EmbeddedStore, doc_id: str) -> str:
    rows = _rows(
        store,
        "SELECT ?id ?text WHERE { GRAPH ?doc { ?doc dcterms:identifier ?id . ?c nif:isString ?text } }",
        id=pyoxigraph.Literal(doc_id),
    )
    return rows[0][1]


def test_a_large_store_gets_no_page_per_document_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphbuild.report import build as report_build

    monkeypatch.setattr(report_build, "DOCUMENT_PAGES_UP_TO", 7)  # the seeds' 8 documents are "large"
    monkeypatch.setattr(documents, "PAGE_SIZE", 3)  # and their list takes three pages
    _store_with(tmp_path / "store", SEEDS).close()
    with EmbeddedStore.open(tmp_path / "store", read_only=True) as store:
        plain = build_report(store, tmp_path / "plain", workers=1)
        asked = build_report(store, tmp_path / "asked", workers=1, document_pages=True)
    assert (plain.document_pages, plain.pages, plain.documents, plain.mentions) == (False, 1 + 1 + 3 + 1 + 70, 8, 137)
    assert (asked.document_pages, asked.pages) == (True, 1 + 1 + 3 + 1 + 8 + 70)
    site = tmp_path / "plain"
    assert not list((site / "documents").iterdir())
    listed = [
        row.children[0].text
        for name in ("documents.html", "documents-2.html", "documents-3.html")
        for row in read(site, name).by_attr("id")["document-list"].children[1].children
    ]
    expected = sorted(p.stem for p in SEEDS.glob("*.txt") if p.stat().st_size)
    assert listed == expected
    assert "graphbuild report --document-pages" in read(site, "documents.html").by_attr("class")["sub"].text
    # The same figures either way, and no link to a page that was not written.
    assert counts(read(site, "index.html")) == counts(read(tmp_path / "asked", "index.html"))
    page = read(site, resource_path(DBR + "Carbon_dioxide"))
    rows = page.by_attr("id")["documents"].children[1].children
    assert [(r.children[0].text, r.children[0].children) for r in rows] == [("01c45bd04502aed061729efa73e4", [])]
    for path in sorted(site.rglob("*.html")):
        for element in Page(path.read_text(encoding="utf-8")).elements:
            target = element.attrs.get("href") or element.attrs.get("src")
            if target and not target.startswith(("http://", "https://", "data:")):
                assert (path.parent / target.partition("#")[0]).resolve().is_file(), f"{path}: {target}"


def test_cli_report_without_document_pages(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    assert runner.invoke(app, ["ingest", str(SEEDS), "--store", str(store)]).exit_code == 0
    result = runner.invoke(app, ["report", "--store", str(store), "--output", str(tmp_path / "site"), "--no-document-pages"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote {tmp_path / 'site' / 'index.html'}: 8 documents, 70 resources, 137 mentions "
        "(74 pages; no page per document: --document-pages writes them)\n"
    )
    assert not list((tmp_path / "site" / "documents").iterdir())
