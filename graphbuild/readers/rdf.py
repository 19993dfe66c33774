"""One RDF file read into memory for the NIF reader: its triples by subject, the line
where each subject is first written (for ``path:line`` messages), and what to do on a
syntax error.

A syntax error in Turtle, TriG, N3, RDF/XML or JSON-LD fails the whole file, since what
follows it cannot be trusted. N-Triples and N-Quads are read again line by line, so that
a bad line fails only the document whose IRIs it carries (``bad_lines``, by IRI without
fragment); a bad line that names no subject fails the whole file.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, parse

from graphbuild.errors import InputError

SYNTAX = {
    ".ttl": RdfFormat.TURTLE,
    ".nif": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".nq": RdfFormat.N_QUADS,
    ".trig": RdfFormat.TRIG,
    ".n3": RdfFormat.N3,
    ".rdf": RdfFormat.RDF_XML,
    ".jsonld": RdfFormat.JSON_LD,
}
_LINE_BY_LINE = (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS)
LABELS = {
    RdfFormat.TURTLE: "Turtle",
    RdfFormat.N_TRIPLES: "N-Triples",
    RdfFormat.N_QUADS: "N-Quads",
    RdfFormat.TRIG: "TriG",
    RdfFormat.N3: "N3",
    RdfFormat.RDF_XML: "RDF/XML",
    RdfFormat.JSON_LD: "JSON-LD",
}
_PARSER_PLACE = re.compile(r"^Parser error (?:at line \d+ )?(?:between )?(?:line \d+ )?(?:columns? (\d+)).*?:\s*")

_NTRIPLES_SUBJECT = re.compile(rb"^\s*<([^>\s]*)>")
# Deeper than this, a JSON-LD or RDF/XML file is refused before its parser sees it (real
# NIF nests a few levels).
MAX_NESTING = 1000
# JSON strings (skipped whole, so that brackets inside them do not count) and brackets.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
# XML comments, CDATA, declarations and processing instructions (skipped), and tags.
_XML_TAGS = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<[!?][^>]*>|</?[^>]*>", re.S)

Term = NamedNode | BlankNode | Literal
Node = NamedNode | BlankNode


def syntax_of(name: str) -> RdfFormat:
    """The RDF syntax a file name stands for; TriG (which takes Turtle and N-Triples) otherwise."""
    return SYNTAX.get(Path(name).suffix.lower(), RdfFormat.TRIG)


class RdfFile:
    """The triples of one file, by subject, and where each subject stands in the file."""

    def __init__(self, data: bytes, syntax: RdfFormat, *, base: str | None, source: str) -> None:
        self.source = source
        self.data = data
        self.error: InputError | None = None
        self.bad_lines: dict[str, tuple[int, str]] = {}  # IRI without fragment -> first bad line
        self.subjects: dict[Node, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        self._lines: dict[str, int] | None = None
        self._read(syntax, base)

    def _read(self, syntax: RdfFormat, base: str | None) -> None:
        too_deep = _too_deep(self.data, syntax)
        if too_deep is not None:
            message = f"not valid {LABELS[syntax]} here: nested deeper than {MAX_NESTING:,} levels; no document of this file is loaded"
            self.error = InputError(self.source, too_deep, message)
            return
        try:
            self._add(parse(self.data, format=syntax, base_iri=base))
        except SyntaxError as exc:
            self.subjects.clear()
            if syntax not in _LINE_BY_LINE:
                message = f"not valid {LABELS[syntax]}: {_syntax_message(exc)}; no document of this file is loaded"
                self.error = InputError(self.source, exc.lineno, message)
            else:
                self._read_lines(syntax, base)

    def _read_lines(self, syntax: RdfFormat, base: str | None) -> None:
        for number, raw in enumerate(self.data.split(b"\n"), start=1):
            try:
                self._add(parse(raw, format=syntax, base_iri=base))
            except SyntaxError as exc:
                subject = _NTRIPLES_SUBJECT.match(raw)
                message = f"not valid {LABELS[syntax]}: {_syntax_message(exc)}"
                if subject is None:
                    self.error = InputError(self.source, number, f"{message}; no document of this file is loaded")
                    return
                stem = subject[1].decode("utf-8", "replace").split("#", 1)[0]
                self.bad_lines.setdefault(stem, (number, message))

    def _add(self, quads: Iterable) -> None:
        for quad in quads:
            self.subjects[quad.subject][quad.predicate.value].append(quad.object)

    def line(self, node: Node) -> int | None:
        """The line where ``node`` is first written as a subject, if it is an IRI found there."""
        if not isinstance(node, NamedNode):
            return None
        if self._lines is None:
            self._lines = _subject_lines(self.data)
        return self._lines.get(node.value)


def _subject_lines(data: bytes) -> dict[str, int]:
    """Line of the first statement about each IRI written in full at the start of a line,
    and of prefixed names expanded with the file's prefixes (Turtle, TriG, N3, N-Triples)."""
    text = data.decode("utf-8", "replace")
    prefixes = dict(re.findall(r"(?im)^\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>", text))
    lines: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        match = re.match(r"\s*(?:<([^>\s]*)>|([\w.-]*):([^\s;,]*))", line)
        if match is None:
            continue
        iri = match[1] if match[1] is not None else prefixes.get(match[2], "\x00") + match[3]
        lines.setdefault(iri, number)
    return lines


def _too_deep(data: bytes, syntax: RdfFormat) -> int | None:
    """The line where ``data`` nests deeper than ``MAX_NESTING``, for the syntaxes whose
    parser cannot take it: JSON-LD crashes the process from ~4,000 levels of objects, and
    RDF/XML takes time cubic in the depth of its elements (40,000 levels: 31 s)."""
    if syntax is RdfFormat.JSON_LD:
        pattern, opens = _JSON_TOKENS, _json_opens
    elif syntax is RdfFormat.RDF_XML:
        pattern, opens = _XML_TAGS, _xml_opens
    else:
        return None
    depth = 0
    for token in pattern.finditer(data):
        step = opens(token.group())
        depth += step
        if step > 0 and depth > MAX_NESTING:
            return data.count(b"\n", 0, token.start()) + 1
    return None


def _json_opens(token: bytes) -> int:
    """+1 for an opening bracket, -1 for a closing one, 0 for a string."""
    return 1 if token in (b"[", b"{") else -1 if token in (b"]", b"}") else 0


def _xml_opens(token: bytes) -> int:
    """+1 for a start tag, -1 for an end tag, 0 for the rest (empty elements, comments…)."""
    if token.startswith(b"</"):
        return -1
    return 0 if token.startswith((b"<!", b"<?")) or token.endswith(b"/>") else 1


def _syntax_message(exc: SyntaxError) -> str:
    # The line is in path:line already; keep the column, drop pyoxigraph's own preamble.
    message = " ".join(str(exc.args[0] if exc.args else exc).split())
    return _PARSER_PLACE.sub(lambda m: f"column {m[1]}: ", message, count=1)
