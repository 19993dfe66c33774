"""Where inputs are read and output files written: local paths, or fsspec URLs.

A location is a path (``corpus/``, ``file:///data/corpus``) or an fsspec URL
(``s3://bucket/corpus``, ``gs://…``, ``memory://…``). Paths need nothing beyond the
standard library; URLs need fsspec and the protocol's own package (``pip install
'graphbuild[cluster]'`` brings fsspec and s3fs), imported only when a URL comes along.

Output files are written whole or not at all: under a temporary name beside the final one
(``.NAME.tmp-…``), renamed once closed, so that a process killed half-way never leaves a
file that looks complete under its final name.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from glob import escape as glob_escape
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import unquote, urlsplit

from graphbuild.errors import GraphbuildError

__all__ = ["Folder", "TEMPORARY", "is_remote", "list_remote", "local_path", "open_remote", "sha256_of", "sizes", "tree_size", "written_whole"]

# What a file being written is called until it is whole: ``.NAME.tmp-HEX``.
TEMPORARY = ".tmp-"
_CHUNK = 1 << 20
_INSTALL = "pip install 'graphbuild[cluster]'"
# Sizes of remote files seen in listings, until ``sizes`` asks for them.
_LISTED_SIZES: dict[str, int] = {}


def is_remote(location: str | Path) -> bool:
    """Whether ``location`` is a URL that fsspec opens (``s3://…``), not a local path."""
    if isinstance(location, Path):
        return False
    scheme = urlsplit(location).scheme
    # One letter is a Windows drive (C:\\…), not a protocol.
    return "://" in location and len(scheme) > 1 and scheme != "file"


def local_path(location: str | Path) -> Path:
    """The path a local location names, ``file://`` URLs included."""
    if isinstance(location, str) and location.startswith("file://"):
        return Path(unquote(urlsplit(location).path))
    return Path(location)


def _filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem that serves ``url``, and the path inside it."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise GraphbuildError(f"reading and writing {url.split('://')[0]}:// URLs needs fsspec: {_INSTALL}") from None
    try:
        fs, path = url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise GraphbuildError(f"cannot open {url}: {exc} ({_INSTALL} brings s3fs; other protocols need their own package)") from exc
    return fs, str(path)


def _url(fs: Any, path: str) -> str:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return f"{protocol}://{path}"


def list_remote(url: str) -> list[str]:
    """The files under a URL (recursively, sorted), or the URL itself if it names a file."""
    fs, path = _filesystem(url)
    try:
        if fs.isdir(path):
            found = fs.find(path, detail=True)
            # Sizes come with the listing: kept for ``sizes``, which would otherwise ask
            # the object store once per file.
            listed = {_url(fs, name): info.get("size") for name, info in found.items()}
            _LISTED_SIZES.update({name: int(size) for name, size in listed.items() if size is not None})
            return sorted(listed)
        if fs.isfile(path):
            return [url]
    except OSError as exc:
        raise GraphbuildError(f"cannot list {url}: {exc}") from exc
    raise GraphbuildError(f"no such file or folder: {url}")


def sizes(locations: list[str]) -> list[int]:
    """Each location's size in bytes (0 where it cannot be had: its reader will say why)."""
    found = {location: _LISTED_SIZES.pop(location) for location in locations if location in _LISTED_SIZES}
    remote = [location for location in locations if is_remote(location) and location not in found]
    if remote:
        fs, _ = _filesystem(remote[0])
        paths = [_filesystem(url)[1] for url in remote]
        try:
            # One call for the lot: an object store answers them concurrently.
            found.update(zip(remote, (int(size or 0) for size in fs.sizes(paths))))
        except OSError:
            pass
    for location in locations:
        if location not in found:
            try:
                found[location] = os.stat(local_path(location)).st_size
            except (OSError, ValueError):
                found[location] = 0
    return [found[location] for location in locations]


def open_remote(url: str) -> BinaryIO:
    """A URL's file, opened for reading (raises OSError as ``open`` does)."""
    fs, path = _filesystem(url)
    stream: BinaryIO = fs.open(path, "rb")
    return stream


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it takes ``path``'s name when the
    block ends without an error, and is removed when it ends with one. What a writer of
    the same file killed earlier left there goes too."""
    for stale in path.parent.glob(f".{glob_escape(path.name)}{TEMPORARY}*"):
        stale.unlink(missing_ok=True)
    temporary = path.with_name(f".{path.name}{TEMPORARY}{uuid.uuid4().hex}")
    try:
        yield temporary
        # On disk before it takes the final name: a crash of the machine must not leave an
        # empty file there either.
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def tree_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (a store's size on disk); files that go while
    it is walked (a compaction deleting one) count as gone."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


class Folder:
    """An output folder, local or behind an fsspec URL: the few operations graphbuild's
    writers need, named by file names relative to the folder (``part-00000.nq.gz``,
    ``_partitions/00000.json``)."""

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        self._local = None if is_remote(location) else local_path(location)
        if self._local is None:
            self._fs, self._root = _filesystem(self.location)
        else:
            self._fs, self._root = None, str(self._local)

    def __str__(self) -> str:
        return self.location

    def where(self, name: str) -> str:
        """The location of a file in the folder, as messages show it."""
        if self._local is not None:
            return str(self._local / name)
        return f"{self.location.rstrip('/')}/{name}"

    def make(self) -> None:
        if self._local is not None:
            self._local.mkdir(parents=True, exist_ok=True)
        else:
            self._fs.makedirs(self._root, exist_ok=True)

    def names(self) -> list[str]:
        """Every file in the folder and below, as relative names, sorted."""
        if self._local is not None:
            if not self._local.is_dir():
                return []
            return sorted(p.relative_to(self._local).as_posix() for p in self._local.rglob("*") if p.is_file())
        # Other processes write here: what fsspec remembers of earlier listings is stale.
        self._fs.invalidate_cache()
        try:
            found = self._fs.find(self._root)
        except FileNotFoundError:
            return []
        root = self._root.rstrip("/") + "/"
        return sorted(path[len(root):] for path in found if path.startswith(root))

    def exists(self, name: str) -> bool:
        if self._local is not None:
            return (self._local / name).is_file()
        return bool(self._fs.isfile(self._path(name)))

    def size(self, name: str) -> int:
        if self._local is not None:
            return (self._local / name).stat().st_size
        return int(self._fs.size(self._path(name)))

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def open(self, name: str) -> BinaryIO:
        if self._local is not None:
            return (self._local / name).open("rb")
        stream: BinaryIO = self._fs.open(self._path(name), "rb")
        return stream

    def sha256(self, name: str) -> str:
        with self.open(name) as stream:
            return sha256_of(stream)

    def remove(self, name: str) -> None:
        if self._local is not None:
            (self._local / name).unlink(missing_ok=True)
        elif self._fs.exists(self._path(name)):
            self._fs.rm(self._path(name))

    @contextmanager
    def writing(self, name: str) -> Iterator[BinaryIO]:
        """A binary stream that becomes the file ``name`` when the block ends without an
        error; until then it is a temporary file beside it, removed on an error."""
        self._make_parent(name)
        if self._local is not None:
            with written_whole(self._local / name) as path, path.open("wb") as stream:
                yield stream
            return
        folder, _, base = name.rpartition("/")
        temporary = f"{folder}/" if folder else ""
        temporary += f".{base}{TEMPORARY}{uuid.uuid4().hex}"
        done = False
        try:
            with self._open_for_writing(temporary) as stream:
                yield stream
            self._rename(temporary, name)
            done = True
        finally:
            if not done:
                self.remove(temporary)

    def write_bytes(self, name: str, data: bytes) -> None:
        with self.writing(name) as stream:
            stream.write(data)

    def temporaries(self) -> list[str]:
        """Files left half-written by a writer that was stopped (or is still writing)."""
        return [name for name in self.names() if TEMPORARY in name.rpartition("/")[2]]

    def _path(self, name: str) -> str:
        return f"{self._root.rstrip('/')}/{name}"

    def _make_parent(self, name: str) -> None:
        folder = name.rpartition("/")[0]
        if self._local is not None:
            (self._local / folder).mkdir(parents=True, exist_ok=True)
        elif folder:
            self._fs.makedirs(self._path(folder), exist_ok=True)

    def _open_for_writing(self, name: str) -> BinaryIO:
        stream: BinaryIO = self._fs.open(self._path(name), "wb")
        return stream

    def _rename(self, source: str, target: str) -> None:
        self._fs.mv(self._path(source), self._path(target))
