"""Reader for JSON Lines: one document per line.

    {"id": "…", "text": "…", "links": [{"surface": "…", "uri": "…", "confidence": 0.93,
                                        "begin": 725, "end": 729, "types": ["…"]}]}

``id`` (a string or an integer) and ``text`` are required, ``links`` may be missing or
empty. In a link, ``surface`` and ``uri`` are required; ``confidence`` (a number in [0, 1]),
``begin``/``end`` (half-open code-point offsets, both or neither) and ``types`` (a list of
IRIs, written as ``itsrdf:taClassRef``) are optional. A link without offsets is placed
by its surface form, as rows of the summary format are (``graphbuild.pipeline.offsets``). An
optional ``annotator`` IRI names the linker. Other members are ignored.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from graphbuild.errors import DocumentTooLarge, InputError
from graphbuild.model.records import Document, Link, Skipped
from graphbuild.readers.repair import Stated, confidence_value, iri_problem, settle, span_values, text_problem
from graphbuild.readers.text import Bounded, too_large

EXTENSIONS = (".jsonl", ".ndjson")
# Python's JSON reader recurses once per level of [ and {: a line of 100,000 [ is refused, not a crash.
TOO_DEEP = "not valid JSON here: nested too deeply (more than about 1,000 levels of [ and {)"

Item = Document | InputError | Skipped


def read_jsonl(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[Item]:
    """Yield the document of every line, or the error that keeps it out."""
    for item in json_lines(stream, source=source):
        yield _document(item[1], source=source, line=item[0]) if isinstance(item, tuple) else item


def json_lines(stream: BinaryIO, *, source: str) -> Iterator[tuple[int, object] | InputError | Skipped]:
    """``(line, value)`` for every line that holds JSON, an error for every line that does
    not, and ``Skipped`` for a source with no line at all."""
    seen = False
    lines = stream.lines() if isinstance(stream, Bounded) else iter(stream)
    for number, raw in enumerate(lines, start=1):
        if raw is None:
            assert isinstance(stream, Bounded)
            yield DocumentTooLarge(source, number, too_large(stream.limit))
            seen = True
            continue
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            yield InputError(source, number, f"not valid UTF-8 (byte {exc.start} of the line); save the file as UTF-8")
            seen = True
            continue
        if not line.strip():
            continue
        seen = True
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(source, number, _json_problem(exc))
        except RecursionError:
            yield InputError(source, number, TOO_DEEP)
    if not seen:
        yield Skipped(source, "empty file, no documents")


def id_and_text(value: dict[str, Any], *, source: str, line: int) -> tuple[str, str] | InputError:
    """A line's document id (a string or an integer, as a string) and text, checked."""
    raw_id, text = value.get("id"), value.get("text")
    if raw_id is None:
        return InputError(source, line, 'no "id": every line needs the id of its document')
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or str(raw_id).strip() == "":
        return InputError(source, line, f'"id" must be a non-empty string or an integer, not {raw_id!r}')
    if not isinstance(text, str):
        return InputError(source, line, '"text" must be a string')
    for what, string in (('"id"', str(raw_id)), ('"text"', text)):
        if text_problem(string):
            return InputError(source, line, f"{what} {text_problem(string)}")
    return str(raw_id), text


def _document(value: object, *, source: str, line: int) -> Document | InputError:
    if not isinstance(value, dict):
        return InputError(source, line, 'expected a JSON object with "id", "text" and "links"')
    checked = id_and_text(value, source=source, line=line)
    if isinstance(checked, InputError):
        return checked
    doc_id, text = checked
    links = value.get("links", [])
    if links is None:
        links = []
    if not isinstance(links, list):
        return InputError(source, line, '"links" must be a list')
    annotator = value.get("annotator")
    if annotator is not None and (not isinstance(annotator, str) or iri_problem(annotator)):
        return InputError(source, line, f'"annotator" must be an IRI, not {annotator!r}')
    stated: list[Stated] = []
    for index, raw in enumerate(links):
        link = _link(raw, line)
        if isinstance(link, str):
            return InputError(source, line, f"links[{index}]: {link}")
        stated.append(Stated(link))
    settled = settle(text, stated, source=source)
    if isinstance(settled, InputError):
        return settled
    return Document(doc_id, text, settled.links, source=source, annotator=annotator, repairs=settled.repairs)


def _link(raw: object, line: int) -> Link | str:
    if not isinstance(raw, dict):
        return 'expected an object with "surface" and "uri"'
    surface, uri = raw.get("surface"), raw.get("uri")
    if not isinstance(surface, str) or not surface:
        return '"surface" must be a non-empty string'
    if not isinstance(uri, str):
        return '"uri" must be a string'
    confidence: float | None = None
    if raw.get("confidence") is not None:
        stated = confidence_value(raw["confidence"])
        if isinstance(stated, str):
            return f'"confidence": {stated}'
        confidence = stated
    span = span_values(raw.get("begin"), raw.get("end"), quote='"')
    if isinstance(span, str):
        return span
    begin, end = span
    types = raw.get("types") or []
    if not isinstance(types, list) or not all(isinstance(t, str) and not iri_problem(t) for t in types):
        return '"types" must be a list of IRIs'
    return Link(
        surface=surface,
        resource=uri,
        confidence=confidence,
        begin=begin,
        end=end,
        types=tuple(dict.fromkeys(types)),
        line=line,
    )


def _json_problem(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg.removesuffix(' at')} (column {exc.colno})"
