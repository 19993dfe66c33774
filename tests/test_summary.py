"""Tests for the summary reader (graphbuild.readers.summary) and the reader registry.

Case files live in tests/data/summary/:
- good/<name>.txt with good/<name>.expected.json: id, text length and the links as
  [surface, confidence, resource, line];
- bad/<name>.txt with bad/<name>.expected: the one error line ``<name>.txt:<line>: <message>``.
The real SciGraph files in seeds/ are described in seeds/SOURCE.md.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import NamedNode

from graphbuild.errors import InputError
from graphbuild.model.records import Document, Skipped
from graphbuild.model.vocab import SPOTLIGHT
from graphbuild.readers import STDIN, InputFormat, find_sources, read_documents, read_source
from graphbuild.readers.summary import EXTENSIONS, parse_summary, read_summary

HERE = Path(__file__).resolve().parent
CASES = HERE / "data" / "summary"
GOOD = sorted((CASES / "good").glob("*.txt"))
BAD = sorted((CASES / "bad").glob("*.txt"))
SEEDS = HERE.parent / "seeds"
SEED = SEEDS / "000_70018b3530a68054.txt"

XSD_DOUBLE = "^^http://www.w3.org/2001/XMLSchema#double"
DBR = "http://dbpedia.org/resource/"
EMPTY_REASON = "empty file, no text and no links"
ROW_HINT = f"expected a surface form, a confidence ending in {XSD_DOUBLE}, then an IRI"
UNKNOWN_FORMAT = (
    "unknown input format (known extensions: .txt, .ttl, .nt, .nq, .trig, .n3, .rdf, .jsonld, .nif, .json, "
    ".jsonl, .ndjson, .csv, .tsv); rename the file or name its format"
)

def row(surface: str, confidence: str, iri: str, *, first: bool = False) -> str:
    """A mention row in the real fixed-width layout."""
    return surface.ljust(20 if first else 30) + (confidence + XSD_DOUBLE).ljust(70) + iri.ljust(50)


def summary(text: str, *rows: str) -> bytes:
    """A summary file as upstream writes it: text, then each row followed by a blank line."""
    return "\n".join([text, *(part for r in rows for part in (r, ""))]).encode("utf-8")


def only(items):
    items = list(items)
    assert len(items) == 1, items
    return items[0]


def as_rows(document: Document) -> list[list]:
    return [[link.surface, link.confidence, link.resource, link.line] for link in document.links]




def test_case_folders_are_complete():
    assert len(GOOD) == 11 and len(BAD) == 21
    for path in GOOD:
        assert path.with_suffix(".expected.json").is_file(), path
    for path in BAD:
        assert path.with_suffix(".expected").is_file(), path
    expected_files = {p.name for p in (CASES / "good").iterdir()} | {p.name for p in (CASES / "bad").iterdir()}
    assert all(name.endswith((".txt", ".expected", ".expected.json")) for name in expected_files)


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_case(path: Path):
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    document = only(read_source(path))
    assert isinstance(document, Document), document
    assert document.id == expected["id"] == path.stem
    assert len(document.text) == expected["text_length"]
    assert as_rows(document) == expected["links"]
    assert document.source == str(path)
    assert document.annotator == SPOTLIGHT.value == "http://model.dbpedia-spotlight.org"
    # one line of text, without the BOM or the CR of the line ending
    assert "\n" not in document.text
    assert not document.text.endswith("\r")
    assert not document.text.startswith("\ufeff")
    for link in document.links:
        assert (link.begin, link.end, link.inferred, link.ambiguous, link.types) == (None, None, False, False, ())
        assert not link.placed


def test_good_seed_case_is_the_seed():
    assert (CASES / "good" / SEED.name).read_bytes() == SEED.read_bytes()


def test_seed_in_detail():
    document = only(read_summary(SEED))
    assert document.id == "000_70018b3530a68054"
    assert document.text.startswith("Abstract PurposeThe aim of the study")
    assert document.text.endswith("into routine practice.")
    assert len(document.links) == 12
    assert [link.line for link in document.links] == list(range(2, 25, 2))
    assert sorted({link.resource.removeprefix(DBR) for link in document.links}) == [
        "Cancer_pain",
        "Decision_making",
        "Focus_group",
        "Pain",
        "Palliative_care",
    ]
    assert [link.surface for link in document.links].count("self-management") == 6


def test_bom_is_dropped():
    document = only(read_source(CASES / "good" / "utf8_bom.txt"))
    assert document.text.startswith("Abstract PurposeThe aim")
    assert document.links[0].surface == "pain"


def test_crlf_is_dropped():
    document = only(read_source(CASES / "good" / "crlf.txt"))
    assert document.text.endswith("focus group interviews.")
    assert [link.resource for link in document.links] == [DBR + "Pain", DBR + "Cancer_pain", DBR + "Focus_group"]


def test_text_keeps_its_trailing_spaces():
    document = only(read_source(CASES / "good" / "trailing_spaces.txt"))
    assert document.text.endswith("interviews.  ")


def test_line_separators_stay_in_the_text():
    document = only(read_source(CASES / "good" / "line_separator_in_text.txt"))
    for char in "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e":
        assert document.text.count(char) == 1, repr(char)
    assert document.text.startswith("Abstract Rising atmospheric CO2 concentration\u2028may change")
    assert [link.line for link in document.links] == [2, 4]


def test_runon_surface_form():
    document = only(read_source(CASES / "good" / "runon_surface.txt"))
    assert document.links[0].surface == "Generalized Riemann Hypothesis"
    assert document.links[0].confidence == 0.9999999989508979
    assert document.links[2].surface == "fluorescence resonance energy transfer"
    assert document.links[2].resource == DBR + "Förster_resonance_energy_transfer"


@pytest.mark.parametrize(
    ("line", "surface", "confidence"),
    [
        (row("Windows 10", "0.9", DBR + "Windows_10"), "Windows 10", 0.9),
        (row("COVID-19", "1.0", DBR + "COVID-19"), "COVID-19", 1.0),
        ("Microsoft Windows 100.87" + XSD_DOUBLE + "  " + DBR + "Windows_10", "Microsoft Windows 10", 0.87),
        ("Microsoft Windows 101.0" + XSD_DOUBLE + "  " + DBR + "Windows_10", "Microsoft Windows 10", 1.0),
        ("Influenza A virus subtype H1N11.0" + XSD_DOUBLE + " " + DBR + "H1N1", "Influenza A virus subtype H1N1", 1.0),
        ("severe acute respiratory syndrome coronavirus 20.99" + XSD_DOUBLE + " " + DBR + "SARS-CoV-2",
         "severe acute respiratory syndrome coronavirus 2", 0.99),
        (row("pain", "0.5", DBR + "Pain", first=True), "pain", 0.5),
        (row("Vitamin B12", "0.75", DBR + "Vitamin_B12", first=True), "Vitamin B12", 0.75),
        ("4-" + " " * 18 + "0.5" + XSD_DOUBLE + " " + DBR + "X", "4-", 0.5),
        ("a" * 30 + "10.5" + XSD_DOUBLE + " " + DBR + "X", "a" * 30 + "1", 0.5),
        ("a" * 29 + "-0.5" + XSD_DOUBLE + " " + DBR + "X", "a" * 29 + "-", 0.5),
        ("0" * 21 + "1.0" + XSD_DOUBLE + " " + DBR + "X", "0" * 21, 1.0),
        ("Web 1.00.95" + XSD_DOUBLE + " " + DBR + "Web_1.0", "Web 1.0", 0.95),
        ("Web 2.01.0" + XSD_DOUBLE + " " + DBR + "Web_2.0", "Web 2.0", 1.0),
        ("St. 1.0.5" + XSD_DOUBLE + " " + DBR + "X", "St. 1.", 0.5),
        ("Pi 3.10.5" + XSD_DOUBLE + " " + DBR + "Pi", "Pi 3.1", 0.5),
        ("model 0.5e0.9" + XSD_DOUBLE + " " + DBR + "X", "model 0.5e", 0.9),
        ("rare term                     9.5E-4" + XSD_DOUBLE + " " + DBR + "X", "rare term", 0.00095),
        ("rare term                     0" + XSD_DOUBLE + " " + DBR + "X", "rare term", 0.0),
        ("rare term                     1" + XSD_DOUBLE + " " + DBR + "X", "rare term", 1.0),
        ("rare term                     1.000" + XSD_DOUBLE + " " + DBR + "X", "rare term", 1.0),
        ("rare term                     0.5e-3" + XSD_DOUBLE + " " + DBR + "X", "rare term", 0.0005),
        ("glued" + "0.5" + XSD_DOUBLE + DBR + "X", "glued", 0.5),
    ],
)
def test_number_boundary(line: str, surface: str, confidence: float):
    document = parse_summary(summary("Some text.", line), source="case", doc_id="case")
    assert isinstance(document, Document), document
    assert [(link.surface, link.confidence) for link in document.links] == [(surface, confidence)]


@pytest.mark.parametrize(
    ("line", "written"),
    [
        (row("pain", "-0.5", DBR + "Pain", first=True), "-0.5"),
        (row("pain", "10.5", DBR + "Pain", first=True), "10.5"),
        (row("Pain", "-0.5", DBR + "Pain"), "-0.5"),
        (row("Pain", "10.5", DBR + "Pain"), "10.5"),
        (row("Pain", "+1.5", DBR + "Pain"), "+1.5"),
        (row("Pain", "1.5", DBR + "Pain"), "1.5"),
        (row("Pain", "100", DBR + "Pain"), "100"),
        (row("Pain", "-1E-3", DBR + "Pain"), "-1E-3"),
        ("pain -0.5" + XSD_DOUBLE + " " + DBR + "Pain", "-0.5"),
        ("pain 10.5" + XSD_DOUBLE + " " + DBR + "Pain", "10.5"),
        ("coronavirus 20.99" + XSD_DOUBLE + " " + DBR + "SARS-CoV-2", "20.99"),
        ("a long surface form, past its column   -0.5" + XSD_DOUBLE + " " + DBR + "X", "-0.5"),
        ("a long surface form, past its column   10.5" + XSD_DOUBLE + " " + DBR + "X", "10.5"),
    ],
)
def test_a_confidence_outside_0_1_is_an_error_never_another_number(line: str, written: str):
    """Padding sets the number apart: it is read whole, and out of range it is an error
    (it used to be read as 0.5, the sign or the first digit glued to the surface form)."""
    for rows in ([line], [row("cancer", "0.5", DBR + "Cancer", first=True), line]):
        result = parse_summary(summary("Pain and cancer pain.", *rows), source="s.txt", doc_id="s")
        assert isinstance(result, InputError), result
        assert str(result) == f"s.txt:{2 * len(rows)}: confidence {written} is outside [0, 1]"


def test_parse_summary_passes_source_and_id_through():
    document = parse_summary(summary("T", row("pain", "0.5", DBR + "Pain", first=True)), source="s.txt", doc_id="D")
    assert document == Document(
        id="D", text="T", links=document.links, source="s.txt", annotator="http://model.dbpedia-spotlight.org"
    )
    assert as_rows(document) == [["pain", 0.5, DBR + "Pain", 2]]


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_case(path: Path):
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").rstrip("\n")
    error = only(read_source(path))
    assert isinstance(error, InputError), error
    assert error.path == str(path)
    assert f"{path.name}:{error.line}: {error.message}" == expected
    assert str(error) == expected.replace(path.name, str(path), 1)


def _where(item) -> Path:
    return Path(item.path if isinstance(item, InputError) else item.source)


def test_mixed_folder_reads_every_case_in_order():
    # The folder also holds .expected.json files, which are Spotlight JSON by extension.
    items = list(read_documents([CASES], format=InputFormat.SUMMARY))
    assert [_where(item) for item in items] == sorted(BAD + GOOD)
    assert {(_where(item).parent.name, type(item)) for item in items} == {("bad", InputError), ("good", Document)}




@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"\n\n\n", b"   \r\n\t\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n", "\u2028\n\u00a0".encode()],
    ids=["zero-bytes", "newline", "newlines", "whitespace-crlf", "bom-only", "bom-crlf", "unicode-space"],
)
def test_empty_is_skipped(data: bytes):
    assert parse_summary(data, source="e.txt", doc_id="e") == Skipped("e.txt", EMPTY_REASON)


def test_empty_file_is_skipped(tmp_path: Path):
    path = tmp_path / "0324d4002e67a81e39e650ff1c8f.txt"
    path.write_bytes(b"")
    assert list(read_documents([path])) == [Skipped(str(path), EMPTY_REASON)]



# name: number of links (None: an empty file)
SEED_LINKS = {
    "000_70018b3530a68054": 12,
    "016c47f14cd178b649ed16cb8c53": 7,
    "01c45bd04502aed061729efa73e4": 45,
    "02233a0e1e2add02a017a0ecbd14": 7,
    "02bdb5663fd34d38570e99a82397": 13,
    "0324d4002e67a81e39e650ff1c8f": None,
    "032c10626df234093c1662e4d342": 3,
    "0410898250178ba779840c5b792f": 43,
    "066355fefa6dfccc8ad02c9f12d0": 7,
}


@pytest.mark.parametrize(("name", "count"), SEED_LINKS.items(), ids=list(SEED_LINKS))
def test_seed_file(name: str, count: int | None):
    path = SEEDS / f"{name}.txt"
    item = only(read_documents([path]))
    if count is None:
        assert item == Skipped(str(path), EMPTY_REASON)
        return
    assert isinstance(item, Document), item
    assert (item.id, len(item.links)) == (name, count)
    assert [link.line for link in item.links] == list(range(2, 2 * count + 1, 2))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("032c10626df234093c1662e4d342",
         ["Generalized Riemann Hypothesis", 0.9999999989508979, DBR + "Riemann_hypothesis", 2]),
        ("0410898250178ba779840c5b792f",
         ["fluorescence resonance energy transfer", 1.0, DBR + "Förster_resonance_energy_transfer", 72]),
        ("066355fefa6dfccc8ad02c9f12d0", ["atmospheric pressure", 0.9360954158640634, DBR + "Atmosphere_(unit)", 2]),
        ("016c47f14cd178b649ed16cb8c53",
         ["computational Diffie-Hellman assumption", 1.0, DBR + "Computational_Diffie–Hellman_assumption", 2]),
        ("02233a0e1e2add02a017a0ecbd14", ["Schrödinger equation", 1.0, DBR + "Schrödinger_equation", 2]),
        ("02bdb5663fd34d38570e99a82397", ["Πa", 0.9999999951635345, DBR + "Family_Π", 8]),
        ("01c45bd04502aed061729efa73e4", ["C4", 1.0, DBR + "C4_carbon_fixation", 2]),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_seed_quirk(name: str, expected: list):
    document = only(read_summary(SEEDS / f"{name}.txt"))
    assert expected in as_rows(document)




def _tree(root: Path) -> None:
    text = summary("A text about pain.", row("pain", "0.9350527805613198", DBR + "Pain", first=True))
    for name in ["b.txt", "A.txt", "a/z.txt", "c.TXT", "sub/deeper/x.txt", ".hidden.txt", "a/.also-hidden.txt",
                 "notes.md", "summary.txt.bak", "abstract.summary", "noext"]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text)
    (root / "empty.txt").write_bytes(b"")


def test_folder_is_read_recursively_in_sorted_order(tmp_path: Path):
    _tree(tmp_path)
    expected = ["A.txt", "a/z.txt", "b.txt", "c.TXT", "empty.txt", "sub/deeper/x.txt"]
    assert find_sources([tmp_path]) == [tmp_path / name for name in expected]
    items = list(read_documents([tmp_path]))
    assert [type(item) for item in items] == [Document] * 4 + [Skipped] + [Document]
    assert [Path(item.source).relative_to(tmp_path).as_posix() for item in items] == expected
    assert [item.id for item in items if isinstance(item, Document)] == ["A", "z", "b", "c", "x"]


def test_a_folder_s_files_come_before_names_that_extend_the_folder_s(tmp_path: Path):
    # Paths sort part by part: "a/z.txt" before "a-b.txt", though "-" sorts before "/".
    for name in ["a-b.txt", "a/z.txt", "a.txt", "a0/y.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    expected = ["a/z.txt", "a-b.txt", "a.txt", "a0/y.txt"]
    assert find_sources([tmp_path]) == [tmp_path / name for name in expected]
    assert find_sources([tmp_path]) == sorted(find_sources([tmp_path]))


def test_a_linked_folder_is_not_followed_a_linked_file_is_read(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_bytes(b"")
    (tmp_path / "corpus" / "folder").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "corpus" / "file.txt").symlink_to(tmp_path / "elsewhere" / "x.txt")
    (tmp_path / "corpus" / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    assert find_sources([tmp_path / "corpus"]) == [tmp_path / "corpus" / "file.txt"]


def test_folder_with_format_still_picks_by_extension(tmp_path: Path):
    _tree(tmp_path)
    assert find_sources([tmp_path], format=InputFormat.SUMMARY) == find_sources([tmp_path])


def test_folder_skips_hidden_folders(tmp_path: Path):
    _tree(tmp_path)
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "copy.txt").write_bytes((tmp_path / "b.txt").read_bytes())
    assert tmp_path / ".cache" / "copy.txt" not in find_sources([tmp_path])


def test_several_paths_keep_their_order(tmp_path: Path):
    _tree(tmp_path)
    sources = find_sources([tmp_path / "sub", tmp_path / "b.txt", STDIN, tmp_path / "a"])
    assert sources == [tmp_path / "sub/deeper/x.txt", tmp_path / "b.txt", "-", tmp_path / "a/z.txt"]


def test_explicit_hidden_file_is_read(tmp_path: Path):
    _tree(tmp_path)
    document = only(read_documents([tmp_path / ".hidden.txt"]))
    assert isinstance(document, Document) and document.id == ".hidden"


@pytest.mark.parametrize("name", ["abstract.summary", "notes.md", "summary.txt.bak", "noext"])
def test_unknown_extension_needs_format(tmp_path: Path, name: str):
    _tree(tmp_path)
    path = tmp_path / name
    error = only(read_documents([path]))
    assert isinstance(error, InputError)
    assert (error.path, error.line, error.message) == (str(path), None, UNKNOWN_FORMAT)
    assert str(error) == f"{path}: {UNKNOWN_FORMAT}"
    forced = only(read_documents([path], format=InputFormat.SUMMARY))
    assert isinstance(forced, Document)
    assert (forced.id, forced.text, as_rows(forced)) == (
        path.stem,
        "A text about pain.",
        [["pain", 0.9350527805613198, DBR + "Pain", 2]],
    )


def test_missing_file_is_an_input_error(tmp_path: Path):
    path = tmp_path / "missing.txt"
    # Named on the command line: the whole run stops before anything is read or written.
    with pytest.raises(InputError) as info:
        list(read_documents([path]))
    assert (info.value.path, info.value.line, info.value.message) == (str(path), None, "no such file or directory")
    # Gone between listing and reading: that file's error.
    error = only(read_source(path))
    assert isinstance(error, InputError)
    assert (error.path, error.line, error.message) == (str(path), None, "cannot read the file: No such file or directory")


def test_stdin(monkeypatch: pytest.MonkeyPatch):
    data = summary("Text from a pipe.", row("pain", "1.0", DBR + "Pain", first=True))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + data)))
    document = only(read_documents(["-"]))
    assert (document.id, document.source, document.text) == ("stdin", "<stdin>", "Text from a pipe.")
    assert as_rows(document) == [["pain", 1.0, DBR + "Pain", 2]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.txt", InputFormat.SUMMARY),
        ("A.TXT", InputFormat.SUMMARY),
        ("dir.d/x.Txt", InputFormat.SUMMARY),
        ("000_70018b3530a68054.txt", InputFormat.SUMMARY),
        ("a.txt.gz", InputFormat.SUMMARY),
        ("a.nt", InputFormat.NIF),
        ("a.ttl", InputFormat.NIF),
        ("a.summary", None),
        ("a", None),
        (".txt", None),
        ("txt", None),
    ],
)
def test_guess(name: str, expected: InputFormat | None):
    assert InputFormat.guess(Path(name)) is expected


def test_input_format_enum():
    assert InputFormat.SUMMARY in list(InputFormat)
    assert InputFormat("summary") is InputFormat.SUMMARY
    assert InputFormat.SUMMARY == "summary"
    assert InputFormat.SUMMARY.extensions == EXTENSIONS == (".txt",)



FRAGMENTS = [
    "pain", "Generalized Riemann Hypothesis", "COVID-19", "Windows 10", " ", "  " * 10, "\t", "\r", "\r\n",
    "\n", "\n\n", "0", "1", "1.0", "0.5", "0.9999999989508979", "0.95E1", "5.0E-0", "9.5E-4", "e-", "E", "-",
    ".", "^^", XSD_DOUBLE, "^^http://www.w3.org/2001/XMLSchema#float", DBR + "Pain", DBR, "http://", "Förster",
    "–", ">", "<", "%zz", "%C3%A9", ":", "#", "\x00", "\ufeff", "\u2028", "\x85", "\u00a0", "\ud7ff", "\U0010ffff",
]


def _pieces():
    return st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=24).map("".join)


def _check_outcome(data: bytes, result) -> None:
    assert isinstance(result, (Document, InputError, Skipped)), result
    line_count = data.count(b"\n") + 1
    if isinstance(result, InputError):
        assert result.path == "fuzz.txt"
        assert result.message
        assert result.line is None or 1 <= result.line <= line_count
        return
    if isinstance(result, Skipped):
        assert result == Skipped("fuzz.txt", EMPTY_REASON)
        assert not data.decode("utf-8-sig").strip()
        return
    lines = data.decode("utf-8-sig").split("\n")
    assert result.id == "fuzz" and result.source == "fuzz.txt"
    assert result.text == lines[0].removesuffix("\r") and result.text.strip()
    previous = 1
    for link in result.links:
        assert previous < link.line <= line_count
        previous = link.line
        assert link.surface and link.surface == link.surface.rstrip()
        assert lines[link.line - 1].startswith(link.surface)
        assert 0.0 <= link.confidence <= 1.0
        assert not any(char.isspace() for char in link.resource)
        NamedNode(link.resource)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes):
    _check_outcome(data, parse_summary(data, source="fuzz.txt", doc_id="fuzz"))


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.lists(_pieces(), max_size=6), st.sampled_from(["\n", "\r\n"]))
def test_summary_like_text_never_raises(bom: bool, lines: list[str], newline: str):
    data = (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines).encode("utf-8")
    _check_outcome(data, parse_summary(data, source="fuzz.txt", doc_id="fuzz"))


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1).filter(
        lambda text: text.strip() and not text.startswith("\ufeff")
    ),
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=40),
            st.sampled_from(["1.0", "0.5", "0.9999999989508979", "0.45", "0.7230685943709705"]),
            st.sampled_from(["Pain", "Förster_resonance_energy_transfer", "Atmosphere_(unit)", "21", "Family_Π"]),
        ),
        max_size=5,
    ),
)
def test_written_rows_read_back(text: str, rows: list[tuple[str, str, str]]):
    """Rows written in the upstream layout read back as written, whatever the surface form ends with."""
    data = summary(text, *(row(s, c, DBR + r, first=i == 0) for i, (s, c, r) in enumerate(rows)))
    document = parse_summary(data, source="fuzz.txt", doc_id="fuzz")
    _check_outcome(data, document)
    assert document.text == text
    assert as_rows(document) == [[s, float(c), DBR + r, 2 + 2 * i] for i, (s, c, r) in enumerate(rows)]
