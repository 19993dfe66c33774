"""Readers for raw texts: documents with no links yet, for ``annotate`` to send to a linker.

A different kind of input from the link formats beside this module, picked by extension:

- ``.txt``: one document per file; the id is the file's stem, the text the whole file.
- ``.jsonl``, ``.ndjson``: one document per line, ``{"id": …, "text": …}`` (an id is a
  string or an integer; other members, links among them, are ignored).
- ``.csv``, ``.tsv``: a header naming the columns ``id`` and ``text``, then one document
  per row (RFC 4180 quoting, as for link tables and their side files of texts).

Each reader yields ``RawText`` for every document, ``InputError`` for one it cannot read (the
others still go on) and ``Skipped`` for a source with none, or a document whose text is
blank (there is nothing to annotate in it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from graphbuild.errors import InputError
from graphbuild.model.records import RawText, Skipped
from graphbuild.readers import jsonl, tables
from graphbuild.readers.repair import text_problem
from graphbuild.readers.text import decode, stem

TEXT_EXTENSIONS = (".txt",)
LINES_EXTENSIONS = jsonl.EXTENSIONS
TABLE_EXTENSIONS = tables.EXTENSIONS

RawItem = RawText | InputError | Skipped


def read_text_file(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[RawItem]:
    """The whole file as one document named by the file's stem."""
    text = decode(stream.read(), source)
    if isinstance(text, InputError):
        yield text
    elif text_problem(text):
        yield InputError(source, None, f"the text {text_problem(text)}")
    else:
        yield _checked(RawText(stem(name), text, source), "empty file, no text")


def read_text_lines(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[RawItem]:
    """One document per line of JSON with ``id`` and ``text``."""
    for item in jsonl.json_lines(stream, source=source):
        if not isinstance(item, tuple):
            yield item
            continue
        line, value = item
        if not isinstance(value, dict):
            yield InputError(source, line, 'expected a JSON object with "id" and "text"')
            continue
        checked = jsonl.id_and_text(value, source=source, line=line)
        if isinstance(checked, InputError):
            yield checked
        else:
            yield _checked(RawText(checked[0], checked[1], source, line), f"line {line}: the text is blank")


def read_text_table(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[RawItem]:
    """One document per row of a CSV or TSV table with the columns ``id`` and ``text``."""
    seen = False
    for row in tables.text_rows(stream.read(), source=source, name=name):
        seen = True
        if isinstance(row, InputError):
            yield row
            continue
        line, doc_id, text = row
        if text_problem(text):
            yield InputError(source, line, f"the text {text_problem(text)}")
        else:
            yield _checked(RawText(doc_id, text, source, line), f"line {line}: the text is blank")
    if not seen:
        yield Skipped(source, "a header and no rows, so no documents")


def _checked(doc: RawText, blank: str) -> RawText | Skipped:
    return doc if doc.text.strip() else Skipped(doc.source, f"{blank}; nothing to annotate")
