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

Cost: occurrences are found tier by tier by regular expressions, and a tier's search
stops as soon as its rows are placed and the choice is known to be a guess or not, so a
surface form that occurs millions of times costs a few matches, and whole runs of text
that other links hold are skipped. Memory is the text, its folded copy and one byte per
code point (bench/hostile_offsets.py).
"""

from __future__ import annotations

import re
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

# A placed copy of a link is built positionally, several times faster than
# dataclasses.replace (this runs for every row of a summary corpus); only while Link has
# exactly these fields, so that a field added to Link is never dropped.
_LINK_FIELDS = (
    "surface", "resource", "confidence", "begin", "end", "inferred", "ambiguous",
    "types", "line", "support", "second_rank", "annotator",
)  # fmt: skip
_POSITIONAL = tuple(f.name for f in fields(Link)) == _LINK_FIELDS


class _Surface:
    """The unplaced rows that share one surface form, and how far their placing got."""

    __slots__ = ("chosen", "free_seen", "rows", "text", "wanted")

    def __init__(self, text: str, rows: list[int]) -> None:
        self.text = text
        self.rows = rows
        self.chosen: list[int] = []
        self.wanted = len(rows)
        self.free_seen = 0

    @property
    def ambiguous(self) -> bool:
        """Every row placed with free occurrences to spare: once true, nothing more to search."""
        return self.wanted == 0 and self.free_seen > len(self.rows)


def place_links(text: str, links: Sequence[Link]) -> tuple[Link, ...]:
    """Give every link without offsets a span in ``text``, following the module's rules.

    Returns the links in the order given; placed ones are copies with ``begin``/``end``
    set and ``inferred=True``; those already placed or not placeable are returned as is.
    """
    surfaces = _unplaced_surfaces(links)
    if not surfaces:
        return tuple(links)
    search = _Search(text, _occupied(text, links))
    by_length: dict[int, list[_Surface]] = {}
    for surface in surfaces:
        by_length.setdefault(len(surface.text), []).append(surface)
    for length in sorted(by_length, reverse=True):
        _place_same_length(by_length[length], search)
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


class _Search:
    """The text, its folded copy, which code points are taken, and each tier's pattern."""

    def __init__(self, text: str, occupied: bytearray) -> None:
        self.text = text
        self.folded = fold_case(text)
        self.occupied = occupied
        self.is_word: Callable[[str], bool] = str.isalnum if text.isascii() else _is_word_char
        # Patterns see word characters as [^\W_] (str.isalnum); next to a cut in a
        # non-ASCII text they also take any non-ASCII character, and ``holds`` checks each
        # match exactly (a pattern naming every combining mark is slow to compile and run).
        self.cut = r"[^\W_]" if text.isascii() else r"(?:[^\W_]|[^\x00-\x7f])"

    def pattern(self, surface: str, tier: int) -> re.Pattern[str] | None:
        """A superset of the occurrences of ``surface`` that a tier holds (``holds`` tells
        exactly), or None where the tier cannot hold any."""
        exact, whole = _TIERS[tier]
        needle = re.escape(surface if exact else fold_case(surface))
        # Only an edge of the surface form that is itself a word character can run on.
        starts, ends = self.is_word(surface[0]), self.is_word(surface[-1])
        if whole:
            return re.compile(needle + (rf"(?<![^\W_]{needle})" if starts else "") + (r"(?![^\W_])" if ends else ""))
        cut = self.cut
        cuts = ([f"(?<={cut}{needle})"] if starts else []) + ([f"(?={cut})"] if ends else [])
        return re.compile(needle + "(?:" + "|".join(cuts) + ")") if cuts else None

    def holds(self, surface: str, tier: int, begin: int) -> bool:
        """Whether the occurrence of ``surface`` (or of a case variant) at ``begin`` is the tier's."""
        exact, whole = _TIERS[tier]
        text, is_word = self.text, self.is_word
        if not exact and text.startswith(surface, begin):
            return False  # an exact occurrence: an exact tier's
        end = begin + len(surface)
        # A whole word cuts no word of the text in two.
        is_whole = (begin == 0 or not is_word(text[begin]) or not is_word(text[begin - 1])) and (
            end == len(text) or not is_word(text[end - 1]) or not is_word(text[end])
        )
        return is_whole == whole


def _is_word_char(char: str) -> bool:
    # A combining mark belongs to the letter before it ("e" + U+0301 is one letter).
    return char.isalnum() or _is_mark(char)


def _is_mark(char: str) -> bool:
    return not char.isascii() and unicodedata.category(char).startswith("M")


def _place_same_length(surfaces: list[_Surface], search: _Search) -> None:
    # Tier by tier across all surface forms of this length, so a case variant's fallback
    # never takes another form's exact occurrence.
    for tier in range(len(_TIERS)):
        for surface in surfaces:
            if surface.wanted:
                _take(surface, tier, search)


def _take(surface: _Surface, tier: int, search: _Search) -> None:
    """Place rows of ``surface`` on the tier's free occurrences, in text order.

    "Free" is as the tier stood when this call began: an occurrence that overlaps only
    the rows this call placed ("aa" in "aaa") still counts for the guess.
    """
    occupied, size = search.occupied, len(surface.text)
    taken = occupied.find
    following = _Occurrences(search, surface.text, tier)
    placed_until = 0  # the end of the last row this call placed
    at = 0
    while not surface.ambiguous:
        begin = following.next(at)
        if begin == -1:
            return
        end = begin + size
        at = begin + 1  # step by one, not by len: "aa" occurs at 0, 1 and 2 in "aaaa"
        blocked = taken(1, max(begin, placed_until), end)
        if blocked != -1:
            # Every occurrence that begins before the end of this taken run overlaps it.
            at = taken(0, blocked)
            if at == -1:
                return
            continue
        surface.free_seen += 1
        if surface.wanted and taken(1, begin, end) == -1:
            occupied[begin:end] = b"\x01" * size
            surface.chosen.append(begin)
            surface.wanted -= 1
            placed_until = end


class _Occurrences:
    """The occurrences of a surface form that a tier holds, in text order.

    The first few are found with ``str.find``, each checked in Python: all a usual text
    needs, and no pattern to compile. Past them the tier's pattern takes over, which skips
    in C what the tier does not hold (a tier with nothing among millions of occurrences).
    """

    FIND_FIRST = 64

    def __init__(self, search: _Search, surface: str, tier: int) -> None:
        self.search = search
        self.surface = surface
        self.tier = tier
        self.haystack = search.text if _TIERS[tier][0] else search.folded
        self.needle = surface if _TIERS[tier][0] else fold_case(surface)
        self.found = 0
        self.pattern: re.Pattern[str] | None = None

    def next(self, at: int) -> int:
        """The first occurrence the tier holds at or after ``at``, or -1."""
        search, surface, tier = self.search, self.surface, self.tier
        while True:
            if self.found < self.FIND_FIRST:
                self.found += 1
                begin = self.haystack.find(self.needle, at)
            else:
                if self.pattern is None:
                    self.pattern = search.pattern(surface, tier)
                    if self.pattern is None:
                        return -1
                match = self.pattern.search(self.haystack, at)
                begin = -1 if match is None else match.start()
            if begin == -1 or search.holds(surface, tier, begin):
                return begin
            at = begin + 1


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
