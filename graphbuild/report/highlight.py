"""A document's text cut into plain runs and highlighted mentions, for the document page.

Mentions nest when one lies inside another (``New York`` in ``New York Times``); a mention
that crosses another's border, or whose offsets fall outside the text, cannot be drawn in
the text and is returned apart so the page lists it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from graphbuild.report.gather import Mention


@dataclass(slots=True)
class Mark:
    """A highlighted mention and what lies inside it."""

    mention: Mention
    anchor: str | None = None  # the element id, for links to this mention; one per span
    children: list[str | Mark] = field(default_factory=list)

    @property
    def nested(self) -> bool:
        return any(isinstance(child, Mark) for child in self.children)


Segment = str | Mark


@dataclass(frozen=True, slots=True)
class Token:
    """One step of the highlighted text, for a template to render in a single loop:
    a run of text (``mark`` None), or the opening or closing of a mark."""

    text: str = ""
    mark: Mark | None = None
    closing: bool = False


def tokens(parts: list[Segment]) -> Iterator[Token]:
    """The mark tree as a flat sequence of text, open and close steps."""
    for part in parts:
        if isinstance(part, str):
            yield Token(part)
        else:
            yield Token(mark=part)
            yield from tokens(part.children)
            yield Token(mark=part, closing=True)


def segments(text: str, mentions: Sequence[Mention]) -> tuple[list[Segment], list[Mention]]:
    """The text as runs and marks, and the mentions that could not be drawn in it."""
    ordered = sorted((m for m in mentions if m.placed), key=lambda m: (m.begin, -(m.end or 0), m.resource))
    root: list[Segment] = []
    stack: list[tuple[Mark, int]] = []  # open marks, innermost last, with their end offsets
    position = 0
    rejected: list[Mention] = []
    anchors: set[str] = set()

    def close_until(offset: int) -> None:
        nonlocal position
        while stack and stack[-1][1] <= offset:
            mark, end = stack.pop()
            if position < end:
                mark.children.append(text[position:end])
            position = end

    for mention in ordered:
        begin, end = mention.begin or 0, mention.end or 0
        if not 0 <= begin < end <= len(text):
            rejected.append(mention)
            continue
        close_until(begin)
        if stack and end > stack[-1][1]:
            rejected.append(mention)  # crosses the border of the mark it starts in
            continue
        container = stack[-1][0].children if stack else root
        if position < begin:
            container.append(text[position:begin])
            position = begin
        anchor = f"m-{begin}-{end}"
        mark = Mark(mention, anchor if anchor not in anchors else None)
        anchors.add(anchor)
        container.append(mark)
        stack.append((mark, end))
    close_until(len(text))
    if position < len(text):
        root.append(text[position:])
    return root, rejected
