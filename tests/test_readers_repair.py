"""Tests for the checks and repairs the offset-stating readers share (graphbuild.readers.repair)."""

from __future__ import annotations

import pytest

from graphbuild.errors import InputError
from graphbuild.model.records import Link, Repair, RepairKind
from graphbuild.readers.repair import (
    Settled,
    Stated,
    confidence_value,
    iri_problem,
    number_value,
    offset_value,
    settle,
    text_problem,
)

DBR = "http://dbpedia.org/resource/"
KORE = "Müller scored a hattrick against England."


def one(text: str, link: Link, subject: str | None = None) -> tuple[Link | None, list[Repair]]:
    settled = settle(text, [Stated(link, subject)], source="in.nif")
    assert isinstance(settled, Settled), settled
    return (settled.links[0] if settled.links else None), list(settled.repairs)


def test_exact_link_is_kept_as_is():
    link = Link("England", DBR + "England", begin=33, end=40, line=3)
    assert one(KORE, link) == (link, [])


def test_other_case_takes_the_text():
    link, (repair,) = one(
        "an EIL study", Link("Eil", DBR + "EIL", 0.9, begin=3, end=6, line=9), subject="http://x/#offset_3_6"
    )
    assert (link.surface, link.begin, link.end) == ("EIL", 3, 6)
    assert repair == Repair(
        RepairKind.ANCHOR_CASE,
        "phrase <http://x/#offset_3_6>: anchor 'Eil' differs in case from the text 'EIL' at [3,6); kept the text's",
        "in.nif",
        9,
        "http://x/#offset_3_6",
    )
    assert str(repair) == "in.nif:9: note: " + repair.message


def test_utf8_byte_offsets_are_converted():
    link, (repair,) = one(KORE, Link("England", DBR + "England", begin=34, end=41))
    assert (link.begin, link.end) == (33, 40)
    assert repair.kind is RepairKind.OFFSETS_BYTES
    assert repair.message.endswith("offsets [34,41) count UTF-8 bytes, not characters; 'England' is at [33,40)")


def test_utf16_offsets_are_converted():
    text = "\U0001f393 The University of Oklahoma"
    link, (repair,) = one(text, Link("Oklahoma", DBR + "Oklahoma", begin=21, end=29))
    assert (link.begin, link.end, repair.kind) == (20, 28, RepairKind.OFFSETS_UTF16)


def test_anchor_elsewhere_goes_to_the_nearest_occurrence():
    text = "pain here, pain there, and pain again"
    link, (repair,) = one(text, Link("pain", DBR + "Pain", begin=24, end=28))
    assert (link.begin, link.end, repair.kind) == (27, 31, RepairKind.OFFSETS_MOVED)
    assert repair.message.endswith(
        "anchor 'pain' is not at [24,28) (text there: 'nd p'); took 'pain' at [27,31), 3 characters away"
    )


def test_exact_case_beats_a_nearer_other_case():
    link, _ = one("Pain and then pain", Link("pain", DBR + "Pain", begin=1, end=5))
    assert (link.begin, link.surface) == (14, "pain")


def test_offsets_outside_the_text_are_repaired_or_unplaced():
    link, (repair,) = one("Pain.", Link("Pain", DBR + "Pain", begin=40, end=44))
    assert (link.begin, repair.kind) == (0, RepairKind.OFFSETS_MOVED)
    assert "(text there: outside the text)" in repair.message
    link, (repair,) = one("Pain.", Link("Ache", DBR + "Pain", begin=0, end=4))
    assert (link.begin, link.end, repair.kind) == (None, None, RepairKind.UNPLACED)
    assert repair.message.endswith("occurs nowhere in the text; kept as a document-level annotation")


def test_reversed_offsets_are_repaired():
    link, (repair,) = one("Pain.", Link("Pain", DBR + "Pain", begin=4, end=0))
    assert (link.begin, link.end, repair.kind) == (0, 4, RepairKind.OFFSETS_MOVED)


@pytest.mark.parametrize(
    ("stated", "fixed", "kind"),
    [
        (
            "http://dbpedia.org/page/Nebraska_Cornhuskers_football",
            DBR + "Nebraska_Cornhuskers_football",
            RepairKind.RESOURCE_PAGE,
        ),
        ("https://dbpedia.org/page/Pain", "https://dbpedia.org/resource/Pain", RepairKind.RESOURCE_PAGE),
        ("http://de.dbpedia.org/page/Golf", "http://de.dbpedia.org/resource/Golf", RepairKind.RESOURCE_PAGE),
        (
            "http://de.dbpedia.org/resource/http://de.dbpedia.org/resource/Texas_A%26M_University",
            "http://de.dbpedia.org/resource/Texas_A%26M_University",
            RepairKind.RESOURCE_DOUBLED,
        ),
    ],
)
def test_resource_repairs(stated: str, fixed: str, kind: RepairKind):
    link, (repair,) = one("Golf.", Link("Golf", stated, begin=0, end=4))
    assert (link.resource, repair.kind) == (fixed, kind)


@pytest.mark.parametrize(
    "resource",
    ["http://aksw.org/notInWiki/Motorola_Inc", "http://de.dbpedia.org/resource/Lohn_(Eschweiler)", DBR + "Data_I/O"],
)
def test_links_outside_english_dbpedia_are_not_touched(resource: str):
    assert one("Golf.", Link("Golf", resource, begin=0, end=4))[1] == []


def test_same_link_twice_is_stored_once():
    first = Link("Pain", DBR + "Pain", 0.5, begin=0, end=4, line=2)
    settled = settle(
        "Pain.", [Stated(first), Stated(Link("Pain", DBR + "Pain", 0.5, begin=0, end=4, line=7))], source="s"
    )
    assert isinstance(settled, Settled)
    assert settled.links == (first,)
    assert [(r.kind, r.line) for r in settled.repairs] == [(RepairKind.DUPLICATE_LINK, 7)]


def test_unplaced_rows_may_repeat():
    row = Link("pain", DBR + "Pain")
    settled = settle("pain and pain", [Stated(row), Stated(row)], source="s")
    assert isinstance(settled, Settled) and settled.links == (row, row) and settled.repairs == ()


@pytest.mark.parametrize(
    ("links", "message"),
    [
        (
            [Link("Pain", DBR + "Pain", begin=0, end=4), Link("Pain", DBR + "Ache", begin=0, end=4, line=5)],
            "link 'Pain' -> http://dbpedia.org/resource/Ache: two different links on [0,4) "
            "(http://dbpedia.org/resource/Pain, http://dbpedia.org/resource/Ache); a span holds one link",
        ),
        (
            [Link("", DBR + "Pain", line=5)],
            "link '' -> http://dbpedia.org/resource/Pain: the anchor (surface form) is empty",
        ),
        ([Link("Pain", "Pain", line=5)], "link 'Pain' -> Pain: not an absolute IRI: 'Pain'"),
        ([Link("Pain", "http://x/a b", line=5)], "link 'Pain' -> http://x/a b: not a valid IRI: 'http://x/a b'"),
    ],
)
def test_links_that_cannot_be_kept(links: list[Link], message: str):
    error = settle("Pain.", [Stated(link) for link in links], source="s")
    assert isinstance(error, InputError)
    assert (error.path, error.line, error.message) == ("s", 5, message)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0.5", 0.5),
        (1, 1.0),
        ("1.8932490094221479E-4", 1.8932490094221479e-4),
        (True, "expected a number, not true/false"),
        ("nan", "'nan' is not a finite number"),
        ("x", "'x' is not a number"),
        # float() reads these as other numbers than a reader of the file would.
        ("0_5", "'0_5' is not a number"),
        ("0.1_5", "'0.1_5' is not a number"),
        ("\u0660.5", "'\u0660.5' is not a number"),
        (" 0.25 ", 0.25),
        (None, "expected a number, not null"),
        ([1], "expected a number, not a list"),
    ],
)
def test_number_value(raw: object, value: object):
    assert number_value(raw) == value


def test_confidence_value():
    assert confidence_value("1.0") == 1.0
    assert confidence_value("1.01") == "confidence '1.01' is outside [0, 1]"
    assert confidence_value(-0.1) == "confidence -0.1 is outside [0, 1]"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("18", 18),
        (18, 18),
        (18.0, 18),
        (" 7 ", 7),
        ("-1", "'-1' is not a non-negative integer offset"),
        (1.5, "1.5 is not a non-negative integer offset"),
        ("١٢", "'١٢' is not a non-negative integer offset"),
        (False, "expected an integer offset, not true/false"),
    ],
)
def test_offset_value(raw: object, value: object):
    assert offset_value(raw) == value


def test_iri_and_text_problems():
    assert iri_problem("http://ja.dbpedia.org/resource/のぞみ_(列車)") is None
    assert iri_problem("urn:isbn:0451450523") is None
    assert iri_problem("dbr:Pain") is None  # a scheme "dbr": absolute, if odd
    assert iri_problem("//dbpedia.org/resource/Pain") == "not an absolute IRI"
    assert text_problem("ok") is None
    assert text_problem("a\udc80") == "holds a lone surrogate (\\udc80) at position 1, which is no character"
