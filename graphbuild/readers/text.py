"""Small helpers the readers share: the bounded stream they read, decoding, and document ids
from file names."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from graphbuild.errors import InputError
from graphbuild.text import size_text


def decode(data: bytes, source: str) -> str | InputError:
    """UTF-8 text (a BOM dropped), or an error at the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        line = data[:start].count(b"\n") + 1
        return InputError(source, line, f"not valid UTF-8 (byte {start}); save the file as UTF-8")


def stem(name: str) -> str:
    """A file name without its format extension (``.gz`` is already gone): the document id."""
    return Path(name).stem


class TooLarge(Exception):
    """Raised inside a reader when a document runs past the limit; read_source reports it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Bounded:
    """The binary stream readers read, which never gives one document more than ``limit``
    bytes: ``read()`` of a whole file past it raises TooLarge, and ``lines()`` gives None
    for a line past it (skipped to its end, never held in memory). ``position`` is how far
    into the file (compressed, as on disk) reading has gone."""

    def __init__(self, stream: BinaryIO, limit: int, raw: BinaryIO) -> None:
        self._stream = stream
        self.limit = limit
        self._raw = raw
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        if size >= 0:
            return self._stream.read(size)
        data = self._stream.read(self.limit + 1)
        if len(data) > self.limit:
            raise TooLarge(too_large(self.limit))
        return data

    def lines(self) -> Iterator[bytes | None]:
        """Each line with its end of line, or None where a line is longer than the limit."""
        while True:
            line = self._stream.readline(self.limit + 1)
            if not line:
                return
            if len(line) > self.limit and not line.endswith(b"\n"):
                while (rest := self._stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                yield None
                continue
            yield line

    @property
    def position(self) -> int:
        try:
            self._position = self._raw.tell()
        except (OSError, ValueError):  # closed: where it ended; a pipe: unknown
            pass
        return self._position


def too_large(limit: int) -> str:
    """What a document past ``limit`` is told."""
    return f"larger than {size_text(limit)} decompressed, the most one document may take; raise the limit to read it"
