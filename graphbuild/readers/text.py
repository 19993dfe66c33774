"""Small helpers the text-based readers share: decoding, and document ids from file names."""

from __future__ import annotations

import codecs
from pathlib import Path

from graphbuild.errors import InputError


def decode(data: bytes, source: str) -> str | InputError:
    """UTF-8 text (a BOM dropped), or an error at the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        line = data[:start].count(b"\n") + 1
        return InputError(source, line, f"not valid UTF-8 (byte {start}); save the file as UTF-8")


def stem(name: str) -> str:
    """A file name without its format extension (``.gz`` is already gone): the document id."""
    return Path(name).stem
