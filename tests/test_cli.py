from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest
from conftest import SEED
from typer.testing import CliRunner, Result

from graphbuild import cli
from graphbuild.cli import app
from graphbuild.files import tree_size
from graphbuild.store import EmbeddedStore, optimize
from graphbuild.text import size_text

SEED_ID = SEED.stem
runner = CliRunner()


def gb(*args: object, env: dict[str, str] | None = None, input: str | bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env, input=input)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    result = gb("ingest", SEED, "--store", path)
    assert result.exit_code == 0, result.output
    return path


def test_ingest_prints_a_summary(tmp_path: Path) -> None:
    result = gb("ingest", SEED, "--store", tmp_path / "s")
    assert result.exit_code == 0
    assert result.stdout == "1 document loaded, 0 replaced, 0 skipped unchanged, 0 failed, 0 empty; 12 mentions, 0 unplaced\n"
    again = gb("ingest", SEED, "--store", tmp_path / "s")
    assert again.stdout.startswith("0 documents loaded, 0 replaced, 1 skipped unchanged")


def test_a_mistyped_path_says_so_and_creates_no_store(tmp_path: Path) -> None:
    """It used to say "unknown input format", after creating an empty store."""
    result = gb("ingest", tmp_path / "seedz", "--store", tmp_path / "store")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {tmp_path / 'seedz'}: no such file or directory\n"
    assert not (tmp_path / "store").exists()
    converted = gb("convert", tmp_path / "seedz", "--output", tmp_path / "out")
    assert (converted.exit_code, converted.stderr) == (1, f"Error: {tmp_path / 'seedz'}: no such file or directory\n")
    assert not (tmp_path / "out").exists()


def test_a_folder_with_nothing_to_read_says_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "notes.pdf").write_bytes(b"%PDF")
    result = gb("ingest", tmp_path / "papers", "--store", tmp_path / "store")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'papers'}: no file to read in this folder (looked for .txt, .ttl, .nt, .nq, .trig, "
        ".n3, .rdf, .jsonld, .nif, .json, .jsonl, .ndjson, .csv, .tsv, each optionally .gz)\n"
    )
    assert not (tmp_path / "store").exists()
    narrowed = gb("ingest", tmp_path / "papers", "--format", "jsonl", "--store", tmp_path / "store")
    assert narrowed.stderr.endswith("(looked for .jsonl, .ndjson, each optionally .gz)\n")


def test_a_document_replaced_from_another_file_is_named_in_the_summary(tmp_path: Path) -> None:
    """The same id read from another file replaced the first without a word ("1 replaced")."""
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
    shutil.copy(SEED, first / SEED.name)
    lines = SEED.read_text(encoding="utf-8").split("\n")
    (second / SEED.name).write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    assert gb("ingest", first, "--store", tmp_path / "store").exit_code == 0
    result = gb("ingest", second, "--store", tmp_path / "store")
    assert result.exit_code == 0
    assert result.stdout == (
        "0 documents loaded, 1 replaced, 0 skipped unchanged, 0 failed, 0 empty; 1 mention, 0 unplaced; "
        f"replaced from another file: {SEED_ID} (was {first / SEED.name})\n"
    )
    again = gb("ingest", second / SEED.name, "--store", tmp_path / "store")
    assert "another file" not in again.stdout


def test_ingest_bad_file_exits_1_and_loads_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED, folder / "a.txt")
    (folder / "b.txt").write_text("A text.\nnot a row at all\n", encoding="utf-8")
    (folder / "c.txt").write_bytes(b"")
    result = gb("ingest", folder, "--store", tmp_path / "s")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{folder / 'b.txt'}:2: cannot read mention row 'not a row at all': expected a surface form, "
        "a confidence ending in ^^http://www.w3.org/2001/XMLSchema#double, then an IRI",
        f"{folder / 'c.txt'}: note: empty file, no text and no links; skipped",
    ]
    assert result.stdout.startswith("1 document loaded, 0 replaced, 0 skipped unchanged, 1 failed, 1 empty; 12 mentions")
    stats = gb("stats", "--store", tmp_path / "s", "--format", "json")
    assert json.loads(stats.stdout)["documents"] == 1


def test_ingest_from_stdin(tmp_path: Path) -> None:
    result = gb("ingest", "-", "--store", tmp_path / "s", input=SEED.read_bytes())
    assert result.exit_code == 0, result.output
    out = gb("query", "document-mentions", "-p", "document=stdin", "--store", tmp_path / "s", "--format", "csv")
    assert len(out.stdout.strip().splitlines()) == 13


def test_unknown_extension_asks_for_format(tmp_path: Path) -> None:
    odd = tmp_path / "seed.summary"
    shutil.copy(SEED, odd)
    result = gb("ingest", odd, "--store", tmp_path / "s")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        f"{odd}: unknown input format (known extensions: .txt, .ttl, .nt, .nq, .trig, .n3, .rdf, .jsonld, .nif, .json, .jsonl, .ndjson, .csv, .tsv); "
        "rename the file or name its format",
        "hint: --format FORMAT reads files whose name does not tell their format",
    ]
    forced = gb("ingest", odd, "--store", tmp_path / "s", "--format", "summary")
    assert forced.exit_code == 0 and forced.stdout.startswith("1 document loaded")


def test_store_from_environment(tmp_path: Path) -> None:
    env = {"GRAPHBUILD_STORE": str(tmp_path / "env-store")}
    assert gb("ingest", SEED, env=env).exit_code == 0
    assert (tmp_path / "env-store").is_dir()
    assert json.loads(gb("stats", "--format", "json", env=env).stdout)["mentions"] == 12


def test_stats_json(store_dir: Path) -> None:
    result = gb("stats", "--store", store_dir, "--format", "json")
    assert json.loads(result.stdout) == {"documents": 1, "mentions": 12, "unplaced": 0, "resources": 5, "quads": 157, "graphs": 3}


def test_query_csv(store_dir: Path) -> None:
    result = gb("query", "surface-forms", "--param", "entity=dbr:Cancer_pain", "--store", store_dir, "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout_bytes == b"surface,mentions,documents\r\ncancer pain,2,1\r\n"


def test_query_table_and_limit(store_dir: Path) -> None:
    result = gb("query", "top-entities", "--store", store_dir, "--limit", "2")
    assert result.exit_code == 0
    assert "dbr:Decision_making" in result.stdout and result.stdout.count("│ dbr:") == 2
    assert result.stdout.rstrip().endswith("2 rows")
    assert result.stderr == "more rows follow: --offset 2 for the next page, --limit 0 for all of them\n"


@pytest.fixture(scope="module")
def seeds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed folder ingested: 8 documents, 137 mentions, 61 resources."""
    path = tmp_path_factory.mktemp("seeds") / "store"
    assert gb("ingest", SEED.parent, "--store", path).exit_code == 0
    return path


def _csv_rows(result: Result) -> list[str]:
    return result.stdout.splitlines()[1:]


def test_query_pages(seeds_dir: Path) -> None:
    # A table shows 100 rows, and says how to see the rest.
    table = gb("query", "low-confidence", "-p", "threshold=2", "--store", seeds_dir)
    assert table.exit_code == 0 and table.stdout.endswith("\n100 rows\n")
    assert table.stderr == "more rows follow: --offset 100 for the next page, --limit 0 for all of them\n"
    # CSV writes every row unless told; pages of it add up to the whole, in order.
    whole = _csv_rows(gb("query", "low-confidence", "-p", "threshold=2", "--store", seeds_dir, "--format", "csv"))
    assert len(whole) == 137
    pages = [
        gb("query", "low-confidence", "-p", "threshold=2", "--store", seeds_dir, "--format", "csv", "--limit", "50", "--offset", str(offset))
        for offset in (0, 50, 100)
    ]
    assert [page.stderr != "" for page in pages] == [True, True, False]
    assert [row for page in pages for row in _csv_rows(page)] == whole
    everything = gb("query", "low-confidence", "-p", "threshold=2", "--store", seeds_dir, "--limit", "0")
    assert everything.stdout.endswith("\n137 rows\n") and everything.stderr == ""
    assert gb("query", "top-entities", "--store", seeds_dir, "--offset", "-1").exit_code == 2


def test_sparql_pages(seeds_dir: Path) -> None:
    query = "SELECT ?m WHERE { ?m itsrdf:taIdentRef ?e }"
    whole = _csv_rows(gb("sparql", query, "--store", seeds_dir, "--format", "csv"))
    page = gb("sparql", query, "--store", seeds_dir, "--format", "csv", "--limit", "10", "--offset", "130")
    assert len(whole) == 137 and _csv_rows(page) == whole[130:137] and page.stderr == ""
    table = gb("sparql", query, "--store", seeds_dir)
    assert table.stdout.endswith("\n100 rows\n")
    assert table.stderr == "more rows follow: --offset 100 for the next page, --limit 0 for all of them\n"


@pytest.mark.parametrize("fmt", ["json", "ndjson", "tsv"])
def test_query_machine_formats(fmt: str, store_dir: Path) -> None:
    result = gb("query", "low-confidence", "-p", "threshold=0.95", "--store", store_dir, "--format", fmt)
    assert result.exit_code == 0
    if fmt == "json":
        bindings = json.loads(result.stdout)["results"]["bindings"]
        assert sorted(b["begin"]["value"] for b in bindings) == ["725", "807"]  # a tie: in the store's order
        assert bindings[0]["entity"] == {"type": "uri", "value": "http://dbpedia.org/resource/Pain"}
    elif fmt == "ndjson":
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert sorted((r["begin"], r["end"], r["confidence"]) for r in rows) == [
            (725, 729, 0.9350527805613198),
            (807, 811, 0.9350527805613198),
        ]
    else:
        lines = result.stdout.splitlines()
        assert lines[0] == "?id\t?begin\t?end\t?surface\t?entity\t?confidence"
        assert "<http://dbpedia.org/resource/Pain>" in lines[1]


def test_query_refuses_injection(store_dir: Path) -> None:
    result = gb("query", "co-mentions", "-p", "entity=dbr:Pain> } UNION { ?s ?p ?o", "--store", store_dir)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --param entity: 'dbr:Pain> } UNION { ?s ?p ?o' is not a valid IRI "
        "(give a full IRI or a prefixed name such as dbr:Pain)\n"
    )


def test_query_errors(store_dir: Path, tmp_path: Path) -> None:
    unknown = gb("query", "nope", "--store", store_dir)
    assert unknown.exit_code == 1 and unknown.stderr.startswith("Error: no canned query named 'nope'")
    bad_param = gb("query", "co-mentions", "-p", "entity", "--store", store_dir)
    assert bad_param.exit_code == 1 and bad_param.stderr == "Error: --param 'entity': expected NAME=VALUE\n"
    no_store = gb("query", "top-entities", "--store", tmp_path / "missing")
    assert no_store.exit_code == 1 and "Error: no store at" in no_store.stderr


def test_queries_lists_every_canned_query() -> None:
    result = gb("queries")
    assert result.exit_code == 0
    for name in ("top-entities", "documents-mentioning", "co-mentions", "document-mentions", "surface-forms", "low-confidence"):
        assert name in result.stdout
    assert "    --param threshold=… (double, default 0.75): report mentions with a confidence below this\n" in result.stdout


def test_sparql_select_over_the_union_with_model_prefixes(store_dir: Path) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?m itsrdf:taIdentRef dbr:Pain }"
    result = gb("sparql", query, "--store", store_dir, "--format", "csv")
    assert result.exit_code == 0 and result.stdout_bytes == b"n\r\n2\r\n"


def test_sparql_ask_construct_and_file(store_dir: Path, tmp_path: Path) -> None:
    ask = gb("sparql", "ASK { ?m nif:anchorOf 'cancer pain' }", "--store", store_dir)
    assert ask.stdout == "true\n"
    query = tmp_path / "q.rq"
    query.write_text("CONSTRUCT { ?m itsrdf:taIdentRef ?r } WHERE { ?m itsrdf:taIdentRef ?r ; nif:anchorOf 'pain' }")
    construct = gb("sparql", "--file", query, "--store", store_dir)
    assert construct.exit_code == 0
    assert len(list(pyoxigraph.parse(construct.stdout_bytes, pyoxigraph.RdfFormat.TURTLE))) == 2
    nt = gb("sparql", "--file", query, "--store", store_dir, "--format", "ntriples")
    assert len(nt.stdout.strip().splitlines()) == 2


def test_sparql_errors(store_dir: Path) -> None:
    bad = gb("sparql", "SELECT WHERE", "--store", store_dir)
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: the query is not valid SPARQL")
    neither = gb("sparql", "--store", store_dir)
    assert neither.exit_code == 1 and "give the query as an argument or with --file" in neither.stderr
    wrong = gb("sparql", "ASK {}", "--store", store_dir, "--format", "turtle")
    assert wrong.exit_code == 1 and "--format 'turtle' does not fit this result" in wrong.stderr


def test_export_to_file_guesses_format(store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.nq"
    result = gb("export", "--store", store_dir, "--output", out)
    assert result.exit_code == 0 and result.stderr == f"wrote {out} (nquads)\n"
    assert len(list(pyoxigraph.parse(path=str(out)))) == 203


def test_export_one_document_to_stdout(store_dir: Path) -> None:
    result = gb("export", "--store", store_dir, "--document", SEED_ID, "--format", "ntriples")
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) == 146 + 5
    missing = gb("export", "--store", store_dir, "--document", "nope")
    assert missing.exit_code == 1
    assert missing.stderr == f"Error: no document with id 'nope' in the store at {store_dir}\n"


def test_delete(store_dir: Path) -> None:
    result = gb("delete", SEED_ID, "other", "--store", store_dir)
    assert result.exit_code == 1
    assert result.stdout == "1 document deleted\n"
    assert result.stderr == "other: no such document in the store\n"
    assert json.loads(gb("stats", "--store", store_dir, "--format", "json").stdout)["quads"] == 7  # the run's provenance, and the figures' up-to-date mark


@pytest.mark.parametrize("command", ["ingest", "query", "queries", "sparql", "export", "stats", "delete"])
def test_every_command_has_help(command: str) -> None:
    result = gb(command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_module_entry_point_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "graphbuild", "ingest", str(SEED), "--store", str(tmp_path / "s"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 document loaded")


READER_CASES = Path(__file__).resolve().parent / "data"


def test_ingest_prints_repair_notes_and_counts(tmp_path: Path) -> None:
    kore = READER_CASES / "nif" / "good" / "kore50.ttl"
    result = gb("ingest", kore, "--store", tmp_path / "s")
    assert result.exit_code == 0, result.output
    notes = result.stderr.splitlines()
    assert len(notes) == 8 and all(line.startswith(f"{kore}:") and ": note: " in line for line in notes)
    assert f"{kore}:44: note: phrase <http://www.mpi-inf.mpg.de/yago-naga/aida/download/KORE50.tar.gz/AIDA.tsv/SPO04#char=0,7>: " \
        "offsets [0,7) count UTF-8 bytes, not characters; 'Müller' is at [0,6)" in notes
    assert result.stdout == (
        "3 documents loaded, 0 replaced, 0 skipped unchanged, 0 failed, 0 empty; 7 mentions, 0 unplaced; 8 repairs\n"
    )
    quiet = gb("ingest", kore, "--store", tmp_path / "s", "--quiet")
    assert quiet.stderr == "" and quiet.stdout.startswith("0 documents loaded, 0 replaced, 3 skipped unchanged")


def test_ingest_format_choices_include_every_reader(tmp_path: Path) -> None:
    help_text = gb("ingest", "--help").stdout
    for name in ("summary", "nif", "spotlight", "jsonl", "csv"):
        assert name in help_text
    table = READER_CASES / "csv" / "good" / "reuters-128.csv"
    odd = tmp_path / "links.table"
    shutil.copy(table, odd)
    result = gb("ingest", odd, "--format", "csv", "--store", tmp_path / "s")
    assert result.exit_code == 0 and result.stdout.startswith("2 documents loaded")


def test_ingest_min_confidence(tmp_path: Path) -> None:
    result = gb("ingest", SEED, "--store", tmp_path / "s", "--min-confidence", "0.95")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "1 document loaded, 0 replaced, 0 skipped unchanged, 0 failed, 0 empty; 10 mentions, 0 unplaced; "
        "2 links below 0.95 left out\n"
    )
    recorded = gb("sparql", "SELECT ?x WHERE { GRAPH ?m { ?g gb:minConfidence ?x } }", "--store", tmp_path / "s", "--format", "csv")
    assert recorded.stdout.splitlines() == ["x", "0.95"]
    bad = gb("ingest", SEED, "--store", tmp_path / "s", "--min-confidence", "1.5")
    assert bad.exit_code == 2 and "--min-confidence" in bad.stderr


def test_ingest_spotlight_from_stdin(tmp_path: Path) -> None:
    data = (READER_CASES / "spotlight" / "good" / "oklahoma.json").read_bytes()
    result = gb("ingest", "-", "--format", "spotlight", "--store", tmp_path / "s", input=data)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 document loaded") and "7 mentions" in result.stdout


def test_optimize_keeps_every_quad(store_dir: Path) -> None:
    before = json.loads(gb("stats", "--store", store_dir, "--format", "json").stdout)
    result = gb("optimize", "--store", store_dir)
    assert result.exit_code == 0
    size = r"[\d.]+ (KiB|MiB)"
    assert re.fullmatch(rf"optimized the store at {re.escape(str(store_dir))}: {size} → {size} on disk in [\d.]+ s\n", result.stdout)
    assert json.loads(gb("stats", "--store", store_dir, "--format", "json").stdout) == before


def test_optimize_reports_its_estimate_and_ends_full(store_dir: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    with EmbeddedStore.open(store_dir) as store:
        done = optimize(store, progress=lambda stage, finished, total: calls.append((stage, finished, total)))
    # Sizes of the store's folder while open (its logs and lock files included).
    closed = tree_size(store_dir)
    assert closed / 2 < done.bytes_before < closed * 2 and closed / 2 < done.bytes_after < closed * 2
    assert done.seconds > 0
    assert done.summary() == (
        f"optimized the store at {store_dir}: {size_text(done.bytes_before)} → {size_text(done.bytes_after)} "
        f"on disk in {done.seconds:.1f} s"
    )
    assert calls[-1] == ("compacted", done.bytes_before, done.bytes_before)
    assert all(stage == "compacted" and total == done.bytes_before and finished <= total for stage, finished, total in calls)


def test_a_large_ingest_suggests_optimize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.build, "OPTIMIZE_TIP_FROM", 1)
    store = tmp_path / "store"
    result = gb("ingest", SEED, "--store", store)
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == (
        f"tip: after a load this large, `graphbuild optimize --store {store}` compacts the store "
        "(per-entity queries up to 3x faster; 100k documents: 4.6 -> 2.6 GiB in 100 s, 1M documents: 27 -> 20 GiB in 16 min, on 2 cores)"
    )
    assert "tip:" not in gb("ingest", SEED, "--store", tmp_path / "other", "--quiet").stderr
    assert "tip:" not in gb("ingest", SEED, "--store", store).stderr  # nothing new loaded


def test_optimize_refuses_a_server() -> None:
    result = gb("optimize", "--store", "http://127.0.0.1:9/sparql")
    assert result.exit_code == 1
    assert result.stderr == "Error: optimize works on an embedded store; a SPARQL server manages its own storage\n"
