"""Writing query results: tables for people, CSV/TSV/JSON/NDJSON for programs.

Every format writes rows as they come: a result is never held whole, so a full result of
millions of rows takes the memory of one row (of one block of rows, for tables).
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TextIO

from pyoxigraph import BlankNode, Literal, NamedNode, Triple
from rich.console import Console
from rich.table import Table

from graphbuild.model.vocab import XSD, XSD_BOOLEAN, XSD_DOUBLE, XSD_STRING, compact
from graphbuild.store.protocol import Rows

_NUMERIC = {XSD + t for t in ("integer", "nonNegativeInteger", "int", "long", "decimal", "double", "float")}
# A table prints this many rows at a time (each block a table of its own, header repeated):
# rich lays a table out only once it has every row.
TABLE_BLOCK = 1000


class ResultFormat(str, Enum):
    TABLE = "table"
    CSV = "csv"
    TSV = "tsv"
    JSON = "json"
    NDJSON = "ndjson"


@dataclass(frozen=True, slots=True)
class Written:
    """What ``write_rows`` wrote: how many rows, and whether more came than ``limit``."""

    rows: int
    more: bool = False


def write_rows(solutions: Rows, fmt: ResultFormat, out: TextIO, *, limit: int | None = None) -> Written:
    """Write SELECT results as they stream, at most ``limit`` rows (all when None).

    Ask the store for one row more than ``limit`` to learn whether more follow.
    """
    cut = _Cut(solutions.rows, limit)
    writer = {
        ResultFormat.TABLE: _table,
        ResultFormat.CSV: _csv,
        ResultFormat.TSV: _tsv,
        ResultFormat.JSON: _json,
        ResultFormat.NDJSON: _ndjson,
    }[fmt]
    count = writer(solutions.variables, cut, out)
    return Written(count, cut.more)


def write_boolean(value: bool, fmt: ResultFormat, out: TextIO) -> None:
    if fmt is ResultFormat.JSON:
        out.write(json.dumps({"head": {}, "boolean": value}) + "\n")
    else:
        out.write(("true" if value else "false") + "\n")


def plain(term: object | None) -> str:
    """A term's lexical value: what CSV and people want."""
    # IRIs and literals first: nearly every cell of a result of millions of rows.
    if isinstance(term, (NamedNode, Literal)):
        return term.value
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return str(term)


def _short(term: object | None) -> str:
    return compact(term.value) if isinstance(term, NamedNode) else plain(term)


def _table(variables: tuple[str, ...], rows: Iterable[tuple[object | None, ...]], out: TextIO) -> int:
    console = Console(file=out, width=max(120, Console().width), highlight=False)
    count = 0
    rows = iter(rows)
    while True:
        table = Table(*variables, show_lines=False)
        for row in itertools.islice(rows, TABLE_BLOCK):
            table.add_row(*(_short(term) for term in row))
        if not table.row_count and count:
            break
        console.print(table)
        count += table.row_count
        if table.row_count < TABLE_BLOCK:
            break
    out.write(f"{count} row{'s' if count != 1 else ''}\n")
    return count


def _csv(variables: tuple[str, ...], rows: Iterable[tuple[object | None, ...]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(variables)
    counted = _Counted(rows)
    writer.writerows([plain(term) for term in row] for row in counted)
    return counted.count


def _tsv(variables: tuple[str, ...], rows: Iterable[tuple[object | None, ...]], out: TextIO) -> int:
    # SPARQL 1.1 TSV: terms in their N-Triples form, so a reader can tell IRIs from strings.
    out.write("\t".join(f"?{v}" for v in variables) + "\n")
    count = 0
    for row in rows:
        out.write("\t".join("" if term is None else str(term) for term in row) + "\n")
        count += 1
    return count


def _json(variables: tuple[str, ...], rows: Iterable[tuple[object | None, ...]], out: TextIO) -> int:
    # SPARQL 1.1 Query Results JSON, written row by row so large results stream.
    out.write(json.dumps({"head": {"vars": list(variables)}})[:-1] + ', "results": {"bindings": [')
    count = 0
    for row in rows:
        binding = {v: _json_term(t) for v, t in zip(variables, row) if t is not None}
        out.write(("," if count else "") + "\n  " + json.dumps(binding, ensure_ascii=False))
        count += 1
    out.write("\n]}}\n")
    return count


def _ndjson(variables: tuple[str, ...], rows: Iterable[tuple[object | None, ...]], out: TextIO) -> int:
    count = 0
    for row in rows:
        record = {v: _json_value(t) for v, t in zip(variables, row)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _json_term(term: object) -> dict[str, str]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        result = {"type": "literal", "value": term.value}
        if term.language:
            result["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING.value:
            result["datatype"] = term.datatype.value
        return result
    if isinstance(term, Triple):
        return {"type": "triple", "value": str(term)}
    return {"type": "literal", "value": str(term)}


def _json_value(term: object | None) -> object:
    if isinstance(term, Literal):
        datatype = term.datatype
        if datatype == XSD_STRING:
            return term.value
        if datatype.value in _NUMERIC:
            number = float(term.value)
            return int(number) if datatype != XSD_DOUBLE and number.is_integer() else number
        if datatype == XSD_BOOLEAN:
            return term.value in ("true", "1")
    return None if term is None else plain(term)


class _Counted:
    """The rows, counted as they are read."""

    def __init__(self, rows: Iterable[tuple[object | None, ...]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[tuple[object | None, ...]]:
        count = 0
        for row in self._rows:
            count += 1
            yield row
        self.count = count


class _Cut:
    """The rows up to ``limit``, noting whether another one came after them."""

    def __init__(self, rows: Iterator[tuple[object | None, ...]], limit: int | None) -> None:
        self._rows = rows if limit is None else itertools.islice(rows, limit)
        self._after = rows
        self._limit = limit
        self.more = False

    def __iter__(self) -> Iterator[tuple[object | None, ...]]:
        yield from self._rows
        if self._limit is not None:
            self.more = next(self._after, None) is not None
