"""Small text helpers shared across graphbuild: one copy each."""

from __future__ import annotations

__all__ = ["fold_case", "plural"]

# Final sigma lowercases to "ς" or "σ" depending on context; both fold to one letter.
_FINAL_SIGMA = "ς"
_SIGMA = "σ"


def fold_case(value: str) -> str:
    """Lower-case ``value`` one code point at a time, without changing its length, so that
    offsets in the folded text are offsets in the original.

    A capital whose lower case is two code points (``İ``) is kept as it is; the two Greek
    sigmas fold to one letter.
    """
    lowered = value.lower()
    if len(lowered) != len(value):
        lowered = "".join(_fold_char(char) for char in value)
    return lowered.replace(_FINAL_SIGMA, _SIGMA)


def _fold_char(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def plural(count: int, word: str) -> str:
    """``1 document``, ``1,234 documents``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
