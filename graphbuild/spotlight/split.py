"""Long texts in parts that a server takes, and the parts' answers as one for the whole text.

A part ends after a sentence (``.``, ``!``, ``?``, ``…`` and their CJK forms, closing quotes
and brackets with them, and the white space after) where one ends within the limit, else
after the last white space, else at the limit itself (a text with no space for that long).
The answers' ``@offset`` count UTF-16 code units of their part, as Spotlight (Java) does;
``merged`` moves each by the UTF-16 length of the text before its part, so the merged answer
reads exactly as if the whole text had been annotated at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["merged", "parts", "resources", "utf16_length"]

_SENTENCE_END = re.compile(r"""[.!?…][)\]"'’”»]*\s+|[。！？][)\]」』”’]*\s*""")
_SPACE = re.compile(r"\s+")


def parts(text: str, limit: int) -> list[tuple[int, str]]:
    """``(start, part)`` in order, covering ``text``, each at most ``limit`` code points."""
    found: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        cut = _last_end(_SENTENCE_END, text, start, end) or _last_end(_SPACE, text, start, end) or end
        found.append((start, text[start:cut]))
        start = cut
    found.append((start, text[start:]))
    return found


def _last_end(pattern: re.Pattern[str], text: str, start: int, end: int) -> int | None:
    last = None
    for match in pattern.finditer(text, start, end):
        if match.end() > start:
            last = match.end()
    return last


def utf16_length(text: str) -> int:
    """How many UTF-16 code units ``text`` takes: one per code point, two past U+FFFF."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def resources(answer: dict[str, Any]) -> list[Any]:
    """An answer's resources as a list (older servers write a lone one as an object)."""
    found = answer.get("Resources")
    if found is None:
        return []
    return [found] if isinstance(found, dict) else list(found) if isinstance(found, list) else [found]


def merged(text: str, answers: Sequence[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """One ``/annotate`` answer for ``text`` from the answers for its parts, each given with
    the code point where its ``@text`` starts in ``text``.

    A single answer for the whole text comes back as it is; offsets that are not numbers
    are left for the Spotlight reader to report.
    """
    if len(answers) == 1 and answers[0][0] == 0 and answers[0][1].get("@text") == text:
        return answers[0][1]
    whole: dict[str, Any] = {"@text": text}
    whole.update((key, value) for key, value in answers[0][1].items() if key not in ("@text", "Resources"))
    moved: list[Any] = []
    for start, answer in answers:
        base = utf16_length(text[:start])
        for resource in resources(answer):
            moved.append(_moved(resource, base))
    if moved:
        whole["Resources"] = moved
    return whole


def _moved(resource: Any, base: int) -> Any:
    if not isinstance(resource, dict) or base == 0:
        return resource
    offset = resource.get("@offset")
    try:
        value = int(str(offset))
    except ValueError:
        return resource
    return {**resource, "@offset": str(value + base) if isinstance(offset, str) else value + base}
