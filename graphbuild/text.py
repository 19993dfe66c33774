"""Small text helpers shared across graphbuild: one copy each."""

from __future__ import annotations

import sys
from functools import lru_cache

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
        # Each capital that lowers to two code points is swapped for a private-use one
        # (which lower() leaves alone) and back: whole-string passes in C, where a pass
        # per character took ~40 s and 3 GB on a 50 MB text.
        kept = value
        swaps = []
        spare = (chr(code) for code in range(0xE000, 0xF900) if chr(code) not in value)
        for char in _expanding():
            if char in kept:
                stand_in = next(spare)
                kept = kept.replace(char, stand_in)
                swaps.append((stand_in, char))
        lowered = kept.lower()
        for stand_in, char in swaps:
            lowered = lowered.replace(stand_in, char)
    return lowered.replace(_FINAL_SIGMA, _SIGMA)


@lru_cache(maxsize=1)
def _expanding() -> str:
    """Every character whose lower case is more than one code point (U+0130 in Unicode 15)."""
    return "".join(char for char in map(chr, range(sys.maxunicode + 1)) if len(char.lower()) != 1)


def plural(count: int, word: str) -> str:
    """``1 document``, ``1,234 documents``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
