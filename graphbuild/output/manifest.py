"""``_SUCCESS.json``: the manifest that says a folder of part files is complete.

Written last, after every part has its final name, by ``convert`` and ``export`` alike:
every part with its documents, quads, bytes and SHA-256, what made them, and the
documents that failed. A folder without one is not complete (a run died, or is still
going); ``load`` checks the parts against it before loading any.

The same module guards output folders: a writer refuses a folder that already holds the
part files of another run, or clears them first when told to.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from graphbuild import __version__
from graphbuild.errors import GraphbuildError
from graphbuild.files import TEMPORARY, Folder
from graphbuild.output.parts import PartFile
from graphbuild.text import plural

__all__ = ["MANIFEST", "Manifest", "clear_parts", "is_temporary", "parts_in", "read_manifest", "refuse_other_parts", "verify", "write_manifest"]

MANIFEST = "_SUCCESS.json"
# What graphbuild writes into a parts folder: the parts, the manifest, a convert's run
# record and per-partition records, and files still being written.
_OURS = re.compile(r"^(?:(?:part|figures)[-\w]*\.nq(?:\.gz)?|_SUCCESS\.json|_RUN\.json|_partitions/\d+\.json|(?:.*/)?\..*\.tmp-\w+)$")
_SHOWN = 3


@dataclass(frozen=True)
class Manifest:
    """A complete folder of parts: ``parts`` in loading order, ``figures`` the name of the
    part holding the per-resource figures (convert writes them as a part of their own)."""

    made_by: str
    parts: tuple[PartFile, ...]
    graphbuild: str = __version__
    run: str | None = None
    started: str | None = None
    inputs: int = 0
    inputs_sha256: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    failed: tuple[str, ...] = ()
    figures: str | None = None

    @property
    def documents(self) -> int:
        return sum(part.documents for part in self.parts)

    @property
    def quads(self) -> int:
        return sum(part.quads for part in self.parts)

    @property
    def bytes(self) -> int:
        return sum(part.bytes for part in self.parts)

    def to_json(self) -> str:
        data = asdict(self)
        data.update(documents=self.documents, quads=self.quads, bytes=self.bytes)
        return json.dumps(data, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        parts = tuple(PartFile(**part) for part in data["parts"])
        fields = {name: data[name] for name in cls.__dataclass_fields__ if name in data and name != "parts"}
        fields["failed"] = tuple(fields.get("failed", ()))
        return cls(parts=parts, **fields)


def write_manifest(folder: Folder, manifest: Manifest) -> None:
    folder.write_bytes(MANIFEST, manifest.to_json().encode("utf-8"))


def read_manifest(folder: Folder) -> Manifest | None:
    """The folder's manifest, or None when it has none."""
    if not folder.exists(MANIFEST):
        return None
    try:
        return Manifest.from_json(folder.read_bytes(MANIFEST).decode("utf-8"))
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphbuildError(f"{folder.where(MANIFEST)}: not a graphbuild manifest: {exc}") from exc


def verify(folder: Folder, manifest: Manifest, *, checksums: bool = True) -> None:
    """Raise unless every part the manifest lists is there with its size (and SHA-256)."""
    problems = []
    for part in manifest.parts:
        if not folder.exists(part.name):
            problems.append(f"{folder.where(part.name)}: missing")
        elif (size := folder.size(part.name)) != part.bytes:
            problems.append(f"{folder.where(part.name)}: {size:,} bytes, the manifest says {part.bytes:,}")
        elif checksums and folder.sha256(part.name) != part.sha256:
            problems.append(f"{folder.where(part.name)}: its SHA-256 differs from the manifest's (the file changed)")
    if problems:
        raise GraphbuildError(
            f"{folder.where(MANIFEST)} does not match the folder, nothing loaded:\n" + "\n".join(problems)
        )


def parts_in(folder: Folder) -> list[str]:
    """The files in ``folder`` that graphbuild wrote (parts, manifest, run records, and
    files still being written, or left half-written by a writer that was stopped)."""
    return [name for name in folder.names() if _OURS.match(name)]


def is_temporary(name: str) -> bool:
    return TEMPORARY in name.rpartition("/")[2]


def refuse_other_parts(folder: Folder, names: list[str]) -> None:
    """Raise if ``names`` hold finished files: half-written ones of a stopped writer are no run."""
    names = [name for name in names if not is_temporary(name)]
    if names:
        shown = ", ".join(names[:_SHOWN]) + (", …" if len(names) > _SHOWN else "")
        raise GraphbuildError(
            f"{folder} already holds {plural(len(names), 'file')} of another run ({shown}); "
            "write to an empty folder, or ask for these to be cleared first (overwrite)"
        )


def clear_parts(folder: Folder) -> int:
    """Remove what graphbuild wrote into ``folder`` (nothing else); returns how many files."""
    names = parts_in(folder)
    # The manifest first: a folder being cleared must not look complete at any moment.
    for name in sorted(names, key=lambda name: name != MANIFEST):
        folder.remove(name)
    return len(names)
