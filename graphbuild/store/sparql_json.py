"""SPARQL 1.1 Query Results JSON into pyoxigraph terms: the one decoder, for every server
graphbuild reads (the remote store, enrichment endpoints).

Virtuoso's ``typed-literal`` and its one-cell ``__ASK_RETVAL`` answer to some ASKs are read
as what they mean.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from graphbuild.store.protocol import Row, Rows, Term

__all__ = ["decode_ask", "decode_select", "decode_term"]


def decode_term(value: Mapping[str, str]) -> Term:
    """One bound value; ValueError (or KeyError) where it is not a valid RDF term."""
    kind, text = value["type"], value["value"]
    if kind == "uri":
        return NamedNode(text)
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in value:
            return Literal(text, language=value["xml:lang"])
        if "datatype" in value:
            return Literal(text, datatype=NamedNode(value["datatype"]))
        return Literal(text)
    if kind == "bnode":
        return BlankNode(text) if text.isalnum() else BlankNode()
    raise ValueError(f"unknown term type {kind!r}")


def decode_select(data: Mapping[str, Any]) -> Rows:
    """The rows of a SELECT answer, streamed as they are decoded."""
    variables = tuple(data["head"]["vars"])
    bindings = data["results"]["bindings"]

    def rows() -> Iterator[Row]:
        for binding in bindings:
            yield tuple(decode_term(binding[v]) if v in binding else None for v in variables)

    return Rows(variables, rows())


def decode_ask(data: Mapping[str, Any]) -> bool:
    """The answer of an ASK: ``boolean``, or Virtuoso's one-cell SELECT."""
    if "boolean" in data:
        return bool(data["boolean"])
    bindings = data.get("results", {}).get("bindings", [])
    return bool(bindings) and bindings[0].get("__ASK_RETVAL", {}).get("value") not in ("0", "false")
