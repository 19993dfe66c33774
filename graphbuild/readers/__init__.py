"""Readers: one per input format, each yielding plain document records.

A reader yields ``Document`` for every document it reads, ``InputError`` for a document
it cannot read (so that the others still load) and ``Skipped`` for a source with none.
Every reader takes a binary stream and the source's name; this module picks the reader
from the extension (or ``--format``), opens files, and unpacks gzip (recognised by its
magic bytes, so ``x.ttl.gz`` and a gzipped standard input both work).
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import BinaryIO, cast

from graphbuild.errors import InputError
from graphbuild.model.records import Document, Skipped
from graphbuild.readers import jsonl, nif, spotlight, summary, tables
from graphbuild.readers.text import stem

Item = Document | InputError | Skipped
STDIN = "-"
STDIN_NAME = "stdin"
_GZIP_MAGIC = b"\x1f\x8b"


class InputFormat(str, Enum):
    """The input formats graphbuild reads; guessed from the file extension (``.gz`` aside)."""

    SUMMARY = "summary"
    NIF = "nif"
    SPOTLIGHT = "spotlight"
    JSONL = "jsonl"
    CSV = "csv"

    @property
    def extensions(self) -> tuple[str, ...]:
        return _READERS[self][0]

    @classmethod
    def guess(cls, path: Path) -> InputFormat | None:
        """The format a file's extension stands for, or None."""
        suffix = Path(plain_name(path)).suffix.lower()
        for fmt in cls:
            if suffix in fmt.extensions:
                return fmt
        return None


Reader = Callable[..., Iterator[Item]]


def _read_summary(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[Item]:
    yield summary.parse_summary(stream.read(), source=source, doc_id=stem(name))


_READERS: dict[InputFormat, tuple[tuple[str, ...], Reader]] = {
    InputFormat.SUMMARY: (summary.EXTENSIONS, _read_summary),
    InputFormat.NIF: (nif.EXTENSIONS, nif.read_nif),
    InputFormat.SPOTLIGHT: (spotlight.EXTENSIONS, spotlight.read_spotlight),
    InputFormat.JSONL: (jsonl.EXTENSIONS, jsonl.read_jsonl),
    InputFormat.CSV: (tables.EXTENSIONS, tables.read_table),
}


def plain_name(path: Path) -> str:
    """The file name without a ``.gz`` suffix: what the format and the document id go by."""
    name = path.name
    return name[:-3] if name.lower().endswith(".gz") and len(name) > 3 else name


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
    """Yield the documents of one file (or of standard input for ``-``, the summary format
    unless ``format`` says otherwise)."""
    if source == STDIN:
        yield from _read_stdin(format or InputFormat.SUMMARY)
        return
    path = Path(source)
    fmt = format or InputFormat.guess(path)
    if fmt is None:
        known = ", ".join(ext for f in InputFormat for ext in f.extensions)
        yield InputError(str(path), None, f"unknown input format (known extensions: {known}); name it with --format")
        return
    try:
        with ExitStack() as stack:
            stream = _open(path, stack)
            yield from _READERS[fmt][1](stream, source=str(path), name=plain_name(path), path=path)
    except (OSError, EOFError, zlib.error) as exc:
        yield InputError(str(path), None, f"cannot read the file: {_reason(exc)}")


def read_documents(paths: Iterable[str | Path], *, format: InputFormat | None = None) -> Iterator[Item]:
    """Yield the documents of every file and folder in ``paths``."""
    for source in find_sources(paths, format=format):
        yield from read_source(source, format=format)


def _read_stdin(fmt: InputFormat) -> Iterator[Item]:
    data = sys.stdin.buffer.read()
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            yield InputError("<stdin>", None, f"cannot read standard input: {_reason(exc)}")
            return
    yield from _READERS[fmt][1](io.BytesIO(data), source="<stdin>", name=STDIN_NAME, path=None)


def _open(path: Path, stack: ExitStack) -> BinaryIO:
    stream: BinaryIO = stack.enter_context(path.open("rb"))
    if stream.read(2) == _GZIP_MAGIC:
        stream.seek(0)
        # A GzipFile reads like any binary stream; typeshed does not call it a BinaryIO.
        return cast(BinaryIO, stack.enter_context(gzip.GzipFile(fileobj=stream, mode="rb")))
    stream.seek(0)
    return stream


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else None) or str(exc) or type(exc).__name__


def _picked(path: Path, folder: Path, format: InputFormat | None) -> bool:
    # Hidden below the folder given (.git, .cache, editor backups), not the folder itself.
    if any(part.startswith(".") for part in path.relative_to(folder).parts):
        return False
    if tables.is_side_file(path):
        return False
    guessed = InputFormat.guess(path)
    return guessed is not None and (format is None or guessed is format)
