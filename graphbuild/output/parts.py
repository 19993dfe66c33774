"""N-Quads part files for bulk loaders: split after about N quads, optionally gzipped,
each written whole (under a temporary name until closed) and described as it is written."""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from dataclasses import dataclass
from gzip import GzipFile
from typing import BinaryIO

from graphbuild.files import Folder

__all__ = ["PartFile", "PartWriter"]


@dataclass(frozen=True, slots=True)
class PartFile:
    """One file written: its name in the folder, the document graphs and quads it holds,
    its size in bytes and the SHA-256 of those bytes (as stored, gzipped or not)."""

    name: str
    documents: int
    quads: int
    bytes: int
    sha256: str


class _Counted:
    """The file's stream, hashed and measured on the way through."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


class _Abandoned(Exception):
    """Thrown into a file's writer to drop it."""


class PartWriter:
    """Writes N-Quads text to ``FOLDER/STEM.nq[.gz]``, or with ``numbered`` (the default
    when ``split`` is given) to ``STEM-00000.nq[.gz]``, ``STEM-00001…``, starting a new file
    after ``split`` quads (at a chunk boundary, so no document is cut in two).

    ``files`` describes the files once closed. Gzip output carries no time stamp or name,
    so the same text always makes the same bytes.
    """

    def __init__(
        self, folder: Folder, *, stem: str = "part", split: int | None = None, gzip: bool = False, numbered: bool | None = None
    ) -> None:
        self.folder = folder
        self.stem = stem
        self.split = split
        self.gzip = gzip
        self.numbered = split is not None if numbered is None else numbered
        self.files: list[PartFile] = []
        self._stack: ExitStack | None = None
        self._sink: _Counted | GzipFile | None = None
        self._counted: _Counted | None = None
        self._name = ""
        self._quads = 0
        self._documents = 0
        folder.make()

    def write(self, nquads: str, *, documents: int = 0) -> None:
        """Write whole lines of N-Quads (``documents`` document graphs' worth)."""
        self.write_bytes(nquads.encode("utf-8"), quads=nquads.count("\n"), documents=documents)

    def write_bytes(self, data: bytes | memoryview, *, quads: int, documents: int = 0) -> None:
        """Write whole lines of N-Quads already encoded as UTF-8: ``quads`` lines of them."""
        if self._sink is None or (self.split and self._quads >= self.split):
            self._next_file()
        assert self._sink is not None
        self._sink.write(data)
        self._quads += quads
        self._documents += documents

    def close(self) -> None:
        """Finish the current file: it takes its final name now."""
        if self._stack is None:
            return
        stack, counted = self._stack, self._counted
        self._stack = self._sink = self._counted = None
        stack.close()
        assert counted is not None
        self.files.append(PartFile(self._name, self._documents, self._quads, counted.size, counted.digest.hexdigest()))

    def abandon(self) -> None:
        """Drop the file being written (its temporary file goes too)."""
        if self._stack is not None:
            stack = self._stack
            self._stack = self._sink = self._counted = None
            stack.__exit__(_Abandoned, _Abandoned(), None)

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()

    def _next_file(self) -> None:
        self.close()
        suffix = ".nq.gz" if self.gzip else ".nq"
        self._name = f"{self.stem}-{len(self.files):05d}{suffix}" if self.numbered else f"{self.stem}{suffix}"
        self._quads = self._documents = 0
        stack = ExitStack()
        counted = _Counted(stack.enter_context(self.folder.writing(self._name)))
        # Level 1: bulk loaders read these once; speed matters more than the last few percent.
        self._sink = (
            stack.enter_context(GzipFile(filename="", mode="wb", fileobj=counted, compresslevel=1, mtime=0))
            if self.gzip
            else counted
        )
        self._stack, self._counted = stack, counted
