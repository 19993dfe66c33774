"""Tests for graphbuild.offsets.place_links (offset recovery for the summary format)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import SEED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphbuild.model.records import Link
from graphbuild.pipeline import offsets
from graphbuild.pipeline.offsets import place_links

DBR = "http://dbpedia.org/resource/"

# Line 1 of the seed (seeds/000_70018b3530a68054.txt): its text, 1161 code points with two
# U+2019 apostrophes.
SEED_TEXT = SEED.read_text(encoding="utf-8").split("\n")[0]

# The seed's 12 rows in file order: (surface, confidence, resource, line).
SEED_ROWS = [
    ("self-management", 0.999999999953161, "Decision_making", 2),
    ("pain", 0.9350527805613198, "Pain", 4),
    ("cancer pain", 1.0, "Cancer_pain", 6),
    ("self-management", 0.999999999953161, "Decision_making", 8),
    ("self-management", 0.999999999953161, "Decision_making", 10),
    ("focus group", 1.0, "Focus_group", 12),
    ("self-management", 0.999999999953161, "Decision_making", 14),
    ("self-management", 0.999999999953161, "Decision_making", 16),
    ("palliative care", 1.0, "Palliative_care", 18),
    ("cancer pain", 1.0, "Cancer_pain", 20),
    ("self-management", 0.999999999953161, "Decision_making", 22),
    ("pain", 0.9350527805613198, "Pain", 24),
]

# The true spans, from seed-abstract/6a999a4d423d02b92a41b4226eb2.conf045.nif.ttl, in
# the order the rows above get them (identical rows take occurrences in text order).
SEED_SPANS = [
    (118, 133),
    (725, 729),
    (137, 148),
    (229, 244),
    (347, 362),
    (296, 307),
    (469, 484),
    (991, 1006),
    (77, 92),
    (366, 377),
    (1123, 1138),
    (807, 811),
]


def _seed_links() -> list[Link]:
    return [Link(surface=s, resource=DBR + r, confidence=c, line=n) for s, c, r, n in SEED_ROWS]


def _rows(*surfaces: str) -> list[Link]:
    return [Link(surface=s, resource=DBR + s.replace(" ", "_")) for s in surfaces]


def _spans(links: tuple[Link, ...]) -> list[tuple[int, int] | None]:
    return [(link.begin, link.end) if link.placed else None for link in links]  # type: ignore[misc]


# --- the seed -------------------------------------------------------------------------


def test_seed_text_is_the_seed_line() -> None:
    assert len(SEED_TEXT) == 1161
    assert SEED_TEXT.count("\u2019") == 2


def test_seed_rows_land_on_the_nif_offsets() -> None:
    placed = place_links(SEED_TEXT, _seed_links())
    assert _spans(placed) == SEED_SPANS


def test_seed_standalone_pain_rows_skip_the_cancer_pain_spans() -> None:
    placed = place_links(SEED_TEXT, _seed_links())
    pains = [link for link in placed if link.surface == "pain"]
    assert [(p.begin, p.end) for p in pains] == [(725, 729), (807, 811)]
    assert [SEED_TEXT[p.begin : p.end] for p in pains] == ["pain", "pain"]  # type: ignore[misc]
    cancer = [(link.begin, link.end) for link in placed if link.surface == "cancer pain"]
    assert cancer == [(137, 148), (366, 377)]


def test_seed_links_are_flagged_inferred_not_ambiguous_and_otherwise_kept() -> None:
    links = _seed_links()
    placed = place_links(SEED_TEXT, links)
    assert all(link.inferred for link in placed)
    # Every surface form has exactly as many free occurrences as rows.
    assert not any(link.ambiguous for link in placed)
    for before, after in zip(links, placed):
        assert replace(after, begin=None, end=None, inferred=False) == before
        assert SEED_TEXT[after.begin : after.end] == before.surface  # type: ignore[misc]


def test_seed_placement_does_not_depend_on_row_order() -> None:
    links = _seed_links()
    forward = {(link.begin, link.end, link.resource) for link in place_links(SEED_TEXT, links)}
    backward = {(link.begin, link.end, link.resource) for link in place_links(SEED_TEXT, links[::-1])}
    assert forward == backward


# --- small hand-made cases ------------------------------------------------------------

CASES = [
    # id, text, surfaces, expected spans (None = unplaced)
    ("exact-case-only", "the pain", ["pain"], [(4, 8)]),
    ("case-insensitive-fallback", "Pain is bad", ["pain"], [(0, 4)]),
    ("case-insensitive-upper-row", "an eil test", ["EIL"], [(3, 6)]),
    ("exact-before-case-insensitive", "Pain and pain", ["pain"], [(9, 13)]),
    ("whole-word-before-inside-word", "painful pain", ["pain"], [(8, 12)]),
    ("inside-word-as-last-resort", "painful", ["pain"], [(0, 4)]),
    ("other-case-word-before-exact-inside-word", "painful Pain", ["pain"], [(8, 12)]),
    ("exact-inside-word-before-other-case-inside-word", "PAINFUL painful", ["pain"], [(8, 12)]),
    ("longer-first", "cancer pain and pain", ["pain", "cancer pain"], [(16, 20), (0, 11)]),
    ("longer-first-leaves-shorter-unplaced", "cancer pain", ["pain", "cancer pain"], [None, (0, 11)]),
    ("overlap-refused-longer-wins", "new york city", ["new york", "york city"], [None, (4, 13)]),
    ("overlap-refused-same-form", "aaa", ["aa", "aa"], [(0, 2), None]),
    ("overlapping-candidates-both-used", "aaaa", ["aa", "aa"], [(0, 2), (2, 4)]),
    ("unplaceable", "hello there", ["world"], [None]),
    ("blank-surface-unplaced", "hello there", [""], [None]),
    ("identical-rows-text-order", "x pain y pain z pain", ["pain", "pain", "pain"], [(2, 6), (9, 13), (16, 20)]),
    ("identical-rows-text-order-across-tiers", "Pain x pain", ["pain", "pain"], [(0, 4), (7, 11)]),
    ("more-rows-than-occurrences", "one pain", ["pain", "pain"], [(4, 8), None]),
    ("same-length-case-variants-tier-by-tier", "pain and PAIN", ["Pain", "pain"], [(9, 13), (0, 4)]),
    ("digits-are-word-characters", "in 2021 and 21 cases", ["21"], [(12, 14)]),
    ("surface-ending-in-digits", "COVID-19s and COVID-19.", ["COVID-19"], [(14, 22)]),
    ("punctuation-edge-needs-no-boundary", "XHIV/ and HIV/AIDS", ["HIV/"], [(10, 14)]),
    ("word-before-punctuation", "HIVs and HIV/AIDS", ["HIV"], [(9, 12)]),
    ("punctuation-inside-word-run", "XC++ and C++", ["C++"], [(9, 12)]),
    ("slash-number", "at 1/50-scale", ["/50"], [(4, 7)]),
    ("hyphenated-form", "non-self-management and self-management", ["self-management"], [(4, 19)]),
    ("non-ascii-letters-are-word-characters", "Münd nd", ["nd"], [(5, 7)]),
    ("non-ascii-case-insensitive", "Die GRÖSSE und Größe", ["größe"], [(15, 20)]),
    ("accented-word-boundary", "caféine café", ["café"], [(8, 12)]),
    ("combining-mark-is-part-of-word", "cafe\u0301 cafe", ["cafe"], [(6, 10)]),
    ("offsets-survive-dotted-capital-i", "İ PAIN", ["pain"], [(2, 6)]),
    ("greek-final-sigma", "Ο ΚΟΣΜΟΣ", ["κοσμος"], [(2, 8)]),
    ("curly-apostrophe-is-a-boundary", "professionals\u2019 own", ["professionals"], [(0, 13)]),
    ("cjk-text", "研究 of 疼痛 and 疼痛", ["疼痛", "疼痛"], [(6, 8), (13, 15)]),
]


@pytest.mark.parametrize(("text", "surfaces", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_placement(text: str, surfaces: list[str], expected: list[tuple[int, int] | None]) -> None:
    links = _rows(*surfaces)
    placed = place_links(text, links)
    assert _spans(placed) == expected
    for before, after in zip(links, placed):
        if after.placed:
            assert after.inferred is True
            assert text[after.begin : after.end].lower() == before.surface.lower()  # type: ignore[misc]
        else:
            assert after is before


AMBIGUITY = [
    # id, text, surfaces, expected ambiguous flag per row
    ("more-occurrences-than-rows", "pain here, pain there", ["pain"], [True]),
    ("as-many-occurrences-as-rows", "pain here, pain there", ["pain", "pain"], [False, False]),
    ("occurrence-inside-longer-link-not-counted", "cancer pain and pain", ["cancer pain", "pain"], [False, False]),
    ("later-tier-not-counted", "pain and painful", ["pain"], [False]),
    ("other-case-not-counted-when-exact-suffices", "Pain and pain", ["pain"], [False]),
    ("case-insensitive-tier-counted", "PAIN and Pain", ["pain"], [True]),
    ("fewer-occurrences-than-rows", "one pain", ["pain", "pain"], [False, False]),
    ("unplaceable-not-ambiguous", "nothing", ["pain"], [False]),
    ("per-surface-form", "pain, pain and cancer", ["pain", "cancer"], [True, False]),
    ("overlapping-self-candidates", "aaa", ["aa"], [True]),
]


@pytest.mark.parametrize(("text", "surfaces", "expected"), [c[1:] for c in AMBIGUITY], ids=[c[0] for c in AMBIGUITY])
def test_ambiguous_flag(text: str, surfaces: list[str], expected: list[bool]) -> None:
    assert [link.ambiguous for link in place_links(text, _rows(*surfaces))] == expected


def test_pre_placed_link_is_returned_unchanged_and_blocks_its_span() -> None:
    fixed = Link(surface="pain", resource=DBR + "Pain", begin=0, end=4)
    free = Link(surface="pain", resource=DBR + "Pain")
    placed = place_links("pain and pain", [fixed, free])
    assert placed[0] is fixed
    assert (placed[1].begin, placed[1].end, placed[1].ambiguous) == (9, 13, False)


def test_pre_placed_link_can_leave_a_row_unplaced() -> None:
    fixed = Link(surface="cancer pain", resource=DBR + "Cancer_pain", begin=0, end=11)
    free = Link(surface="pain", resource=DBR + "Pain")
    placed = place_links("cancer pain", [free, fixed])
    assert placed == (free, fixed)
    assert placed[0] is free


def test_pre_placed_span_blocks_even_when_its_surface_differs() -> None:
    # The span counts, not the surface form: Spotlight may have re-cased the anchor.
    fixed = Link(surface="Eil", resource=DBR + "EIL", begin=0, end=3)
    placed = place_links("EIL and EIL", [fixed, Link(surface="EIL", resource=DBR + "EIL")])
    assert (placed[1].begin, placed[1].end) == (8, 11)


def test_rows_with_one_surface_and_different_resources_keep_row_order() -> None:
    links = [Link(surface="mouse", resource=DBR + "Mouse"), Link(surface="mouse", resource=DBR + "Computer_mouse")]
    placed = place_links("a mouse and a mouse", links)
    assert [(link.resource, link.begin) for link in placed] == [(DBR + "Mouse", 2), (DBR + "Computer_mouse", 14)]


def test_empty_inputs() -> None:
    assert place_links("", []) == ()
    assert place_links("text", []) == ()
    lone = Link(surface="pain", resource=DBR + "Pain")
    assert place_links("", [lone]) == (lone,)


def test_result_is_a_tuple_even_for_a_tuple_or_list_input() -> None:
    links = _rows("pain")
    assert isinstance(place_links("pain", links), tuple)
    assert place_links("pain", tuple(links)) == place_links("pain", links)


# --- properties -----------------------------------------------------------------------

# A small alphabet so that surface forms recur, in several cases and scripts, with word
# and non-word characters, and the code points that change length or case by context.
_ALPHABET = "aaabbAB  -/+.éÉ\u0301ΣσςİiI"


@st.composite
def _texts_and_links(draw: st.DrawFn) -> tuple[str, list[Link]]:
    text = draw(st.text(alphabet=_ALPHABET, max_size=40))
    links: list[Link] = []
    taken: list[tuple[int, int]] = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["slice", "slice-upper", "random", "pre-placed"]))
        if text and kind != "random":
            begin = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(begin + 1, min(len(text), begin + 6)))
            surface = text[begin:end]
            if kind == "pre-placed":
                if all(end <= b or begin >= e for b, e in taken):
                    taken.append((begin, end))
                    links.append(Link(surface=surface, resource=DBR + "X", begin=begin, end=end))
                continue
            links.append(Link(surface=surface.upper() if kind == "slice-upper" else surface, resource=DBR + "X"))
        else:
            links.append(Link(surface=draw(st.text(alphabet=_ALPHABET, max_size=4)), resource=DBR + "Y"))
    return text, links


@settings(max_examples=400, deadline=None)
@given(_texts_and_links())
def test_placements_never_overlap_and_match_their_surface(case: tuple[str, list[Link]]) -> None:
    text, links = case
    placed = place_links(text, links)
    assert isinstance(placed, tuple)
    assert len(placed) == len(links)
    spans = []
    for before, after in zip(links, placed):
        assert (after.surface, after.resource) == (before.surface, before.resource)
        if before.placed or not after.placed:
            assert after is before
            if before.placed:
                spans.append((before.begin, before.end))
            continue
        assert after.inferred
        assert after.end - after.begin == len(before.surface)  # type: ignore[operator]
        assert text[after.begin : after.end].casefold() == before.surface.casefold()
        spans.append((after.begin, after.end))
    spans.sort()
    assert all(end <= next_begin for (_, end), (next_begin, _) in zip(spans, spans[1:]))


@settings(max_examples=200, deadline=None)
@given(_texts_and_links())
def test_placing_again_changes_nothing(case: tuple[str, list[Link]]) -> None:
    text, links = case
    once = place_links(text, links)
    assert place_links(text, once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_ALPHABET, min_size=1, max_size=40), st.data())
def test_a_lone_row_found_in_the_text_is_always_placed(text: str, data: st.DataObject) -> None:
    begin = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(begin + 1, len(text)))
    surface = text[begin:end]
    if not surface.strip():
        return
    (link,) = place_links(text, [Link(surface=surface, resource=DBR + "X")])
    assert link.placed


def test_a_placed_row_keeps_every_other_field() -> None:
    row = Link(
        surface="pain",
        resource=DBR + "Pain",
        confidence=0.5,
        types=("http://dbpedia.org/ontology/Disease",),
        line=7,
        support=12,
        second_rank=0.25,
        annotator="http://example.org/linker",
    )
    (placed,) = place_links("a pain", [row])
    assert placed == replace(row, begin=2, end=6, inferred=True)
    # place_links copies links field by field while Link has exactly the fields it knows
    # (faster than dataclasses.replace); a field added to Link must be added there too.
    assert offsets._POSITIONAL


def _reference(text: str, links: list[Link]) -> list[tuple[int | None, int | None, bool]]:
    """The module's rules done the plain way: every occurrence listed up front, by tier."""
    fold = offsets.fold_case
    is_word = str.isalnum if text.isascii() else offsets._is_word_char
    occupied = bytearray(len(text))
    for link in links:
        if link.begin is not None and link.end is not None:
            occupied[link.begin : link.end] = b"\x01" * (link.end - link.begin)
    rows: dict[str, list[int]] = {}
    for index, link in enumerate(links):
        if not link.placed and link.surface.strip():
            rows.setdefault(link.surface, []).append(index)
    folded = fold(text)
    tiers = {}
    for surface in rows:
        found: list[list[int]] = [[], [], [], []]
        begin = folded.find(fold(surface))
        while begin != -1:
            end = begin + len(surface)
            whole = (begin == 0 or not is_word(text[begin]) or not is_word(text[begin - 1])) and (
                end == len(text) or not is_word(text[end - 1]) or not is_word(text[end])
            )
            found[(0 if text.startswith(surface, begin) else 1) + (0 if whole else 2)].append(begin)
            begin = folded.find(fold(surface), begin + 1)
        tiers[surface] = found
    chosen: dict[str, list[int]] = {s: [] for s in rows}
    seen = dict.fromkeys(rows, 0)
    for length in sorted({len(s) for s in rows}, reverse=True):
        for tier in range(4):
            for surface in (s for s in rows if len(s) == length):
                if len(chosen[surface]) == len(rows[surface]):
                    continue
                free = [b for b in tiers[surface][tier] if occupied.find(1, b, b + length) == -1]
                seen[surface] += len(free)
                for begin in free:
                    if len(chosen[surface]) < len(rows[surface]) and occupied.find(1, begin, begin + length) == -1:
                        occupied[begin : begin + length] = b"\x01" * length
                        chosen[surface].append(begin)
    result: list[tuple[int | None, int | None, bool]] = [(link.begin, link.end, link.ambiguous) for link in links]
    for surface, indexes in rows.items():
        ambiguous = len(chosen[surface]) == len(indexes) and seen[surface] > len(indexes)
        for index, begin in zip(indexes, sorted(chosen[surface])):
            result[index] = (begin, begin + len(surface), ambiguous)
    return result


@pytest.mark.parametrize("find_first", [0, 1, 64])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(st.sampled_from("aAb -é\u0301İiΣσς’1"), max_size=40),
    surfaces=st.lists(st.text(st.sampled_from("aAb -é\u0301İiσ1"), min_size=1, max_size=4), max_size=6),
    placed=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 5)), max_size=2),
)
def test_placing_follows_the_plain_reading_of_the_rules(
    monkeypatch: pytest.MonkeyPatch, find_first: int, text: str, surfaces: list[str], placed: list[tuple[int, int]]
):
    """The lazy search (str.find first, then each tier's pattern) places exactly as listing
    every occurrence up front would; it only stops earlier."""
    monkeypatch.setattr(offsets._Occurrences, "FIND_FIRST", find_first)
    links = [Link(s, DBR + "X") for s in surfaces]
    links += [Link(text[b : b + n] or "x", DBR + "Y", begin=b, end=b + n) for b, n in placed if b + n <= len(text)]
    got = [(link.begin, link.end, link.ambiguous) for link in place_links(text, links)]
    assert got == _reference(text, links)
