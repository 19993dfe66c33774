"""Reader for DBpedia Spotlight's JSON: the response of ``/annotate`` (``Accept: application/json``).

A ``.json`` file holds one response (the document id is its ``id`` member if it has one,
else the file's stem), or one response per line, each with an ``id`` member added. The
response's ``@text`` is the text; each of its ``Resources`` is a link: ``@URI``,
``@surfaceForm``, ``@offset``, ``@similarityScore`` (the confidence), ``@support`` and
``@percentageOfSecondRank`` (kept as ``gb:support`` and ``gb:percentageOfSecondRank``), and
``@types``. Numbers arrive as strings; a response without ``Resources`` is a document
with no mentions; older servers write a lone resource as an object, not a list.

``@offset`` counts UTF-16 code units (Spotlight is Java): it is converted to code points,
which differ after any character outside the Basic Multilingual Plane (emoji, say).

``@types`` is a comma-separated list of Spotlight's prefixed names (``DBpedia:Place``,
``Schema:Place``, ``Wikidata:Q486972``, ``DUL:Agent``, ``Freebase:/location/citytown``,
``OpenCyc:…``), each expanded to an IRI for ``itsrdf:taClassRef``; Spotlight capitalises
type IRIs it was given in full (``Http://xmlns.com/foaf/0.1/Person``), and the scheme is
lower-cased back. An unknown prefix fails the document rather than minting a wrong IRI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, TypeVar

from graphbuild.errors import InputError
from graphbuild.model.records import Document, Link, Skipped
from graphbuild.model.vocab import DBO, SCHEMA, SPOTLIGHT
from graphbuild.readers.jsonl import TOO_DEEP
from graphbuild.readers.repair import Stated, confidence_value, non_negative_value, offset_value, settle, text_problem
from graphbuild.readers.text import decode, stem

N = TypeVar("N", int, float)

EXTENSIONS = (".json",)

Item = Document | InputError | Skipped

_TYPE_PREFIXES = {
    "DBpedia": DBO,
    "Schema": SCHEMA,
    "Wikidata": "http://www.wikidata.org/entity/",
    "DUL": "http://www.ontologydesignpatterns.org/ont/dul/DUL.owl#",
    "OpenCyc": "http://sw.opencyc.org/concept/",
}
_FREEBASE = "http://rdf.freebase.com/ns/"
_FULL_IRI = re.compile(r"^(?i:https?)://")


def read_spotlight(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[Item]:
    """Yield the documents of one file of Spotlight responses (module docstring)."""
    content = decode(stream.read(), source)
    if isinstance(content, InputError):
        yield content
        return
    if not content.strip():
        yield Skipped(source, "empty file, no response")
        return
    try:
        value = json.loads(content)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            yield from _per_line(content, source)
        else:
            yield InputError(source, exc.lineno, _json_problem(exc))
        return
    except RecursionError:
        yield InputError(source, 1, TOO_DEEP)
        return
    doc_id = value.get("id", stem(name)) if isinstance(value, dict) else stem(name)
    yield read_response(value, doc_id, source=source, line=1, resource_lines=_resource_lines(content))


def _per_line(content: str, source: str) -> Iterator[Item]:
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(source, number, _json_problem(exc))
            continue
        except RecursionError:
            yield InputError(source, number, TOO_DEEP)
            continue
        if not isinstance(value, dict) or "id" not in value:
            yield InputError(
                source, number, 'a file of several responses needs one JSON object per line, each with an "id"'
            )
            continue
        yield read_response(value, value["id"], source=source, line=number)


def read_response(
    value: object, raw_id: object, *, source: str, line: int | None, resource_lines: list[int] | None = None
) -> Document | InputError:
    """The document of one decoded ``/annotate`` response, or what keeps it out; errors
    point at ``line`` (or at each resource's own line in ``resource_lines``)."""
    if not isinstance(value, dict):
        return InputError(source, line, "expected a JSON object: a Spotlight /annotate response")
    doc_id = _doc_id(raw_id)
    if doc_id is None:
        return InputError(source, line, f"the id must be a non-empty string or an integer, not {raw_id!r}")
    text = value.get("@text")
    if not isinstance(text, str):
        return InputError(source, line, 'the response has no "@text" string: is this a Spotlight /annotate response?')
    if text_problem(text):
        return InputError(source, line, f'"@text" {text_problem(text)}')
    resources = value.get("Resources")
    if resources is None:
        resources = []
    elif isinstance(resources, dict):
        resources = [resources]
    elif not isinstance(resources, list):
        return InputError(source, line, '"Resources" must be a list of resources')
    lines: list[int | None] = list(resource_lines or [])
    if len(lines) != len(resources):
        lines = [line] * len(resources)
    to_chars = _utf16_to_chars(text)
    stated: list[Stated] = []
    for index, (resource, where) in enumerate(zip(resources, lines)):
        link = _link(resource, to_chars, where)
        if isinstance(link, str):
            return InputError(source, where, f"Resources[{index}]: {link}")
        stated.append(Stated(link))
    settled = settle(text, stated, source=source)
    if isinstance(settled, InputError):
        return settled
    return Document(doc_id, text, settled.links, source=source, annotator=SPOTLIGHT.value, repairs=settled.repairs)


def _link(resource: object, to_chars: list[int] | None, line: int | None) -> Link | str:
    if not isinstance(resource, dict):
        return 'expected an object with "@URI", "@surfaceForm" and "@offset"'
    uri, surface = resource.get("@URI"), resource.get("@surfaceForm")
    if not isinstance(uri, str):
        return 'no "@URI" string'
    if not isinstance(surface, str):
        return 'no "@surfaceForm" string'
    if "@offset" not in resource:
        return 'no "@offset"'
    offset = offset_value(resource["@offset"])
    if isinstance(offset, str):
        return f'"@offset": {offset}'
    begin = _to_chars(offset, to_chars)
    confidence = _optional(resource, "@similarityScore", confidence_value)
    if isinstance(confidence, str):
        return f"'@similarityScore': {confidence}"
    support = _optional(resource, "@support", offset_value)
    if isinstance(support, str):
        return f"'@support': {support}"
    second_rank = _optional(resource, "@percentageOfSecondRank", non_negative_value)
    if isinstance(second_rank, str):
        return f"'@percentageOfSecondRank': {second_rank}"
    types = _types(resource.get("@types"))
    if isinstance(types, str):
        return f'"@types": {types}'
    return Link(
        surface=surface,
        resource=uri,
        begin=begin,
        end=begin + len(surface),
        types=types,
        line=line,
        confidence=confidence,
        support=support,
        second_rank=second_rank,
    )


def _optional(resource: Mapping[str, object], key: str, parse: Callable[[object], N | str]) -> N | str | None:
    """``parse`` of the value under ``key``, or None where the key is absent or null."""
    raw = resource.get(key)
    return None if raw is None else parse(raw)


def _types(raw: object) -> tuple[str, ...] | str:
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, str):
        return "expected a comma-separated string of types"
    expanded: list[str] = []
    for name in (part.strip() for part in raw.split(",")):
        if not name:
            continue
        iri = _type_iri(name)
        if iri is None:
            known = ", ".join([*_TYPE_PREFIXES, "Freebase"])
            return f"cannot expand the type {name!r} (known prefixes: {known}, or a full http IRI)"
        if iri not in expanded:
            expanded.append(iri)
    return tuple(expanded)


def _type_iri(name: str) -> str | None:
    if _FULL_IRI.match(name):
        scheme, rest = name.split(":", 1)
        return scheme.lower() + ":" + rest
    prefix, sep, local = name.partition(":")
    if not sep or not local:
        return None
    if prefix == "Freebase":
        return _FREEBASE + ".".join(part for part in local.split("/") if part) if local.strip("/") else None
    namespace = _TYPE_PREFIXES.get(prefix)
    return namespace + local if namespace else None


def _doc_id(raw: object) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str) and raw.strip() and not text_problem(raw):
        return raw
    return None


def _utf16_to_chars(text: str) -> list[int] | None:
    """Code point index of every UTF-16 offset; None where the two agree (no astral characters)."""
    if all(ord(char) <= 0xFFFF for char in text):
        return None
    table: list[int] = []
    for index, char in enumerate(text):
        table.extend([index] * (2 if ord(char) > 0xFFFF else 1))
    table.append(len(text))
    return table


def _to_chars(offset: int, table: list[int] | None) -> int:
    # Past the end stays past the end, for repair.settle to report.
    if table is None:
        return offset
    return table[offset] if offset < len(table) else offset - (len(table) - 1) + table[-1]


def _resource_lines(content: str) -> list[int]:
    """The line of each ``"@URI"`` key, so that a pretty-printed response's errors point at the resource."""
    return [content.count("\n", 0, match.start()) + 1 for match in re.finditer(r'"@URI"\s*:', content)]


def _json_problem(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg.removesuffix(' at')} (column {exc.colno})"
