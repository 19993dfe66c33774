"""Part files into a new embedded store through pyoxigraph's bulk loader.

A folder is loaded from its manifest (``_SUCCESS.json``): every part is checked against
it (size and SHA-256) before the first is loaded, so an incomplete or altered folder
loads nothing. Part files named one by one are loaded as they are. The store must hold
no graph yet: the bulk loader adds quads without looking at what is there, so a document
loaded twice would have its two versions merged. A load that fails half-way empties the
store again.

The per-resource figures come with the parts of one convert (its ``figures`` part). For
anything else (several folders, part files named one by one, an export's parts) they are
recomputed from the mentions once everything is in.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from graphbuild.errors import GraphbuildError, StoreError
from graphbuild.files import Folder, is_remote, local_path, open_remote
from graphbuild.output.manifest import MANIFEST, read_manifest, verify
from graphbuild.progress import Progress
from graphbuild.store import figures
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.text import plural

__all__ = ["LoadReport", "load"]

_MIB = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class _Part:
    location: str
    bytes: int
    # From a manifest, or None when a file named on its own.
    documents: int | None = None
    quads: int | None = None


@dataclass
class LoadReport:
    """What one load did."""

    store: str
    files: int = 0
    bytes: int = 0
    quads: int = 0
    documents: int | None = None
    folders: list[str] = field(default_factory=list)
    figures_rebuilt: bool = False

    def summary(self) -> str:
        """The one line that sums the load up."""
        what = plural(self.quads, "quad")
        if self.documents is not None:
            what += f" of {plural(self.documents, 'document')}"
        line = f"{what} loaded from {plural(self.files, 'file')} ({self.bytes / _MIB:,.1f} MiB) into {self.store}"
        if self.figures_rebuilt:
            line += "; per-resource figures recomputed"
        return line


def load(
    locations: Iterable[str | Path], *, store: EmbeddedStore, checksums: bool = True, progress: Progress | None = None
) -> LoadReport:
    """Bulk-load N-Quads part files (``.nq`` or ``.nq.gz``), or folders of them with a
    manifest, into ``store``, which must hold no graph yet.

    ``progress`` counts MiB read (stage ``"MiB"``). ``checksums=False`` checks a
    manifest's sizes but not its SHA-256 (which reads every part once more).
    """
    report = LoadReport(store=store.location)
    parts = _parts(locations, report, checksums=checksums)
    if not store.is_empty():
        raise StoreError(
            f"the store at {store.location} already holds graphs: load fills a new store "
            "(bulk loading over stored documents would merge their old and new graphs); ingest adds to a store"
        )
    # One convert's folder, alone, brings figures that fit; anything else has them recomputed.
    one_run = len(report.folders) == 1 and report.documents is not None
    report.files = len(parts)
    report.bytes = sum(part.bytes for part in parts)
    read = _Read(progress, report.bytes)
    try:
        for part in parts:
            _bulk_load(store, part, read)
        read.finish()
        if not one_run:
            figures.rebuild(store)
            report.figures_rebuilt = True
    except BaseException:
        store.clear()
        raise
    report.quads = sum(part.quads or 0 for part in parts) if one_run else store.quad_count()
    return report


def _parts(locations: Iterable[str | Path], report: LoadReport, *, checksums: bool) -> list[_Part]:
    """The files to load, in order, every folder checked against its manifest first;
    ``report`` learns the folders and, when every file is from one, the documents."""
    parts: list[_Part] = []
    documents: int | None = 0
    for location in locations:
        text = str(location)
        if not _is_folder(text):
            parts.append(_Part(text, _size(text)))
            documents = None
            continue
        folder = Folder(text)
        manifest = read_manifest(folder)
        if manifest is None:
            raise GraphbuildError(
                f"{folder.where(MANIFEST)} not found: the run that writes {text} has not finished "
                "(rerun it to complete the folder), or name the part files to load them as they are"
            )
        verify(folder, manifest, checksums=checksums)
        parts.extend(_Part(folder.where(p.name), p.bytes, p.documents, p.quads) for p in manifest.parts)
        report.folders.append(text)
        if documents is not None:
            documents += manifest.documents
    report.documents = documents
    return parts


def _is_folder(location: str) -> bool:
    if is_remote(location):
        return not location.endswith((".nq", ".nq.gz"))
    return local_path(location).is_dir()


def _size(location: str) -> int:
    try:
        if is_remote(location):
            with open_remote(location) as stream:
                return int(stream.seek(0, io.SEEK_END))
        return local_path(location).stat().st_size
    except OSError as exc:
        raise GraphbuildError(f"cannot read {location}: {exc.strerror or exc}") from exc


class _Read:
    """Counts MiB read across the files, for the progress callback."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total_mib = max(1, round(total / _MIB))
        self.done = 0
        self._shown = -1

    def add(self, count: int) -> None:
        self.done += count
        mib = self.done // _MIB
        if self.progress is not None and mib != self._shown:
            self._shown = mib
            self.progress("MiB", min(mib, self.total_mib), self.total_mib)


    def finish(self) -> None:
        if self.progress is not None:
            self.progress("MiB", self.total_mib, self.total_mib)


class _Counting:
    """A file read through, its bytes counted on the way."""

    def __init__(self, stream: BinaryIO, read: _Read) -> None:
        self._stream = stream
        self._read = read

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._read.add(len(data))
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # Gzip seeks back over what it read past a member's end: read again, counted twice;
        # a few bytes per file, and the count stops at the total.
        return self._stream.seek(offset, whence)


def _bulk_load(store: EmbeddedStore, part: _Part, read: _Read) -> None:
    location = part.location
    try:
        if not is_remote(location) and not location.endswith(".gz"):
            # A plain local file goes by its path: the loader reads it itself, fastest.
            store.bulk_load_nquads(local_path(location))
            read.add(part.bytes)
            return
        raw: BinaryIO = open_remote(location) if is_remote(location) else local_path(location).open("rb")
        with raw:
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            counted = _Counting(raw, read)
            stream = gzip.GzipFile(fileobj=counted, mode="rb") if gzipped else counted
            store.bulk_load_nquads(stream)
    except StoreError:
        raise
    except (SyntaxError, ValueError) as exc:
        raise GraphbuildError(f"{location}: not N-Quads: {exc}; nothing loaded (the store is left empty)") from exc
    except (OSError, EOFError) as exc:
        raise GraphbuildError(f"cannot load {location}: {exc}; nothing loaded (the store is left empty)") from exc
