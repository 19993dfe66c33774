"""Records between processes: pickling that is cheap for frozen slotted dataclasses.

The preparing processes send every document through a file or a pipe. Plain pickle
stores a slotted dataclass through its ``__getstate__``/``__setstate__`` (Python code,
run per object on both sides), which costs three times what the N-Quads text inside
costs. Here such a record travels as its class and its field values and is rebuilt by its
own ``__init__``; and a ``bytes`` field of ``OUT_OF_BAND`` bytes or more travels outside
the pickle, so that it is copied once, and arrives as a ``memoryview`` over the message.
"""

from __future__ import annotations

import dataclasses
import io
import operator
import pickle
import struct
from collections.abc import Callable
from typing import Any

OUT_OF_BAND = 4096

_NOT_SIMPLE = None
# Per class: how to take its field values as a tuple, or _NOT_SIMPLE for plain pickling.
_FIELD_VALUES: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}
# Classes with a field annotated as bytes, whose values may go out of band.
_WITH_BYTES: set[type] = set()
_COUNT = struct.Struct("<Q")


def dumps(value: object) -> bytes:
    """``value`` as one message: the sizes of its parts, its pickle, its large bytes."""
    stream = io.BytesIO()
    buffers: list[pickle.PickleBuffer] = []
    _Pickler(stream, protocol=5, buffer_callback=buffers.append).dump(value)
    parts = [stream.getbuffer(), *(buffer.raw() for buffer in buffers)]
    sizes = struct.pack(f"<Q{len(parts)}Q", len(parts), *(part.nbytes for part in parts))
    return b"".join([sizes, *parts])


def loads(data: bytes) -> Any:
    """What ``dumps`` was given (the classes must be importable here too)."""
    view = memoryview(data)
    (count,) = _COUNT.unpack_from(view)
    sizes = struct.unpack_from(f"<{count}Q", view, _COUNT.size)
    parts, offset = [], _COUNT.size * (count + 1)
    for size in sizes:
        parts.append(view[offset : offset + size])
        offset += size
    return pickle.loads(parts[0], buffers=parts[1:])


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: object) -> Any:  # NotImplemented, or (class, field values)
        cls = type(obj)
        try:
            values = _FIELD_VALUES[cls]
        except KeyError:
            values = _FIELD_VALUES[cls] = _field_values(cls)
        if values is None:
            return NotImplemented
        if cls in _WITH_BYTES:
            return cls, tuple(_out_of_band(value) for value in values(obj))
        return cls, values(obj)


def _out_of_band(value: object) -> object:
    if type(value) is bytes and len(value) >= OUT_OF_BAND:
        return pickle.PickleBuffer(value)
    return value


def _field_values(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    # Only where ``cls(*values)`` rebuilds an equal object: a slotted dataclass whose
    # fields all go through __init__ and that does nothing more on the way in.
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        return _NOT_SIMPLE
    fields = dataclasses.fields(cls)
    if not fields or not all(f.init and not f.kw_only for f in fields):
        return _NOT_SIMPLE
    names = [f.name for f in fields]
    if any("bytes" in str(f.type) for f in fields):
        _WITH_BYTES.add(cls)
    if len(names) == 1:
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return operator.attrgetter(*names)
