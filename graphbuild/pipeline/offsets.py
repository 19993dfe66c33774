"""Recover character offsets for links that carry none, by matching their surface forms.

The summary format names each mention's surface form but not where it sits in the text,
and repeats a row once per occurrence. ``place_links`` puts each such row on an occurrence
of its surface form in the text, by these fixed rules:

1. Links that already have offsets keep them unchanged, and their spans are taken.
2. Each row goes on a distinct occurrence of its surface form; no two mentions overlap.
3. Longer surface forms are placed before shorter ones, so ``pain`` never lands inside a
   linked ``cancer pain``. Surface forms of equal length are placed side by side, tier by
   tier (rule 4), so ``Pain`` cannot take an exact ``pain`` from the row ``pain``.
4. Occurrences are tried best first, in four tiers: exact-case whole words, then
   case-insensitive whole words, then exact-case matches inside words, then
   case-insensitive matches inside words; within one tier, in text order.
5. Rows with the same surface form take their occurrences in text order: the first such
   row gets the earliest chosen occurrence.
6. A placed row gets ``inferred=True``, and ``ambiguous=True`` when its surface form had
   more free occurrences (in the tiers that were searched) than rows, so the choice of
   occurrence was a guess.
7. A row that fits nowhere is returned unchanged (``begin`` is ``None``); the caller keeps
   it as a document-level annotation.

Offsets are half-open ``[begin, end)`` in code points (Python ``str`` indices).

A "whole word" occurrence cuts no word of the text in two, where a word is a run of
letters, digits and combining marks of any script (``é``, ``ж``, ``7`` and U+0301 are word
characters; ``-``, ``/``, ``’`` and ``(`` are not). So ``21`` is not a whole word in
``2021``, nor ``café`` in ``caféine``; and an edge of the surface form that is not itself
a word character is a boundary whatever stands next to it: Spotlight's ``HIV/`` in
``HIV/AIDS``, ``/50`` in ``1/50-scale`` and ``4-`` in ``(4-methyl`` are whole words.

Case-insensitive matching lower-cases one code point at a time (the two sigmas count as
one letter) so that offsets in the folded text are offsets in the original; a capital
whose lower case is two code points (``İ``) only matches itself.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import fields, replace

from graphbuild.model.records import Link
from graphbuild.text import fold_case

__all__ = ["place_links"]

# Preference order of occurrences, as (exact case, whole word). Exact whole words come
# first and case-insensitive parts of words last; between them a differently cased whole
# word ("Pain" for "pain") beats an exact match inside a longer word ("painful"), because
# Spotlight spots whole tokens but sometimes re-cases the anchor ("Eil" for "EIL").
_TIERS: tuple[tuple[bool, bool], ...] = ((True, True), (False, True), (True, False), (False, False))
_TIER_OF = {key: index for index, key in enumerate(_TIERS)}
_EXACT_WHOLE, _FOLDED_WHOLE, _EXACT_PART, _FOLDED_PART = (_TIER_OF[key] for key in _TIERS)

# A placed copy of a link is built positionally, several times faster than
# dataclasses.replace (this runs for every row of a summary corpus); only while Link has
# exactly these fields, so that a field added to Link is never dropped.
_LINK_FIELDS = (
    "surface", "resource", "confidence", "begin", "end", "inferred", "ambiguous",
    "types", "line", "support", "second_rank", "annotator",
)  # fmt: skip
_POSITIONAL = tuple(f.name for f in fields(Link)) == _LINK_FIELDS


class _Surface:
    """The unplaced rows that share one surface form, and their candidate occurrences."""

    __slots__ = ("chosen", "free_seen", "rows", "text", "tiers", "wanted")

    def __init__(self, text: str, rows: list[int]) -> None:
        self.text = text
        self.rows = rows
        self.tiers: tuple[list[int], ...] = ()
        self.chosen: list[int] = []
        self.wanted = len(rows)
        self.free_seen = 0

    @property
    def ambiguous(self) -> bool:
        return self.wanted == 0 and self.free_seen > len(self.rows)


def place_links(text: str, links: Sequence[Link]) -> tuple[Link, ...]:
    """Give every link without offsets a span in ``text``, following the module's rules.

    Returns the links in the order given; placed ones are copies with ``begin``/``end``
    set and ``inferred=True``; those already placed or not placeable are returned as is.
    """
    surfaces = _unplaced_surfaces(links)
    if not surfaces:
        return tuple(links)
    occupied = _occupied(text, links)
    folded = fold_case(text)
    is_word = str.isalnum if text.isascii() else _is_word_char
    by_length: dict[int, list[_Surface]] = {}
    for surface in surfaces:
        surface.tiers = _candidates(text, folded, surface.text, is_word)
        by_length.setdefault(len(surface.text), []).append(surface)
    for length in sorted(by_length, reverse=True):
        _place_same_length(by_length[length], occupied)
    result = list(links)
    for surface in surfaces:
        _apply(result, surface)
    return tuple(result)


def _unplaced_surfaces(links: Sequence[Link]) -> list[_Surface]:
    by_text: dict[str, _Surface] = {}
    for index, link in enumerate(links):
        if link.begin is not None and link.end is not None:
            continue
        surface = by_text.get(link.surface)
        if surface is not None:
            surface.rows.append(index)
            surface.wanted += 1
        # A blank surface form would "occur" everywhere; it cannot be placed honestly.
        elif link.surface.strip():
            by_text[link.surface] = _Surface(link.surface, [index])
    return list(by_text.values())


def _occupied(text: str, links: Sequence[Link]) -> bytearray:
    """One byte per code point, 1 where a pre-placed link already stands."""
    occupied = bytearray(len(text))
    for link in links:
        if link.placed:
            begin, end = max(link.begin or 0, 0), min(link.end or 0, len(text))
            if begin < end:
                occupied[begin:end] = b"\x01" * (end - begin)
    return occupied


def _candidates(text: str, folded: str, surface: str, is_word: Callable[[str], bool]) -> tuple[list[int], ...]:
    """Every begin offset of ``surface`` in ``text``, bucketed by tier, in text order."""
    tiers: tuple[list[int], ...] = ([], [], [], [])
    needle = fold_case(surface)
    size, length = len(surface), len(text)
    begin = folded.find(needle)
    while begin != -1:
        end = begin + size
        # A whole word cuts no word in two; only an edge that is itself a word character
        # can run on into a neighbour.
        whole = (begin == 0 or not is_word(text[begin]) or not is_word(text[begin - 1])) and (
            end == length or not is_word(text[end - 1]) or not is_word(text[end])
        )
        if text.startswith(surface, begin):
            tiers[_EXACT_WHOLE if whole else _EXACT_PART].append(begin)
        else:
            tiers[_FOLDED_WHOLE if whole else _FOLDED_PART].append(begin)
        # Step by one, not by len: "aa" occurs at 0, 1 and 2 in "aaaa", and an
        # overlapping candidate may be the only free one.
        begin = folded.find(needle, begin + 1)
    return tiers


def _is_word_char(char: str) -> bool:
    # A combining mark belongs to the letter before it ("e" + U+0301 is one letter).
    return char.isalnum() or (not char.isascii() and unicodedata.category(char).startswith("M"))


def _place_same_length(surfaces: list[_Surface], occupied: bytearray) -> None:
    # Tier by tier across all surface forms of this length, so a case variant's fallback
    # never takes another form's exact occurrence.
    for tier in range(len(_TIERS)):
        for surface in surfaces:
            if surface.wanted:
                _take(surface, surface.tiers[tier], occupied)


def _take(surface: _Surface, begins: list[int], occupied: bytearray) -> None:
    if not begins:
        return
    size = len(surface.text)
    taken = occupied.find
    free = [begin for begin in begins if taken(1, begin, begin + size) == -1]
    surface.free_seen += len(free)
    for begin in free:
        if not surface.wanted:
            break
        # Re-check: an earlier pick of this same form may overlap this one ("aa" in "aaa").
        if taken(1, begin, begin + size) == -1:
            occupied[begin : begin + size] = b"\x01" * size
            surface.chosen.append(begin)
            surface.wanted -= 1


def _apply(result: list[Link], surface: _Surface) -> None:
    # Rows of one form are interchangeable as far as the text can tell; text order is
    # the only order they have, so the first row gets the first occurrence.
    ambiguous = surface.ambiguous
    size = len(surface.text)
    for index, begin in zip(surface.rows, sorted(surface.chosen)):
        result[index] = _placed(result[index], begin, begin + size, ambiguous)


def _placed(link: Link, begin: int, end: int, ambiguous: bool) -> Link:
    if not _POSITIONAL:
        return replace(link, begin=begin, end=end, inferred=True, ambiguous=ambiguous)
    return Link(
        link.surface, link.resource, link.confidence, begin, end, True, ambiguous,
        link.types, link.line, link.support, link.second_rank, link.annotator,
    )  # fmt: skip
