"""Plain records passed between readers, the model and the store."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Link:
    """One entity link as an input states it.

    ``begin``/``end`` are half-open code-point offsets into the document text, or
    ``None`` while unknown (the summary format carries none; see ``offsets``).
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

    @property
    def placed(self) -> bool:
        return self.begin is not None and self.end is not None


@dataclass(frozen=True, slots=True)
class Document:
    """A text and its links, as one reader produced it."""

    id: str
    text: str
    links: tuple[Link, ...] = ()
    source: str = ""
    annotator: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source that holds no document, and why (an empty file, say)."""

    source: str
    reason: str
