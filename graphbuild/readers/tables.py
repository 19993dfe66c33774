"""Reader for link tables: CSV (``.csv``) or TSV (``.tsv``), one row per mention.

A header row names the columns, in any order and any case:

    id          the document id                                       required
    surface     the surface form (the anchor)                         required
    uri         the linked resource's IRI                             required
    confidence  a number in [0, 1]                                    optional
    begin, end  half-open code-point offsets, both or neither         optional
    types       IRIs separated by spaces (itsrdf:taClassRef)          optional
    text        the document's text                                   optional

Rows of one document need not be adjacent. The text comes from the ``text`` column (on
at least one row of the document; rows that repeat it must agree; a row with an id and a
text but no surface and uri gives the text alone, so a document may have no links), or
from a side file next to the table, ``NAME.texts.csv`` or ``NAME.texts.tsv`` (gzipped or
not), with the columns ``id`` and ``text``. Side files are never read as tables of their own.

Quoting is RFC 4180's (a text with commas, quotes or newlines is quoted), for TSV too.
A bad value fails its document; a broken quote or header fails the whole table, since the
rows after it cannot be told apart. Unknown columns are an error: a misspelt
``confidance`` would otherwise drop every confidence without a word.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from graphbuild.errors import InputError
from graphbuild.model.records import Document, Link, Skipped
from graphbuild.readers.repair import Stated, confidence_value, iri_problem, settle, span_values
from graphbuild.readers.text import decode

EXTENSIONS = (".csv", ".tsv")
SIDE_SUFFIXES = (".texts.csv", ".texts.tsv")

COLUMNS = ("id", "surface", "uri", "confidence", "begin", "end", "types", "text")
_REQUIRED = ("id", "surface", "uri")
_SIDE_COLUMNS = ("id", "text")

Item = Document | InputError | Skipped


@dataclass
class _Doc:
    line: int
    text: str | None = None
    text_line: int | None = None
    links: list[Link] = field(default_factory=list)
    error: InputError | None = None


def is_side_file(path: Path) -> bool:
    """Whether ``path`` holds the texts of a table rather than a table."""
    return path.name.lower().removesuffix(".gz").endswith(SIDE_SUFFIXES)


def read_table(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[Item]:
    """Yield the documents of one link table (module docstring)."""
    if path is not None and is_side_file(path):
        yield Skipped(source, "a side file of texts; it is read with its table, not on its own")
        return
    table = _table(stream.read(), source=source, name=name, known=COLUMNS, required=_REQUIRED)
    if isinstance(table, InputError):
        yield table
        return
    columns, body = table
    docs: dict[str, _Doc] = {}
    for line, row in body:
        error = _take_row(docs, columns, row, line, source)
        if error is not None:
            yield error
    side = _side_texts(path, source) if path is not None else {}
    if isinstance(side, InputError):
        yield side
        side = {}
    for doc_id, doc in docs.items():
        yield _document(doc_id, doc, side.pop(doc_id, None), source, path)
    for doc_id, (text, line) in side.items():
        yield _document(doc_id, _Doc(line), (text, line), source, path)
    if not docs and not side:
        yield Skipped(source, "a header and no rows, so no documents")


def _table(
    data: bytes, *, source: str, name: str, known: tuple[str, ...], required: tuple[str, ...]
) -> tuple[dict[str, int], list[tuple[int, list[str]]]] | InputError:
    """The columns a table's header names (each at its index), and its rows with their lines."""
    rows = _rows(data, source=source, name=name, expected=known)
    if isinstance(rows, InputError):
        return rows
    header, body = rows
    columns = _columns(header, known, required, source)
    return columns if isinstance(columns, InputError) else (columns, body)


def _rows(
    data: bytes, *, source: str, name: str, expected: tuple[str, ...]
) -> tuple[list[str], list[tuple[int, list[str]]]] | InputError:
    content = decode(data, source)
    if isinstance(content, InputError):
        return content
    first = content.split("\n", 1)[0]
    delimiter = "\t" if name.lower().endswith(".tsv") or (not name.lower().endswith(".csv") and "\t" in first) else ","
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # abstracts can be long
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            if row:
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        return InputError(
            source, start, f"not valid {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}; no row of this table is loaded"
        )
    if not rows:
        return InputError(source, 1, f"no header row; expected the columns {', '.join(expected)}")
    return rows[0][1], rows[1:]


def _columns(
    header: list[str], known: tuple[str, ...], required: tuple[str, ...], source: str
) -> dict[str, int] | InputError:
    names = [cell.strip().lower() for cell in header]
    unknown = [name for name in names if name not in known]
    if unknown:
        return InputError(source, 1, f"unknown column {unknown[0]!r}; the columns are {', '.join(known)}")
    if len(set(names)) != len(names):
        return InputError(source, 1, "a column is named twice")
    missing = [name for name in required if name not in names]
    if missing:
        return InputError(source, 1, f"no {missing[0]!r} column; required: {', '.join(required)}")
    return {name: index for index, name in enumerate(names)}


def _take_row(
    docs: dict[str, _Doc], columns: dict[str, int], row: list[str], line: int, source: str
) -> InputError | None:
    cells = {name: row[index] if index < len(row) else "" for name, index in columns.items()}
    doc_id = cells["id"].strip()
    if not doc_id:
        return InputError(source, line, "the row has no document id")
    doc = docs.setdefault(doc_id, _Doc(line))
    if doc.error is not None:
        return None
    problem = _row_problem(doc, cells, row, columns, line)
    if isinstance(problem, str):
        doc.error = InputError(source, line, problem)
    elif problem is not None:
        doc.links.append(problem)
    return None


def _row_problem(
    doc: _Doc, cells: dict[str, str], row: list[str], columns: dict[str, int], line: int
) -> Link | str | None:
    if len(row) != len(columns):
        return f"expected {len(columns)} fields ({', '.join(columns)}), found {len(row)}"
    text = cells.get("text", "")
    if text:
        if doc.text is None:
            doc.text, doc.text_line = text, line
        elif text != doc.text:
            return f"the text differs from the one on line {doc.text_line} for the same document"
    surface, uri = cells["surface"], cells["uri"].strip()
    if not surface and not uri:
        return None if text else "the row has neither a link (surface, uri) nor a text"
    if not surface or not uri:
        return "a link needs both a surface form and a uri"
    return _link(cells, surface, uri, line)


def _link(cells: dict[str, str], surface: str, uri: str, line: int) -> Link | str:
    confidence: float | None = None
    if cells.get("confidence", "").strip():
        stated = confidence_value(cells["confidence"].strip())
        if isinstance(stated, str):
            return f"confidence: {stated}"
        confidence = stated
    span = span_values(cells.get("begin", "").strip() or None, cells.get("end", "").strip() or None)
    if isinstance(span, str):
        return span
    begin, end = span
    types = tuple(dict.fromkeys(cells.get("types", "").split()))
    for type_iri in types:
        if iri_problem(type_iri):
            return f"types: {type_iri!r} is {iri_problem(type_iri)}"
    return Link(surface, uri, confidence=confidence, begin=begin, end=end, types=types, line=line)


def _side_texts(path: Path, source: str) -> dict[str, tuple[str, int]] | InputError:
    side = _side_path(path)
    if side is None:
        return {}
    opener = gzip.open if side.name.lower().endswith(".gz") else open
    try:
        with opener(side, "rb") as stream:
            data = stream.read()
    except (OSError, EOFError) as exc:
        return InputError(str(side), None, f"cannot read the side file of texts: {exc}")
    texts: dict[str, tuple[str, int]] = {}
    for row in text_rows(data, source=str(side), name=side.name.removesuffix(".gz")):
        if isinstance(row, InputError):
            return row
        line, doc_id, text = row
        if doc_id in texts:
            return InputError(str(side), line, f"document {doc_id!r} has a text on line {texts[doc_id][1]} already")
        texts[doc_id] = (text, line)
    return texts


def text_rows(data: bytes, *, source: str, name: str) -> Iterator[tuple[int, str, str] | InputError]:
    """``(line, id, text)`` for every row of a table of texts (the columns ``id`` and
    ``text``), or the error of a row; a bad header or quote is one error for the whole table."""
    table = _table(data, source=source, name=name, known=_SIDE_COLUMNS, required=_SIDE_COLUMNS)
    if isinstance(table, InputError):
        yield table
        return
    columns, body = table
    for line, row in body:
        if len(row) != len(columns):
            yield InputError(source, line, f"expected 2 fields (id, text), found {len(row)}")
        elif not row[columns["id"]].strip():
            yield InputError(source, line, "the row has no document id")
        else:
            yield line, row[columns["id"]].strip(), row[columns["text"]]


def _side_path(path: Path) -> Path | None:
    base = path.name.removesuffix(".gz").removesuffix(".GZ")
    stem = base.rsplit(".", 1)[0]
    for suffix in SIDE_SUFFIXES:
        for candidate in (path.with_name(stem + suffix), path.with_name(stem + suffix + ".gz")):
            if candidate.is_file():
                return candidate
    return None


def _document(doc_id: str, doc: _Doc, side: tuple[str, int] | None, source: str, path: Path | None) -> Item:
    if doc.error is not None:
        return doc.error
    text = doc.text
    if side is not None:
        if text is not None and text != side[0]:
            return InputError(
                source, doc.text_line, f"the text of {doc_id!r} differs from the side file's (line {side[1]})"
            )
        text = side[0]
    if text is None:
        name = f"{Path(path.name.removesuffix('.gz')).stem}.texts.csv" if path else "NAME.texts.csv"
        return InputError(source, doc.line, f"no text for document {doc_id!r}: add a text column or a side file {name}")
    settled = settle(text, [Stated(link) for link in doc.links], source=source)
    if isinstance(settled, InputError):
        return settled
    return Document(doc_id, text, settled.links, source=source, repairs=settled.repairs)
