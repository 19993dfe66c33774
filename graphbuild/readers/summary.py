"""Reader for the "summary" text format of the SciGraph x DBpedia Spotlight project.

Line 1 is the text; every later non-blank line is a mention row. Rows are fixed-width
(surface column 20 wide on the first row, 30 on the others) and a long surface form runs
straight into the number, so a row is read as: surface form, then the number directly
before ``^^xsd:double``, then the IRI. Rows carry no offsets (see ``graphbuild.pipeline.offsets``).
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
# The number is anchored on the datatype that follows it, so a surface form that ends
# in digits ("Windows 10", "COVID-19") stays whole: only 1.0 or 0.x can start a number.
_ROW = re.compile(
    r"^(?P<surface>.*?)"
    r"(?P<confidence>1(?:\.0+)?|0(?:\.\d+)?(?:[eE]-?\d+)?|[1-9]\.\d+[eE]-\d+)"
    + re.escape(_XSD_DOUBLE)
    + r"\s*(?P<iri>\S+)\s*$"
)
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
        link = _parse_row(line, source=source, number=number)
        if isinstance(link, InputError):
            return link
        links.append(link)
    return Document(id=doc_id, text=text, links=tuple(links), source=source, annotator=SPOTLIGHT.value)


def _parse_row(line: str, *, source: str, number: int) -> Link | InputError:
    match = _ROW.match(line)
    if match is None:
        return InputError(source, number, f"cannot read mention row {_clip(line)!r}: {_ROW_HINT}")
    surface = match["surface"].strip()
    if not surface:
        return InputError(source, number, "mention row has no surface form before its confidence")
    confidence = float(match["confidence"])
    if not 0.0 <= confidence <= 1.0:
        return InputError(source, number, f"confidence {match['confidence']} is outside [0, 1]")
    iri = match["iri"]
    problem = _iri_problem(iri)
    if problem:
        return InputError(source, number, f"{problem}: {iri!r}")
    return Link(surface, iri, confidence, line=number)


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
