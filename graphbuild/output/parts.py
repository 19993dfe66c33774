"""N-Quads files for bulk loaders: split into parts of about N quads, optionally gzipped."""

from __future__ import annotations

import gzip
from io import BufferedIOBase
from pathlib import Path


class PartWriter:
    """Writes N-Quads text to ``DIR/part-00001.nq[.gz]``, … starting a new part after
    ``split`` quads (at a chunk boundary, so no document is cut in two), or one file.
    """

    def __init__(self, folder: Path, *, split: int | None = None, gzip: bool = False, stem: str = "part") -> None:
        self.folder = folder
        self.split = split
        self.gzip = gzip
        self.stem = stem
        self.paths: list[Path] = []
        self._handle: BufferedIOBase | None = None
        self._in_part = 0
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, nquads: str) -> None:
        """Write whole lines of N-Quads (one document's, say)."""
        self.write_bytes(nquads.encode("utf-8"), quads=nquads.count("\n") if self.split else 0)

    def write_bytes(self, data: bytes | memoryview, *, quads: int) -> None:
        """Write whole lines of N-Quads already encoded as UTF-8, ``quads`` lines of them
        (only counted with ``split``)."""
        if self._handle is None or (self.split and self._in_part >= self.split):
            self._next_part()
        assert self._handle is not None
        self._handle.write(data)
        self._in_part += quads

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next_part(self) -> None:
        self.close()
        suffix = ".nq.gz" if self.gzip else ".nq"
        path = self.folder / f"{self.stem}-{len(self.paths) + 1:05d}{suffix}"
        # Level 1: bulk loaders read these once; speed matters more than the last few percent.
        self._handle = gzip.GzipFile(path, "wb", compresslevel=1) if self.gzip else path.open("wb")
        self.paths.append(path)
        self._in_part = 0
