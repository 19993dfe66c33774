"""Readers: one per input format, each yielding plain document records.

Two kinds of input: documents with their links (``InputFormat``, for ingest and convert),
and raw texts with none yet (``RawFormat``, for annotate; ``graphbuild.readers.raw``).
A reader yields ``Document`` (or ``RawText``) for every document it reads, ``InputError``
for a document it cannot read (so that the others still load) and ``Skipped`` for a source
with none. Every reader takes a binary stream and the source's name; this module picks the
reader from the extension (or a format named), walks folders, opens files, and unpacks
gzip (recognised by its magic bytes, so ``x.ttl.gz`` and a gzipped standard input both work).

No document is read past ``max_size`` bytes, decompressed (``DEFAULT_MAX_SIZE`` unless a
run says otherwise), so that a small gzip file that unpacks to gigabytes costs one
error, not the machine's memory. JSON Lines is held to it line by line; every other
format is read whole, file by file, and held to it file by file.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

from graphbuild.errors import DocumentTooLarge, InputError, UnknownFormat
from graphbuild.files import is_remote, list_remote, open_remote
from graphbuild.model.records import Document, Skipped
from graphbuild.readers import jsonl, nif, raw, spotlight, summary, tables
from graphbuild.readers.raw import RawItem
from graphbuild.readers.text import Bounded, TooLarge, stem

Item = Document | InputError | Skipped
STDIN = "-"
STDIN_NAME = "stdin"
_GZIP_MAGIC = b"\x1f\x8b"
# The most one document may take, decompressed: a 50 MB abstract fits, and placing and
# modelling one this size stays near 1 GB of memory.
DEFAULT_MAX_SIZE = 128 << 20


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
        return _by_extension(cls, path)


class RawFormat(str, Enum):
    """The formats of raw texts (no links) that annotate reads; guessed from the extension."""

    TEXT = "text"
    JSONL = "jsonl"
    CSV = "csv"

    @property
    def extensions(self) -> tuple[str, ...]:
        return _RAW_READERS[self][0]

    @classmethod
    def guess(cls, path: Path) -> RawFormat | None:
        """The format a file's extension stands for, or None."""
        return _by_extension(cls, path)


F = TypeVar("F", InputFormat, RawFormat)


def _by_extension(formats: type[F], path: Path) -> F | None:
    # Asked once per file listed: a string's suffix and one lookup, not a Path of its own.
    name = plain_name(path).lower()
    dot = name.rfind(".")
    return _formats_by_extension(formats).get(name[dot:] if 0 < dot < len(name) - 1 else "")


@functools.cache
def _formats_by_extension(formats: type[F]) -> dict[str, F]:
    """Each extension's format, the first in ``formats`` where two share one."""
    table: dict[str, F] = {}
    for fmt in formats:
        for extension in fmt.extensions:
            table.setdefault(extension, fmt)
    return table


Reader = Callable[..., Iterator[Item]]
RawReader = Callable[..., Iterator[RawItem]]
R = TypeVar("R", Item, RawItem)


def _read_summary(stream: BinaryIO, *, source: str, name: str, path: Path | None = None) -> Iterator[Item]:
    yield summary.parse_summary(stream.read(), source=source, doc_id=stem(name))


_READERS: dict[InputFormat, tuple[tuple[str, ...], Reader]] = {
    InputFormat.SUMMARY: (summary.EXTENSIONS, _read_summary),
    InputFormat.NIF: (nif.EXTENSIONS, nif.read_nif),
    InputFormat.SPOTLIGHT: (spotlight.EXTENSIONS, spotlight.read_spotlight),
    InputFormat.JSONL: (jsonl.EXTENSIONS, jsonl.read_jsonl),
    InputFormat.CSV: (tables.EXTENSIONS, tables.read_table),
}
_RAW_READERS: dict[RawFormat, tuple[tuple[str, ...], RawReader]] = {
    RawFormat.TEXT: (raw.TEXT_EXTENSIONS, raw.read_text_file),
    RawFormat.JSONL: (raw.LINES_EXTENSIONS, raw.read_text_lines),
    RawFormat.CSV: (raw.TABLE_EXTENSIONS, raw.read_text_table),
}


def plain_name(path: Path) -> str:
    """The file name without a ``.gz`` suffix: what the format and the document id go by."""
    name = path.name
    return name[:-3] if name.lower().endswith(".gz") and len(name) > 3 else name


def find_sources(paths: Iterable[str | Path], *, format: InputFormat | None = None) -> list[Path | str]:
    """Expand folders (recursively, files picked by extension) into a sorted file list.

    ``-`` stays as it is and means standard input. A path that does not exist, or a folder
    with no file of a known extension, is an InputError for the whole run: a typo should
    cost nothing, not create an empty store.
    fsspec URLs (``s3://bucket/corpus``) stay URLs, their folders listed the same way.
    """
    return _find(paths, lambda path: _linked(path, format), looked_for(format))


def find_raw_sources(paths: Iterable[str | Path], *, format: RawFormat | None = None) -> list[Path | str]:
    """``find_sources`` for raw texts: folders give the files of the raw formats."""
    return _find(paths, lambda path: _raw(path, format), looked_for(format, kind=RawFormat))


def looked_for(format: InputFormat | RawFormat | None = None, *, kind: type[InputFormat] | type[RawFormat] = InputFormat) -> str:
    """The extensions a folder is searched for, as a phrase."""
    formats: list[InputFormat | RawFormat] = [format] if format is not None else [*kind]
    extensions = [ext for fmt in formats for ext in fmt.extensions]
    return ", ".join(dict.fromkeys(extensions)) + ", each optionally .gz"


def read_source(
    source: Path | str, *, format: InputFormat | None = None, max_size: int = DEFAULT_MAX_SIZE
) -> Iterator[Item]:
    """Yield the documents of one file (or of standard input for ``-``, the summary format
    unless ``format`` says otherwise), none of them past ``max_size`` bytes decompressed."""
    return iter(SourceReader(source, format=format, max_size=max_size))


class SourceReader:
    """The documents of one source, and how far into it reading has got: ``position`` is
    in bytes of the file as it is on disk (compressed, for a gzip file)."""

    def __init__(self, source: Path | str, *, format: InputFormat | None = None, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.source = source
        self.format = format
        self.max_size = max_size
        self._stream: Bounded | None = None

    @property
    def position(self) -> int:
        return self._stream.position if self._stream is not None else 0

    def __iter__(self) -> Iterator[Item]:
        source = self.source
        fmt = (self.format or InputFormat.SUMMARY) if source == STDIN else (self.format or InputFormat.guess(Path(source)))
        if fmt is None:
            known = ", ".join(ext for f in InputFormat for ext in f.extensions)
            yield UnknownFormat(str(source), None, f"unknown input format (known extensions: {known}); rename the file or name its format")
            return
        yield from _read(source, _READERS[fmt][1], self.max_size, self._opened)

    def _opened(self, stream: Bounded) -> None:
        self._stream = stream


def read_raw_source(
    source: Path | str, *, format: RawFormat | None = None, max_size: int = DEFAULT_MAX_SIZE
) -> Iterator[RawItem]:
    """Yield the raw texts of one file (or of standard input for ``-``, one text unless
    ``format`` says otherwise), none of them past ``max_size`` bytes decompressed."""
    fmt = (format or RawFormat.TEXT) if source == STDIN else (format or RawFormat.guess(Path(source)))
    if fmt is None:
        known = ", ".join(ext for f in RawFormat for ext in f.extensions)
        yield InputError(str(source), None, f"unknown format of raw texts (known extensions: {known}); name the format to read it as")
        return
    yield from _read(source, _RAW_READERS[fmt][1], max_size)


def read_documents(
    paths: Iterable[str | Path], *, format: InputFormat | None = None, max_size: int = DEFAULT_MAX_SIZE
) -> Iterator[Item]:
    """Yield the documents of every file and folder in ``paths``."""
    for source in find_sources(paths, format=format):
        yield from read_source(source, format=format, max_size=max_size)


def read_raw_texts(
    paths: Iterable[str | Path], *, format: RawFormat | None = None, max_size: int = DEFAULT_MAX_SIZE
) -> Iterator[RawItem]:
    """Yield the raw texts of every file and folder in ``paths``."""
    for source in find_raw_sources(paths, format=format):
        yield from read_raw_source(source, format=format, max_size=max_size)


def _find(paths: Iterable[str | Path], picked: Callable[[Path], bool], extensions: str) -> list[Path | str]:
    """The files under ``paths``; a path that does not exist, or a folder with nothing to
    read (``extensions`` says what was looked for), is an InputError for the whole run: a
    typo should cost nothing, not create an empty store."""
    found: list[Path | str] = []
    for given in paths:
        if str(given) == STDIN:
            found.append(STDIN)
            continue
        if is_remote(given):
            listed = _find_remote(str(given), picked)
            if not listed:
                raise InputError(str(given), None, f"no file to read in this folder (looked for {extensions})")
            found.extend(listed)
            continue
        # A list already found is checked, not copied: a million paths are half a GiB.
        path = given if isinstance(given, Path) else Path(given)
        try:
            mode = os.stat(path).st_mode  # once: a million files given are a million calls
        except (FileNotFoundError, NotADirectoryError, ValueError):
            raise InputError(str(path), None, "no such file or directory") from None
        except OSError as exc:
            raise InputError(str(path), None, exc.strerror or str(exc)) from None
        if stat.S_ISDIR(mode):
            files = _files_under(path, picked)
            if not files:
                raise InputError(str(path), None, f"no file to read in this folder (looked for {extensions})")
            found.extend(files)
        else:
            found.append(path)
    return found


def _files_under(folder: Path, picked: Callable[[Path], bool]) -> list[Path]:
    """The files below ``folder`` that ``picked`` takes, in the order of sorted paths, without
    what is hidden below it (.git, .cache, editor backups) or behind a link to a folder.

    Each folder's entries are read once and sorted by name, so the whole never is: sorting
    a million paths compares them part by part and keeps a list of parts on each.
    """
    found: list[Path] = []

    def walk(here: Path) -> None:
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except PermissionError:
            return  # as a glob does: what cannot be listed is not there
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                walk(here / entry.name)
            elif entry.is_file():
                path = here / entry.name
                if picked(path):
                    found.append(path)

    walk(folder)
    return found


def _find_remote(url: str, picked: Callable[[Path], bool]) -> list[str]:
    """The files under a URL picked as in a folder (fsspec URLs stay URLs), or the URL of one file."""
    listed = list_remote(url)
    if listed == [url]:
        return listed
    root = url.rstrip("/")
    relative = [(found, Path(found[len(root) + 1 :])) for found in listed]
    return [found for found, path in relative if not any(part.startswith(".") for part in path.parts) and picked(path)]


def _read(
    source: Path | str,
    reader: Callable[..., Iterator[R]],
    max_size: int,
    opened: Callable[[Bounded], None] | None = None,
) -> Iterator[R | InputError]:
    """What ``reader`` makes of one source, through a stream that holds no document past
    ``max_size``; ``opened`` is handed that stream."""
    stdin = source == STDIN
    # An fsspec URL is read where it lies; a table's side file is not looked for there.
    remote = not stdin and is_remote(source)
    path = Path(source)
    name = "<stdin>" if stdin else str(source) if remote else str(path)
    try:
        with ExitStack() as stack:
            if stdin:
                raw = _peekable(sys.stdin.buffer)
            elif remote:
                raw = _peekable(stack.enter_context(open_remote(str(source))))
            else:
                raw = stack.enter_context(path.open("rb"))
            stream = Bounded(_unpacked(raw, stack), max_size, raw)
            if opened is not None:
                opened(stream)
            local = None if stdin or remote else path
            yield from reader(stream, source=name, name=STDIN_NAME if stdin else plain_name(path), path=local)
    except TooLarge as exc:
        yield DocumentTooLarge(name, None, exc.message)
    except (OSError, EOFError, zlib.error) as exc:
        yield InputError(name, None, f"cannot read {'standard input' if stdin else 'the file'}: {_reason(exc)}")
    except Exception as exc:  # a reader's own failure costs its file, never the whole run
        yield InputError(name, None, f"graphbuild could not read the file ({type(exc).__name__}: {exc}); please report this")


def _peekable(raw: BinaryIO) -> io.BufferedReader:
    # A pipe, or a test's BytesIO: gzip is recognised by peeking at its first bytes.
    return raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(io.RawIOBase, raw))


def _unpacked(raw: io.BufferedReader, stack: ExitStack) -> BinaryIO:
    """``raw``, or what it unpacks to when it starts with gzip's magic bytes."""
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        return cast(BinaryIO, stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")))
    return cast(BinaryIO, raw)


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else None) or str(exc) or type(exc).__name__


def _linked(path: Path, format: InputFormat | None) -> bool:
    if tables.is_side_file(path):
        return False
    guessed = InputFormat.guess(path)
    return guessed is not None and (format is None or guessed is format)


def _raw(path: Path, format: RawFormat | None) -> bool:
    # A link table's side file of texts is a table of raw texts like any other.
    guessed = RawFormat.guess(path)
    return guessed is not None and (format is None or guessed is format)
