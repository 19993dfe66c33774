"""Helpers for the reader tests that run over case folders (tests/data/<format>/)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from graphbuild.errors import InputError
from graphbuild.model.records import Document


def cases(folder: Path) -> list[Path]:
    """The input files of a case folder (everything but the expected files), sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".expected.json"))


def expected(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".expected.json").read_text(encoding="utf-8"))


def shape(path: Path, items: Iterable[object]) -> dict:
    """What a reader made of a case, in the shape of the expected files: documents (id,
    text length, annotator, links as [anchor, begin, end, resource, confidence, types?,
    scores?]), errors, skip notes and repair notes, paths relative to the case folder."""
    out: dict[str, list] = {"documents": [], "errors": [], "skipped": [], "repairs": []}

    def relative(text: str) -> str:
        return text.replace(str(path.parent) + "/", "")

    for item in items:
        if isinstance(item, Document):
            links = []
            for link in item.links:
                row: list[object] = [link.surface, link.begin, link.end, link.resource, link.confidence]
                if link.types:
                    row.append(list(link.types))
                if link.support is not None or link.second_rank is not None:
                    row.append({"support": link.support, "second_rank": link.second_rank})
                links.append(row)
            out["documents"].append(
                {"id": item.id, "text_length": len(item.text), "annotator": item.annotator, "links": links}
            )
            out["repairs"] += [relative(str(repair)) for repair in item.repairs]
        elif isinstance(item, InputError):
            out["errors"].append(relative(str(item)))
        else:
            out["skipped"].append(item.reason)  # type: ignore[attr-defined]
    return {key: value for key, value in out.items() if value}
