"""graphbuild.workers.transfer: records survive the trip between processes, equal and cheaper."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import SEEDS

from graphbuild.errors import InputError
from graphbuild.model.records import Document, Link, Repair, RepairKind, Skipped
from graphbuild.pipeline.prepare import Prepared, prepared
from graphbuild.workers.transfer import OUT_OF_BAND, dumps, loads


@dataclass(frozen=True, slots=True)
class Encoded:
    name: str
    data: bytes
    lines: int


@dataclass(frozen=True, slots=True)
class KeywordOnly:
    a: int
    b: int = field(kw_only=True)


@dataclass(frozen=True)
class NoSlots:
    a: int


def test_prepared_documents_come_back_equal() -> None:
    items = list(prepared([SEEDS], parallel=False))
    assert any(isinstance(item, Prepared) for item in items) and any(isinstance(item, Skipped) for item in items)
    assert loads(dumps(items)) == items


def test_records_errors_and_other_values_come_back_equal() -> None:
    values = [
        Document("d", "text", (Link("t", "http://x.org/t", 0.5, 0, 1, True, False, ("http://x.org/T",), 3),), "s"),
        Repair(RepairKind.ANCHOR_CASE, "re-cased", "s", 2),
        KeywordOnly(1, b=2),
        NoSlots(3),
        Path("/tmp/x"),
        {"a": (1, 2.5, None)},
    ]
    assert loads(dumps(values)) == values
    error = loads(dumps(InputError("s", 4, "bad row")))
    assert (type(error), str(error)) == (InputError, "s:4: bad row")


def test_large_bytes_fields_arrive_as_views_without_a_copy_in_the_pickle() -> None:
    large, small = b"<a> <b> <c> .\n" * 1000, b"<a> <b> <c> .\n"
    assert len(large) >= OUT_OF_BAND > len(small)
    message = dumps([Encoded("large", large, 1000), Encoded("small", small, 1)])
    back = loads(message)
    assert isinstance(back[0].data, memoryview) and bytes(back[0].data) == large
    assert back[1].data == small
    assert message.count(large) == 1
    assert len(message) < len(pickle.dumps([large, small])) + 200


@pytest.mark.parametrize("value", [[], None, "text", b"bytes"])
def test_plain_values(value: object) -> None:
    assert loads(dumps(value)) == value
