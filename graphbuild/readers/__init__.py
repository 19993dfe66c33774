"""Readers: one per input format, each yielding plain document records.

A reader yields ``Document`` for every document it reads, ``InputError`` for a document
it cannot read (so that the others still load) and ``Skipped`` for a source with none.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from pathlib import Path

from graphbuild.errors import InputError
from graphbuild.readers import summary
from graphbuild.records import Document, Skipped

Item = Document | InputError | Skipped
STDIN = "-"


class InputFormat(str, Enum):
    """The input formats graphbuild reads; guessed from the file extension."""

    SUMMARY = "summary"

    @property
    def extensions(self) -> tuple[str, ...]:
        return _READERS[self][0]

    @classmethod
    def guess(cls, path: Path) -> InputFormat | None:
        """The format a file's extension stands for, or None."""
        suffix = path.suffix.lower()
        for fmt in cls:
            if suffix in fmt.extensions:
                return fmt
        return None


_READERS: dict[InputFormat, tuple[tuple[str, ...], Callable[[Path], Iterator[Item]]]] = {
    InputFormat.SUMMARY: (summary.EXTENSIONS, summary.read_summary),
}


def find_sources(paths: Iterable[str | Path], *, format: InputFormat | None = None) -> list[Path | str]:
    """Expand folders (recursively, files picked by extension) into a sorted file list.

    ``-`` stays as it is and means standard input.
    """
    found: list[Path | str] = []
    for raw in paths:
        if str(raw) == STDIN:
            found.append(STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and _picked(p, path, format)))
        else:
            found.append(path)
    return found


def read_source(source: Path | str, *, format: InputFormat | None = None) -> Iterator[Item]:
    """Yield the documents of one file (or of standard input for ``-``)."""
    if source == STDIN:
        yield summary.parse_summary(sys.stdin.buffer.read(), source="<stdin>", doc_id="stdin")
        return
    path = Path(source)
    fmt = format or InputFormat.guess(path)
    if fmt is None:
        known = ", ".join(ext for f in InputFormat for ext in f.extensions)
        yield InputError(str(path), None, f"unknown input format (known extensions: {known}); name it with --format")
        return
    try:
        yield from _READERS[fmt][1](path)
    except OSError as exc:
        yield InputError(str(path), None, f"cannot read the file: {exc.strerror or exc}")


def read_documents(paths: Iterable[str | Path], *, format: InputFormat | None = None) -> Iterator[Item]:
    """Yield the documents of every file and folder in ``paths``."""
    for source in find_sources(paths, format=format):
        yield from read_source(source, format=format)


def _picked(path: Path, folder: Path, format: InputFormat | None) -> bool:
    # Hidden below the folder given (.git, .cache, editor backups), not the folder itself.
    if any(part.startswith(".") for part in path.relative_to(folder).parts):
        return False
    guessed = InputFormat.guess(path)
    return guessed is not None and (format is None or guessed is format)
