"""Checks and repairs shared by the readers whose inputs state offsets (NIF, Spotlight
JSON, JSON Lines, CSV), and the value parsing they have in common.

A reader builds each link as its input states it and hands them all, with the text, to
``settle``, which returns the links as graphbuild stores them and the repairs it made (the
reader attaches those to the document, and ingest reports each one), or an ``InputError``
when a link cannot be kept at all.

For a link whose anchor is not the text at its offsets, the repairs are tried in order:

1. same place, other case (Spotlight's ``Eil`` over ``EIL``): the anchor becomes the text's;
2. the offsets count UTF-8 bytes (KORE50 after ``ü``) or UTF-16 code units: converted;
3. the anchor occurs elsewhere: it goes to the occurrence nearest the stated begin
   (exact case before other case);
4. it occurs nowhere: the link is kept without offsets, as a document-level annotation.

A resource ``dbpedia.org/page/X`` (the HTML page) becomes ``dbpedia.org/resource/X``, and a
doubled prefix (``…/resource/http://…/resource/X``) is cut to one. Identical links on one
span are stored once; different links on one span are an error, since a phrase
(``<doc#char=b,e>``) holds exactly one link.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pyoxigraph import NamedNode

from graphbuild.errors import InputError
from graphbuild.model.records import Link, Repair, RepairKind
from graphbuild.text import fold_case


@dataclass(frozen=True, slots=True)
class Stated:
    """A link as its input states it, with the input's own IRI for it (NIF) if any."""

    link: Link
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Settled:
    links: tuple[Link, ...]
    repairs: tuple[Repair, ...]


_DBPEDIA_PAGE = re.compile(r"^(https?://(?:[a-z]{2,3}(?:-[a-z]+)?\.)?dbpedia\.org)/page/(.+)$")
_DOUBLED = re.compile(r"^https?://(?:[a-z]{2,3}(?:-[a-z]+)?\.)?dbpedia\.org/resource/(https?://.+)$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Decimal numerals, and the words float() reads as non-finite (to be refused as such).
_NUMERAL = re.compile(r"[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|(?i:nan|inf|infinity))")


def settle(text: str, stated: Sequence[Stated], *, source: str) -> Settled | InputError:
    """Check every link against ``text``, repairing what can be repaired (module docstring)."""
    units = _Units(text)
    links: list[Link] = []
    repairs: list[Repair] = []
    for item in stated:
        link = item.link
        problem = iri_problem(link.resource)
        if problem:
            return InputError(source, link.line, f"{_name(item)}: {problem}: {link.resource!r}")
        if not link.surface:
            return InputError(source, link.line, f"{_name(item)}: the anchor (surface form) is empty")
        if text_problem(link.surface):
            return InputError(source, link.line, f"{_name(item)}: the anchor {text_problem(link.surface)}")
        link, note = _resource(link)
        if note:
            repairs.append(_repair(note, item, source))
        if link.placed:
            link, note = _fit(text, link, units)
            if note:
                repairs.append(_repair(note, item, source))
        links.append(link)
    return _one_per_span(links, stated, repairs, source)


def iri_problem(value: str) -> str | None:
    """Why ``value`` cannot be a link's IRI, or None."""
    if not _SCHEME.match(value):
        return "not an absolute IRI"
    try:
        NamedNode(value)
    except ValueError:
        return "not a valid IRI"
    return None


def confidence_value(raw: object) -> float | str:
    """A confidence from a JSON or CSV value (numbers may arrive as strings), or why not."""
    value = number_value(raw)
    if isinstance(value, str):
        return value
    if not 0.0 <= value <= 1.0:
        return f"confidence {raw!r} is outside [0, 1]"
    return value


def number_value(raw: object) -> float | str:
    """A finite number from a JSON number or a numeric string, or why not."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        return f"expected a number, not {_json_kind(raw)}"
    # float() also takes "1_000", "١٢" and "infinity": never read a number other than the one written.
    if isinstance(raw, str) and not _NUMERAL.fullmatch(raw.strip()):
        return f"{raw!r} is not a number"
    value = float(raw)
    if not math.isfinite(value):
        return f"{raw!r} is not a finite number"
    return value


def non_negative_value(raw: object) -> float | str:
    """A number that may be above 1 but not below 0 (Spotlight's percentage of second rank), or why not."""
    value = number_value(raw)
    if isinstance(value, float) and value < 0:
        return f"{raw!r} is negative"
    return value


def offset_value(raw: object) -> int | str:
    """A non-negative integer offset from a JSON number or a string of digits, or why not."""
    if isinstance(raw, bool):
        return f"expected an integer offset, not {_json_kind(raw)}"
    if isinstance(raw, int) and raw >= 0:
        return raw
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        return int(raw.strip())
    if isinstance(raw, float) and raw.is_integer() and raw >= 0:
        return int(raw)
    return f"{raw!r} is not a non-negative integer offset"


def span_values(begin: object, end: object, *, quote: str = "") -> tuple[int | None, int | None] | str:
    """Both offsets of a link (None, None when neither is given), or why not; ``quote``
    wraps the field names in the message (``"`` for JSON keys)."""
    if (begin is None) != (end is None):
        return f"give both {quote}begin{quote} and {quote}end{quote}, or neither"
    if begin is None:
        return None, None
    first, last = offset_value(begin), offset_value(end)
    if isinstance(first, str):
        return f"{quote}begin{quote}: {first}"
    if isinstance(last, str):
        return f"{quote}end{quote}: {last}"
    return first, last


def text_problem(value: str) -> str | None:
    """Why a string from JSON cannot be stored (a lone surrogate is no character), or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds a lone surrogate (\\u{ord(value[exc.start]):04x}) at position {exc.start}, which is no character"
    return None


def _json_kind(raw: object) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "true/false"
    if isinstance(raw, dict):
        return "an object"
    return "a list" if isinstance(raw, list) else repr(raw)


def _name(item: Stated) -> str:
    if item.subject:
        return f"phrase <{item.subject}>"
    return f"link {item.link.surface!r} -> {item.link.resource}"


def _repair(note: tuple[RepairKind, str], item: Stated, source: str) -> Repair:
    kind, message = note
    return Repair(kind, f"{_name(item)}: {message}", source, item.link.line, item.subject)


def _resource(link: Link) -> tuple[Link, tuple[RepairKind, str] | None]:
    iri = link.resource
    doubled = _DOUBLED.match(iri)
    if doubled and iri_problem(doubled[1]) is None:
        fixed = doubled[1]
        return replace(link, resource=fixed), (
            RepairKind.RESOURCE_DOUBLED,
            f"{iri} holds a doubled prefix; linked {fixed}",
        )
    page = _DBPEDIA_PAGE.match(iri)
    if page:
        fixed = f"{page[1]}/resource/{page[2]}"
        return replace(link, resource=fixed), (
            RepairKind.RESOURCE_PAGE,
            f"{iri} is a DBpedia page, not a resource; linked {fixed}",
        )
    return link, None


def _fit(text: str, link: Link, units: _Units) -> tuple[Link, tuple[RepairKind, str] | None]:
    assert link.begin is not None and link.end is not None
    begin, end, anchor = link.begin, link.end, link.surface
    stated = f"[{begin},{end})"
    if text[begin:end] == anchor and begin < end:
        return link, None
    if end - begin == len(anchor) and fold_case(text[begin:end]) == fold_case(anchor):
        found = text[begin:end]
        message = f"anchor {anchor!r} differs in case from the text {found!r} at {stated}; kept the text's"
        return replace(link, surface=found), (RepairKind.ANCHOR_CASE, message)
    for unit, kind, counted in (
        ("utf-8", RepairKind.OFFSETS_BYTES, "UTF-8 bytes"),
        ("utf-16", RepairKind.OFFSETS_UTF16, "UTF-16 code units"),
    ):
        span = units.to_chars(unit, begin, end)
        if span and fold_case(text[span[0] : span[1]]) == fold_case(anchor):
            found = text[span[0] : span[1]]
            message = f"offsets {stated} count {counted}, not characters; {found!r} is at [{span[0]},{span[1]})"
            return replace(link, surface=found, begin=span[0], end=span[1]), (kind, message)
    nearest = _nearest(text, anchor, begin)
    if nearest is not None:
        found = text[nearest : nearest + len(anchor)]
        there = repr(text[begin:end]) if 0 <= begin < end <= len(text) else "outside the text"
        message = (
            f"anchor {anchor!r} is not at {stated} (text there: {there}); "
            f"took {found!r} at [{nearest},{nearest + len(anchor)}), {_characters(abs(nearest - begin))} away"
        )
        return replace(link, surface=found, begin=nearest, end=nearest + len(anchor)), (
            RepairKind.OFFSETS_MOVED,
            message,
        )
    message = (
        f"anchor {anchor!r} is not at {stated} and occurs nowhere in the text; kept as a document-level annotation"
    )
    return replace(link, begin=None, end=None), (RepairKind.UNPLACED, message)


def _characters(count: int) -> str:
    return f"{count} character{'' if count == 1 else 's'}"


def _nearest(text: str, anchor: str, begin: int) -> int | None:
    for haystack, needle in ((text, anchor), (fold_case(text), fold_case(anchor))):
        best: int | None = None
        found = haystack.find(needle)
        while found != -1:
            if best is None or abs(found - begin) < abs(best - begin):
                best = found
            found = haystack.find(needle, found + 1)
        if best is not None:
            return best
    return None


def _one_per_span(
    links: list[Link], stated: Sequence[Stated], repairs: list[Repair], source: str
) -> Settled | InputError:
    kept: list[Link] = []
    by_span: dict[tuple[int, int], Link] = {}
    for link, item in zip(links, stated):
        if not link.placed:
            kept.append(link)
            continue
        span = (link.begin or 0, link.end or 0)
        first = by_span.get(span)
        if first is None:
            by_span[span] = link
            kept.append(link)
        elif replace(first, line=None) == replace(link, line=None):
            message = f"{_name(item)}: the same link on [{span[0]},{span[1]}) is stated twice; stored once"
            repairs.append(Repair(RepairKind.DUPLICATE_LINK, message, source, link.line, item.subject))
        else:
            return InputError(
                source,
                link.line,
                f"{_name(item)}: two different links on [{span[0]},{span[1]}) ({first.resource}, {link.resource}); "
                "a span holds one link",
            )
    return Settled(tuple(kept), tuple(repairs))


class _Units:
    """Maps offsets counted in UTF-8 bytes or UTF-16 code units to code points."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._tables: dict[str, list[int]] = {}

    def to_chars(self, unit: str, begin: int, end: int) -> tuple[int, int] | None:
        table = self._table(unit)
        if table is None or not 0 <= begin < end <= table[-1]:
            return None
        first, last = bisect_left(table, begin), bisect_left(table, end)
        if table[first] != begin or table[last] != end:
            return None  # inside a character
        return first, last

    def _table(self, unit: str) -> list[int] | None:
        if unit not in self._tables:
            table, total = [0], 0
            for char in self.text:
                total += _width(char, unit)
                table.append(total)
            self._tables[unit] = table
        table = self._tables[unit]
        # Where units and code points agree, a conversion would change nothing.
        return None if table[-1] == len(self.text) else table


def _width(char: str, unit: str) -> int:
    if unit == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    return 2 if ord(char) > 0xFFFF else 1
