"""Reader for the "summary" text format of the SciGraph x DBpedia Spotlight project.

Line 1 is the text; every later non-blank line is a mention row. Rows are fixed-width
(surface column 20 wide on the first row, 30 on the others) and a long surface form runs
straight into the number, so a row is read as: surface form, then the number directly
before ``^^xsd:double``, then the IRI. Rows carry no offsets (see ``graphbuild.pipeline.offsets``).

Where the number starts: a surface form shorter than its column is padded to it, so the
number starts at the column (or, in a file padded by hand, after whitespace before it)
and is read whole, whatever its value (``-0.5`` and ``10.5`` are errors, never ``0.5``).
A surface form that fills its column runs into the number, and characters that could
belong to either ("Windows 10" + "0.87") are split where the number reads as a confidence
in Spotlight's notation (``1.0``, ``0.x``, ``9.5E-4``): at the column if it can be, else
as far left as it can be.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from pyoxigraph import NamedNode

from graphbuild.errors import InputError
from graphbuild.model.records import Document, Link, Skipped
from graphbuild.model.vocab import SPOTLIGHT

EXTENSIONS = (".txt",)

_XSD_DOUBLE = "^^http://www.w3.org/2001/XMLSchema#double"
_ROW = re.compile(r"^(?P<head>.*?)" + re.escape(_XSD_DOUBLE) + r"\s*(?P<iri>\S+)\s*$")
# The run of number characters that ends the head; the number is all of it or a tail of it.
_NUMBER_RUN = re.compile(r"[-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?$")
# A confidence as Spotlight writes one (Java's Double.toString of a value in [0, 1]).
_SPOTLIGHT_NUMBER = re.compile(r"1(?:\.0+)?|0(?:\.\d+)?(?:[eE]-?\d+)?|[1-9]\.\d+[eE]-\d+")
_FIRST_COLUMN, _COLUMN = 20, 30
_ROW_HINT = f"expected a surface form, a confidence ending in {_XSD_DOUBLE}, then an IRI"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def read_summary(path: Path) -> Iterator[Document | InputError | Skipped]:
    """Yield the one document of a summary file (or why it has none)."""
    yield parse_summary(path.read_bytes(), source=str(path), doc_id=path.stem)


def parse_summary(data: bytes, *, source: str, doc_id: str) -> Document | InputError | Skipped:
    """Parse the bytes of one summary file into a document, an error or a skip note."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # exc.start counts from after a BOM, which utf-8-sig has already dropped.
        start = exc.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        bad_line = data[:start].count(b"\n") + 1
        return InputError(source, bad_line, f"not valid UTF-8 (byte {start}); save the file as UTF-8")
    if not content.strip():
        return Skipped(source, "empty file, no text and no links")
    # Split on "\n" only: str.splitlines() would also split the abstract on U+2028,
    # form feeds and the like, which real texts contain.
    lines = [line.removesuffix("\r") for line in content.split("\n")]
    text = lines[0]
    if not text.strip():
        return InputError(source, 1, "line 1 must hold the document text, but it is blank")
    links: list[Link] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        link = _parse_row(line, source=source, number=number, column=_COLUMN if links else _FIRST_COLUMN)
        if isinstance(link, InputError):
            return link
        links.append(link)
    return Document(id=doc_id, text=text, links=tuple(links), source=source, annotator=SPOTLIGHT.value)


def _parse_row(line: str, *, source: str, number: int, column: int) -> Link | InputError:
    match = _ROW.match(line)
    split = _split(match["head"], column) if match else None
    if match is None or split is None:
        return InputError(source, number, f"cannot read mention row {_clip(line)!r}: {_ROW_HINT}")
    surface, written = split
    surface = surface.strip()
    if not surface:
        return InputError(source, number, "mention row has no surface form before its confidence")
    try:
        confidence = float(written)
    except ValueError:
        return InputError(source, number, f"cannot read mention row {_clip(line)!r}: {_ROW_HINT}")
    if not 0.0 <= confidence <= 1.0:
        return InputError(source, number, f"confidence {written} is outside [0, 1]")
    iri = match["iri"]
    problem = _iri_problem(iri)
    if problem:
        return InputError(source, number, f"{problem}: {iri!r}")
    return Link(surface, iri, confidence, line=number)


def _split(head: str, column: int) -> tuple[str, str] | None:
    """``head`` (the row before the datatype) as (surface form, number as written): see the
    module docstring for where the number starts."""
    run = _NUMBER_RUN.search(head)
    if run is None:
        return None
    start, end = run.span()
    starts = range(start, end)
    # A surface form that exactly fills its column, running into a number in Spotlight's notation.
    if column in starts and _SPOTLIGHT_NUMBER.fullmatch(head, column):
        return head[:column], head[column:]
    # Padding before the number: it is read whole. Padding brings a number up to the
    # column, never past it; beyond it, only a run of spaces is taken for padding (one
    # space there is more likely inside the surface form, "coronavirus 2").
    padding = len(head[:start]) - len(head[:start].rstrip())
    if padding and (start <= column or padding > 1) and _is_number(head[start:]):
        return head[:start], head[start:]
    # The surface form runs into the number: the leftmost reading as a confidence.
    for begin in starts:
        if _SPOTLIGHT_NUMBER.fullmatch(head, begin):
            return head[:begin], head[begin:]
    return head[:start], head[start:]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# A corpus links the same resources over and over, and checking one costs more than the
# rest of its row: each is checked once.
@lru_cache(maxsize=1 << 17)
def _iri_problem(iri: str) -> str | None:
    if not _SCHEME.match(iri):
        return "the link is not an absolute IRI"
    try:
        NamedNode(iri)
    except ValueError:
        return "the link is not a valid IRI"
    return None


def _clip(line: str, width: int = 60) -> str:
    line = line.strip()
    return line if len(line) <= width else line[: width - 1] + "…"
