"""What the pages say about a linked resource beside each mention: its label and types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graphbuild.model.vocab import DBO, OWL_THING, compact
from graphbuild.report.gather import Mention, Reader


@dataclass(frozen=True, slots=True)
class Tip:
    label: str | None
    types: tuple[str, ...]


class Tips:
    """Each linked resource's label and types, read once (a few per document are new)."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader
        self._known: dict[str, Tip] = {}
        self._new: dict[str, Tip] = {}

    def learn(self, known: dict[str, Tip]) -> None:
        """Take tips another process read, so that this one need not read them again."""
        for iri, tip in known.items():
            self._known.setdefault(iri, tip)

    def take_new(self) -> dict[str, Tip]:
        """The tips read since the last call (to send to the process that gathers figures)."""
        new, self._new = self._new, {}
        return new

    def get(self, iri: str) -> Tip:
        tip = self._known.get(iri)
        if tip is None:
            info = self._reader.resource_info(iri)
            tip = self._known[iri] = self._new[iri] = Tip(info.label, _shown_types(info.types))
        return tip

    def label(self, iri: str) -> str | None:
        return self.get(iri).label

    def types(self, iri: str) -> tuple[str, ...]:
        return self.get(iri).types

    def tooltip(self, mention: Mention) -> str:
        tip = self.get(mention.resource)
        lines = [compact(mention.resource)]
        if tip.label:
            lines.append(tip.label)
        lines.append("confidence " + ("none" if mention.confidence is None else repr(mention.confidence)))
        types = _shown_types(tuple(dict.fromkeys(mention.classes + tip.types)))
        if types:
            lines.append("types: " + ", ".join(compact(t) for t in types))
        flags = ["offsets inferred"] if mention.inferred else []
        if mention.ambiguous:
            flags.append("ambiguous placement")
        if flags:
            lines.append("; ".join(flags))
        return "\n".join(lines)


def _shown_types(types: Sequence[str], limit: int = 5) -> tuple[str, ...]:
    """DBpedia ontology classes first, then others; owl:Thing says nothing."""
    useful = [t for t in types if t != OWL_THING.value]
    useful.sort(key=lambda t: (not t.startswith(DBO), t))
    return tuple(useful[:limit])
