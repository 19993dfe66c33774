"""Local DBpedia dump files (``--from``) as a source that answers the same batch queries.

The Databus serves Turtle/N-Triples, often ``.bz2`` or ``.gz``, far too big to load whole.
``prepare`` streams every file once and keeps only the triples the queries can use about
the resources of this round: triples about them, and pages redirecting to them; a second
pass picks up those pages' labels. The kept triples go into an in-memory store that runs
the same SELECT an endpoint would.
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import BinaryIO, cast

import pyoxigraph
from pyoxigraph import NamedNode, QuerySolutions, Triple

from graphbuild.enrichment.fetch import Answer
from graphbuild.errors import EnrichError, InputError
from graphbuild.model.vocab import (
    DBO_ABSTRACT,
    DBO_WIKI_PAGE_DISAMBIGUATES,
    DBO_WIKI_PAGE_REDIRECTS,
    DCTERMS_SUBJECT,
    OWL_SAME_AS,
    RDF_TYPE,
    RDFS_LABEL,
)

_KEPT_PREDICATES = frozenset({RDFS_LABEL, RDF_TYPE, DBO_ABSTRACT, DCTERMS_SUBJECT, DBO_WIKI_PAGE_REDIRECTS, DBO_WIKI_PAGE_DISAMBIGUATES, OWL_SAME_AS})
_OPENERS: dict[str, Callable[[Path], BinaryIO]] = {
    ".bz2": lambda path: cast(BinaryIO, bz2.BZ2File(path, "rb")),
    ".gz": lambda path: cast(BinaryIO, gzip.GzipFile(path, "rb")),
}


class DumpFormat(str, Enum):
    TURTLE = "turtle"
    NTRIPLES = "ntriples"

    @property
    def rdf_format(self) -> pyoxigraph.RdfFormat:
        return pyoxigraph.RdfFormat.TURTLE if self is DumpFormat.TURTLE else pyoxigraph.RdfFormat.N_TRIPLES

    @classmethod
    def guess(cls, path: Path) -> DumpFormat:
        """From the extension under any ``.bz2``/``.gz``: ``.ttl`` or ``.nt``."""
        suffixes = [s.lower() for s in path.suffixes]
        if suffixes and suffixes[-1] in _OPENERS:
            suffixes.pop()
        last = suffixes[-1] if suffixes else ""
        if last == ".ttl":
            return cls.TURTLE
        if last == ".nt":
            return cls.NTRIPLES
        raise EnrichError(f"{path}: cannot tell the format; name it .ttl or .nt (optionally .bz2 or .gz)", setting="dumps")


class DumpSource:
    """DBpedia dump files that answer enrichment queries for the resources of one round."""

    def __init__(self, paths: Sequence[Path]) -> None:
        if not paths:
            raise EnrichError("give at least one dump file", setting="dumps")
        self.files: list[tuple[Path, DumpFormat]] = []
        for path in paths:
            if not path.is_file():
                raise EnrichError(f"{path}: no such file", setting="dumps")
            self.files.append((path, DumpFormat.guess(path)))
        self.sources = [NamedNode(path.resolve().as_uri()) for path, _ in self.files]
        self.requests = 0
        self.page_size = 1_000_000
        self._store = pyoxigraph.Store()

    def describe(self) -> str:
        names = ", ".join(path.name for path, _ in self.files)
        return f"{len(self.files)} dump file{'' if len(self.files) == 1 else 's'} ({names})"

    def prepare(self, resources: Sequence[NamedNode]) -> None:
        """Keep what the dumps say about ``resources``; raises InputError on a bad file."""
        wanted = set(resources)
        kept: list[Triple] = []
        redirecting: set[NamedNode] = set()
        for triple in self._triples():
            if triple.subject in wanted:
                kept.append(triple)
            elif triple.predicate == DBO_WIKI_PAGE_REDIRECTS and triple.object in wanted:
                kept.append(triple)
                if isinstance(triple.subject, NamedNode):
                    redirecting.add(triple.subject)
        redirecting -= wanted
        if redirecting:
            kept.extend(t for t in self._triples() if t.predicate == RDFS_LABEL and t.subject in redirecting)
        self._store = pyoxigraph.Store()
        self._store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in kept)

    def select(self, query: str) -> Answer:
        self.requests += 1
        result = self._store.query(query)
        assert isinstance(result, QuerySolutions)
        names = [v.value for v in result.variables]
        rows = [{name: solution[name] for name in names if solution[name] is not None} for solution in result]
        return Answer(rows)

    def _triples(self) -> Iterator[Triple]:
        for path, fmt in self.files:
            opener = _OPENERS.get(path.suffix.lower(), lambda p: open(p, "rb"))
            try:
                with opener(path) as stream:
                    for quad in pyoxigraph.parse(stream, fmt.rdf_format):
                        if quad.predicate in _KEPT_PREDICATES:
                            yield Triple(quad.subject, quad.predicate, quad.object)
            except SyntaxError as exc:
                raise InputError(str(path), exc.lineno, _syntax_message(exc)) from None
            except (OSError, EOFError) as exc:
                raise InputError(str(path), None, f"cannot read the dump: {exc}") from None


def _syntax_message(exc: SyntaxError) -> str:
    text = exc.msg if isinstance(exc.msg, str) else str(exc)
    return f"not valid RDF: {text}"
