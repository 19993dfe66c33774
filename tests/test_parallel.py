"""graphbuild.workers.processes: runs in spawned processes, results in the runs' order, failures heard."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from graphbuild.errors import GraphbuildError
from graphbuild.workers.processes import in_order, runs_of_files

RUNS = [[0, 1, 2], [3, 4], [5], [6, 7, 8, 9], [], [10]]


# Work functions live at module level: the spawned processes import them from here.
def _tagged(run: list[int]) -> Iterator[tuple[int, int]]:
    for number in run:
        yield number, os.getpid()


def _large(run: list[int]) -> Iterator[str]:
    for number in run:
        yield str(number) * 50_000  # a message far above what travels on the queue itself


def _failing(run: list[int], *, at: int) -> Iterator[int]:
    for number in run:
        if number == at:
            raise ValueError(f"cannot take {number}")
        yield number


def _dying(run: list[int], *, at: int) -> Iterator[int]:
    for number in run:
        if number == at:
            os._exit(3)
        yield number


def _ordered(work: object, *, processes: int = 2, chunk: int = 2) -> Iterator[object]:
    return in_order(work, lambda: RUNS, processes=processes, chunk=chunk, queued=2, name="counting", hint="count again")  # type: ignore[arg-type]


@pytest.mark.parametrize(("processes", "chunk"), [(1, 1), (2, 1), (2, 2), (3, 100)])
def test_results_come_in_the_order_of_the_runs(processes: int, chunk: int) -> None:
    results = list(_ordered(_tagged, processes=processes, chunk=chunk))
    assert [number for number, _ in results] == list(range(11))
    pids = {number: pid for number, pid in results}
    assert os.getpid() not in pids.values()
    # Run k goes to process k mod n.
    expected = {number: index % processes for index, run in enumerate(RUNS) for number in run}
    by_process: dict[int, set[int]] = {}
    for number, process in expected.items():
        by_process.setdefault(process, set()).add(pids[number])
    assert all(len(found) == 1 for found in by_process.values())
    assert len({pid for found in by_process.values() for pid in found}) == processes


def test_large_messages_travel_through_files_that_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    results = list(_ordered(_large))
    assert [len(text) for text in results] == [50_000 * len(str(n)) for n in range(11)]
    assert [text[:2] for text in results] == [str(n) * 2 if n < 10 else "10" for n in range(11)]
    assert list(tmp_path.iterdir()) == []


def test_a_failure_in_a_process_is_raised_after_what_came_before() -> None:
    seen: list[int] = []
    with pytest.raises(GraphbuildError) as raised:
        for number in _ordered(partial(_failing, at=7)):
            seen.append(number)  # type: ignore[arg-type]
    assert seen == [0, 1, 2, 3, 4, 5, 6]
    message = str(raised.value)
    assert message.startswith("counting failed:\nTraceback")
    assert message.rstrip().endswith("ValueError: cannot take 7")


def test_a_process_that_dies_is_reported_with_its_exit_code() -> None:
    with pytest.raises(GraphbuildError, match=r"^the process counting stopped \(exit code 3\); count again$"):
        list(_ordered(partial(_dying, at=3)))


def test_leaving_early_stops_the_processes() -> None:
    results = _ordered(_tagged, chunk=1)
    first, pid = next(results)  # type: ignore[misc]
    assert first == 0
    results.close()  # type: ignore[attr-defined]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_runs_of_files_cut_by_count_and_size(tmp_path: Path) -> None:
    sizes = [10, 10, 100, 10, 10, 10, 10]
    files = []
    for index, size in enumerate(sizes):
        path = tmp_path / f"{index}.txt"
        path.write_bytes(b"x" * size)
        files.append(path)
    files.append(tmp_path / "missing.txt")
    runs = runs_of_files(files, 2, files=3, size=100)
    assert [[p.name for p in run] for run in runs] == [
        ["0.txt", "1.txt", "2.txt"],
        ["3.txt", "4.txt", "5.txt"],
        ["6.txt", "missing.txt"],
    ]
    assert runs_of_files(files, 1, files=3, size=100) == [files]
