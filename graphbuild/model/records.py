"""Plain records passed between readers, the model and the store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True, slots=True)
class Link:
    """One entity link as an input states it.

    ``begin``/``end`` are half-open code-point offsets into the document text, or
    ``None`` while unknown (the summary format carries none; see ``offsets``).
    ``support`` and ``second_rank`` are Spotlight's ``@support`` and
    ``@percentageOfSecondRank``; ``annotator``, when set, outranks the document's.
    """

    surface: str
    resource: str
    confidence: float | None = None
    begin: int | None = None
    end: int | None = None
    inferred: bool = False
    ambiguous: bool = False
    types: tuple[str, ...] = ()
    line: int | None = None
    support: int | None = None
    second_rank: float | None = None
    annotator: str | None = None

    @property
    def placed(self) -> bool:
        return self.begin is not None and self.end is not None


@dataclass(frozen=True, slots=True)
class Document:
    """A text and its links, as one reader produced it, with what the reader repaired."""

    id: str
    text: str
    links: tuple[Link, ...] = ()
    source: str = ""
    annotator: str | None = None
    repairs: tuple[Repair, ...] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source that holds no document, and why (an empty file, say)."""

    source: str
    reason: str


class RepairKind(str, Enum):
    """What a reader (or ingest) had to change so that an input could load."""

    OFFSETS_BYTES = "offsets-bytes"
    OFFSETS_UTF16 = "offsets-utf16"
    OFFSETS_MOVED = "offsets-moved"
    OFFSETS_FROM_IRI = "offsets-from-iri"
    ANCHOR_CASE = "anchor-case"
    ANCHOR_MISSING = "anchor-missing"
    UNPLACED = "unplaced"
    RESOURCE_PAGE = "resource-page"
    RESOURCE_DOUBLED = "resource-doubled"
    NO_RESOURCE = "no-resource"
    DUPLICATE_LINK = "duplicate-link"
    CONTEXT_IRI = "context-iri"
    DUPLICATE_DOCUMENT = "duplicate-document"


@dataclass(frozen=True, slots=True)
class Repair:
    """One repair, reported as ``source:line: note: message``.

    ``subject`` is the input's own IRI for the phrase or context concerned (NIF), so a
    repair can be traced even where no line number is known.
    """

    kind: RepairKind
    message: str
    source: str = ""
    line: int | None = None
    subject: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: note: {self.message}"


@dataclass(frozen=True, slots=True)
class RawText:
    """A document with no links yet: what ``annotate`` sends to an entity linker.

    ``line`` is where the document starts in its source (None for a file of its own).
    """

    id: str
    text: str
    source: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Annotation:
    """How a document's links were made, recorded with it: the linker's endpoint, the
    parameters sent, how long its answers took (seconds, all requests of the document),
    and ``key``, a digest of the text and those settings that tells whether to ask again."""

    endpoint: str
    confidence: float
    support: int
    language: str
    seconds: float
    key: str
