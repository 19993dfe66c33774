"""Writing query results: tables for people, CSV/TSV/JSON/NDJSON for programs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from enum import Enum
from typing import TextIO

from pyoxigraph import BlankNode, Literal, NamedNode, Triple
from rich.console import Console
from rich.table import Table

from graphbuild.model.vocab import XSD, XSD_BOOLEAN, XSD_DOUBLE, XSD_STRING, compact
from graphbuild.store.protocol import Rows

_NUMERIC = {XSD + t for t in ("integer", "nonNegativeInteger", "int", "long", "decimal", "double", "float")}


class ResultFormat(str, Enum):
    TABLE = "table"
    CSV = "csv"
    TSV = "tsv"
    JSON = "json"
    NDJSON = "ndjson"


def write_rows(solutions: Rows, fmt: ResultFormat, out: TextIO, *, limit: int | None = None) -> int:
    """Write SELECT results; returns the number of rows written."""
    rows = _limited(solutions.rows, limit)
    writer = {
        ResultFormat.TABLE: _table,
        ResultFormat.CSV: _csv,
        ResultFormat.TSV: _tsv,
        ResultFormat.JSON: _json,
        ResultFormat.NDJSON: _ndjson,
    }[fmt]
    return writer(solutions.variables, rows, out)


def write_boolean(value: bool, fmt: ResultFormat, out: TextIO) -> None:
    if fmt is ResultFormat.JSON:
        out.write(json.dumps({"head": {}, "boolean": value}) + "\n")
    else:
        out.write(("true" if value else "false") + "\n")


def plain(term: object | None) -> str:
    """A term's lexical value: what CSV and people want."""
    if term is None:
        return ""
    if isinstance(term, (NamedNode, Literal)):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return str(term)


def _short(term: object | None) -> str:
    return compact(term.value) if isinstance(term, NamedNode) else plain(term)


def _table(variables: tuple[str, ...], rows: Iterable[tuple[object | None, ...]], out: TextIO) -> int:
    table = Table(*variables, show_lines=False)
    count = 0
    for row in rows:
        table.add_row(*(_short(term) for term in row))
        count += 1
    Console(file=out, width=max(120, Console().width), highlight=False).print(table)
    out.write(f"{count} row{'s' if count != 1 else ''}\n")
    return count


def _csv(variables: tuple[str, ...], rows: Iterable[tuple[object | None, ...]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(variables)
    count = 0
    for row in rows:
        writer.writerow([plain(term) for term in row])
        count += 1
    return count


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
        datatype = term.datatype.value
        if datatype in _NUMERIC:
            number = float(term.value)
            return int(number) if datatype != XSD_DOUBLE.value and number.is_integer() else number
        if datatype == XSD_BOOLEAN.value:
            return term.value in ("true", "1")
    return None if term is None else plain(term)


def _limited(rows: Iterator[tuple[object | None, ...]], limit: int | None) -> Iterator[tuple[object | None, ...]]:
    for count, row in enumerate(rows):
        if limit is not None and count >= limit:
            return
        yield row
