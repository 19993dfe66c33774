"""Local dump files (``--from``): formats, compression, filtering, bad files."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import pytest
from conftest import SEED
from pyoxigraph import NamedNode

from graphbuild.enrichment import DumpSource, Selection, enrich
from graphbuild.enrichment.dumps import DumpFormat
from graphbuild.enrichment.query import batch_query
from graphbuild.errors import EnrichError, InputError
from graphbuild.model.quads import enrichment_graph
from graphbuild.model.vocab import METADATA_GRAPH, PROV
from graphbuild.pipeline.ingest import ingest
from graphbuild.store.embedded import EmbeddedStore

DATA = Path(__file__).resolve().parent / "data" / "dbpedia"
FIXTURE, ESBM = DATA / "seed-resources.ttl", DATA / "esbm-excerpt.nt"
DBR = "http://dbpedia.org/resource/"
PAIN, CARE = NamedNode(DBR + "Pain"), NamedNode(DBR + "Palliative_care")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("labels_lang=en.ttl.bz2", DumpFormat.TURTLE),
        ("x.ttl", DumpFormat.TURTLE),
        ("x.nt", DumpFormat.NTRIPLES),
        ("x.NT.GZ", DumpFormat.NTRIPLES),
        ("instance-types_lang=en_specific.ttl.gz", DumpFormat.TURTLE),
    ],
)
def test_format_from_the_extension(name: str, expected: DumpFormat) -> None:
    assert DumpFormat.guess(Path(name)) is expected


@pytest.mark.parametrize("name", ["x.bz2", "x.rdf", "x.nq.gz", "x"])
def test_unknown_formats_are_refused(name: str) -> None:
    with pytest.raises(EnrichError) as info:
        DumpFormat.guess(Path(name))
    assert str(info.value) == f"dumps: {name}: cannot tell the format; name it .ttl or .nt (optionally .bz2 or .gz)"


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EnrichError) as info:
        DumpSource([FIXTURE, tmp_path / "labels.ttl.bz2"])
    assert str(info.value) == f"dumps: {tmp_path / 'labels.ttl.bz2'}: no such file"


def _rows(source: DumpSource, resources: list[NamedNode]) -> int:
    return len(source.select(batch_query(resources, Selection(languages=("en", "de")))).rows)


def test_only_what_the_round_needs_is_kept(tmp_path: Path) -> None:
    dump = tmp_path / "all.nt.gz"
    dump.write_bytes(gzip.compress(ESBM.read_bytes()))
    source = DumpSource([FIXTURE, dump])
    source.prepare([PAIN])
    assert _rows(source, [PAIN]) == 11 and _rows(source, [CARE]) == 0
    source.prepare([CARE])
    # the second pass brings the labels of the pages redirecting to Palliative care
    assert _rows(source, [CARE]) == 10 and _rows(source, [PAIN]) == 0
    assert source.requests == 4
    assert source.describe() == "2 dump files (seed-resources.ttl, all.nt.gz)"
    assert source.sources == [NamedNode(FIXTURE.as_uri()), NamedNode(dump.resolve().as_uri())]


def test_a_broken_dump_names_file_and_line_and_writes_nothing(tmp_path: Path) -> None:
    lines = ESBM.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = '<http://dbpedia.org/resource/3WAY_FM> <http://www.w3.org/2000/01/rdf-schema#label> "3WAY FM .\n'
    dump = tmp_path / "broken.nt.bz2"
    dump.write_bytes(bz2.compress("".join(lines).encode("utf-8")))
    with EmbeddedStore.open(tmp_path / "store") as store:
        ingest([SEED], store=store, parallel=False)
        before = set(store.quads(METADATA_GRAPH))
        with pytest.raises(InputError) as info:
            enrich(store, source=DumpSource([FIXTURE, dump]))
        assert info.value.path == str(dump) and info.value.line == 3
        assert str(info.value).startswith(f"{dump}:3: not valid RDF: ")
        assert set(store.quads(METADATA_GRAPH)) == before
        assert not [g for g in store.graphs() if g.value.startswith("https://w3id.org/graphbuild/graph/enrichment")]


def test_the_fetch_record_names_the_dump_files(tmp_path: Path) -> None:
    with EmbeddedStore.open(tmp_path / "store") as store:
        ingest([SEED], store=store, parallel=False)
        report = enrich(store, source=DumpSource([FIXTURE, ESBM]))
        assert (report.enriched, report.requests) == (5, 1)
        derived = {q.object.value for q in store.quads(METADATA_GRAPH, subject=enrichment_graph(PAIN)) if q.predicate.value == PROV + "wasDerivedFrom"}
        assert derived == {FIXTURE.as_uri(), ESBM.as_uri()}
