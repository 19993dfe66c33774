"""Small text helpers shared across graphbuild: one copy each."""

from __future__ import annotations

import sys
from functools import lru_cache

__all__ = ["fold_case", "parse_size", "plural", "size_text"]

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


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def size_text(size: int) -> str:
    """``128 MiB``, ``1.5 GiB``, ``900 bytes``: a byte count as people read it."""
    for unit, label in (("T", "TiB"), ("G", "GiB"), ("M", "MiB"), ("K", "KiB")):
        if size >= _UNITS[unit]:
            value = size / _UNITS[unit]
            return f"{value:.0f} {label}" if value == int(value) else f"{value:.1f} {label}"
    return plural(size, "byte")


def parse_size(text: str) -> int:
    """``128M``, ``1.5G``, ``64KiB``, ``1000000``: a size in bytes (ValueError if not one)."""
    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (raw[:-1], raw[-1]) if raw[-1:] in _UNITS and raw[-1:] else (raw, "")
    value = float(number)
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"{text!r} is not a size")
    return int(value * _UNITS[unit])
