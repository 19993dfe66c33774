"""Nothing left behind: a killed or interrupted command leaves no process, no temporary
folder and no half-written output, and says how to finish.

Real commands in subprocesses (``python -m graphbuild``) on a 3,000-document corpus, so
that the preparing processes start; the signal comes at a few moments of the run.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SEED
from servers import free_port

from graphbuild.errors import Interrupted
from graphbuild.model.vocab import METADATA_GRAPH
from graphbuild.store.embedded import EmbeddedStore
from graphbuild.store.protocol import int_value
from graphbuild.workers.processes import FOLDER_PREFIX, in_order, sweep_folders

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")

DOCUMENTS = 3000
# After the parent's death, its other processes have this long to end, in seconds.
GRACE = 5.0


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 generated documents, one .txt each: enough for ingest to start a preparing process."""
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), str(out), "--documents", str(DOCUMENTS), "--formats", "summary"],
        check=True,
        capture_output=True,
    )
    return out / "summary"


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _running(pid: int) -> bool:
    # Ended once every thread has: a zombie has, only its parent's wait is missing. The
    # main thread of a threaded process (oxigraph serve) shows "Z" while the others still
    # exit, holding its open files (the store's lock) until the last one ends.
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            return True
    return False


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class Command:
    """``python -m graphbuild ARGS`` with its own TMPDIR; every process it started is noted."""

    def __init__(self, args: list[str], tmp: Path) -> None:
        self.tmp = tmp / "tmp"
        self.tmp.mkdir()
        env = {**os.environ, "TMPDIR": str(self.tmp)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "graphbuild", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.seen: set[int] = set()

    def note(self) -> set[int]:
        self.seen |= descendants(self.process.pid)
        return self.seen

    def wait_for_workers(self, count: int = 2) -> None:
        """Until the preparing process (and Python's resource tracker) run."""
        wait_until(lambda: len(self.note()) >= count, 60, "the preparing processes never started")

    def finish(self, signum: int) -> tuple[int, str]:
        self.note()
        self.process.send_signal(signum)
        _, stderr = self.process.communicate(timeout=60)
        return self.process.returncode, stderr

    def left_behind(self) -> list[int]:
        return [pid for pid in self.seen if _running(pid)]

    def folders(self) -> list[str]:
        return sorted(p.name for p in self.tmp.iterdir() if p.name.startswith(FOLDER_PREFIX))


def _stored(store: Path) -> tuple[int, int]:
    """(document graphs in the store, documents with metadata)."""
    with EmbeddedStore.open(store, read_only=True) as opened:
        documents = sum(1 for g in opened.graphs() if "/doc/" in g.value)
        described = len({q.subject for q in opened.quads(METADATA_GRAPH) if q.predicate.value.endswith("contentHash")})
    return documents, described


@pytest.mark.parametrize("moment", [0.0, 1.5], ids=["as-it-starts", "mid-run"])
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=["kill-9", "term", "hup"])
def test_a_killed_ingest_leaves_no_process_and_no_temporary_folder(corpus: Path, tmp_path: Path, signum: int, moment: float) -> None:
    command = Command(["ingest", str(corpus), "--store", str(tmp_path / "store"), "--quiet"], tmp_path)
    command.wait_for_workers()
    assert command.folders(), "the run's temporary folder should exist while it runs"
    time.sleep(moment)
    status, stderr = command.finish(signum)
    assert status == (-signal.SIGKILL if signum == signal.SIGKILL else 128 + signum), stderr
    wait_until(lambda: not command.left_behind(), GRACE, f"processes outlived the parent: {command.left_behind()}")
    wait_until(lambda: not command.folders(), GRACE, f"temporary folders left: {command.folders()}")
    assert "Traceback" not in stderr
    if signum != signal.SIGKILL:
        assert re.fullmatch(r"interrupted: [\d,]+ documents? written; rerun the same command to finish", stderr.splitlines()[-1])
    documents, described = _stored(tmp_path / "store")
    if signum != signal.SIGKILL:  # stopped cleanly: every document written is whole, with its metadata
        assert documents == described


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=["kill-9", "term", "hup"])
def test_a_killed_convert_leaves_no_process_and_no_temporary_folder(corpus: Path, tmp_path: Path, signum: int) -> None:
    output = tmp_path / "out"
    command = Command(["convert", str(corpus), "--output", str(output), "--quiet"], tmp_path)
    command.wait_for_workers(count=3)  # two preparing processes and the resource tracker
    time.sleep(0.5)
    status, stderr = command.finish(signum)
    wait_until(lambda: not command.left_behind(), GRACE, f"processes outlived the parent: {command.left_behind()}")
    wait_until(lambda: not command.folders(), GRACE, f"temporary folders left: {command.folders()}")
    if signum != signal.SIGKILL:
        assert status == 128 + signum
        assert "Traceback" not in stderr
        # Finished partitions stay for the rerun to take up (pipeline.convert); none is cut short.
        assert stderr.splitlines()[-1] == "interrupted; rerun the same command to finish"


def test_ctrl_c_during_ingest_says_what_was_written_and_leaves_it_whole(corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    command = Command(["ingest", str(corpus), "--store", str(store), "--quiet"], tmp_path)
    command.wait_for_workers()
    time.sleep(2.5)  # documents are being prepared and taken
    status, stderr = command.finish(signal.SIGINT)
    assert status == 130
    assert "Traceback" not in stderr
    last = stderr.splitlines()[-1]
    match = re.fullmatch(r"interrupted: ([\d,]+) documents? written; rerun the same command to finish", last)
    assert match, last
    written = int(match.group(1).replace(",", ""))
    assert written < DOCUMENTS
    # Every document counted is whole in the store with its metadata; nothing else is.
    assert _stored(store) == (written, written)
    wait_until(lambda: not command.left_behind(), GRACE, f"processes outlived the parent: {command.left_behind()}")
    assert command.folders() == []


def test_ctrl_c_during_convert_says_how_to_finish_and_the_rerun_does(corpus: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    command = Command(["convert", str(corpus), "--output", str(output), "--quiet"], tmp_path)
    command.wait_for_workers(count=3)
    time.sleep(1.0)
    status, stderr = command.finish(signal.SIGINT)
    assert status == 130
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "interrupted; rerun the same command to finish"
    wait_until(lambda: not command.left_behind(), GRACE, f"processes outlived the parent: {command.left_behind()}")
    rerun = subprocess.run(
        [sys.executable, "-m", "graphbuild", "convert", str(corpus), "--output", str(output), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith(f"{DOCUMENTS:,} documents written to ")


# --- the mechanism itself -------------------------------------------------------------------


def _numbers(run: list[int]) -> Iterator[int]:
    yield from run


def test_a_run_sweeps_the_folders_of_dead_runs_and_keeps_the_live_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    left = tmp_path / f"{FOLDER_PREFIX}{dead.stdout.strip()}-abc123"
    (left / "sub").mkdir(parents=True)
    (left / "sub" / "x.pickle").write_bytes(b"x" * 100)
    live = tmp_path / f"{FOLDER_PREFIX}{os.getppid()}-def456"
    live.mkdir()
    other = tmp_path / "graphbuild-report-staging"
    other.mkdir()
    results = list(in_order(_numbers, lambda: [[1, 2], [3]], processes=2, chunk=1, queued=2, name="counting"))
    assert results == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
    assert sweep_folders(str(tmp_path)) == []


def test_a_child_ends_and_removes_the_folder_when_its_parent_is_killed(tmp_path: Path) -> None:
    # A parent that starts a pipeline, reads one item and hangs: its child blocks on a full queue.
    script = f"""
import sys, tempfile, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
tempfile.tempdir = {str(tmp_path)!r}
from test_lifetimes import _numbers
from graphbuild.workers.processes import in_order
items = in_order(_numbers, lambda: [list(range(100000))], processes=1, chunk=1, queued=1, name="n")
next(items)
print("ready", flush=True)
time.sleep(60)
"""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        children = descendants(parent.pid)
        assert children and [p.name for p in tmp_path.iterdir() if p.name.startswith(FOLDER_PREFIX)]
    finally:
        parent.kill()
        parent.wait()
    wait_until(lambda: not any(_running(pid) for pid in children), GRACE, "the child outlived its parent")
    wait_until(lambda: not any(tmp_path.iterdir()), GRACE, f"left: {list(tmp_path.iterdir())}")


# --- serve -------------------------------------------------------------------------------------


def test_serve_killed_with_9_takes_the_oxigraph_server_with_it(tmp_path: Path) -> None:
    store = tmp_path / "store"
    subprocess.run([sys.executable, "-m", "graphbuild", "ingest", str(SEED), "--store", str(store), "-q"], check=True)
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "graphbuild", "serve", "--store", str(store), "--bind", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stderr is not None and serve.stderr.readline().startswith("serving ")
        servers = descendants(serve.pid)
        assert len(servers) == 1
        assert Path(f"/proc/{next(iter(servers))}/cmdline").read_bytes().split(b"\0")[1] == b"serve"
    finally:
        serve.kill()
        serve.wait()
    wait_until(lambda: not any(_running(pid) for pid in servers), GRACE, "oxigraph serve outlived graphbuild serve")
    # The lock is free again: the next writer opens the store.
    with EmbeddedStore.open(store) as opened:
        assert opened.stats().documents == 1


# --- interrupts in the library ----------------------------------------------------------------


def test_an_interrupted_export_leaves_no_file(seed_store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphbuild.output.rdf import ExportFormat, export

    output = tmp_path / "out" / "store.ttl"
    output.parent.mkdir()

    def interrupted(data: object, target: object, *args: object, **kwargs: object) -> None:
        Path(str(target)).write_text("@prefix half: <")
        raise KeyboardInterrupt

    monkeypatch.setattr("pyoxigraph.serialize", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export(seed_store, output, format=ExportFormat.TURTLE)
    assert list(output.parent.iterdir()) == []


def test_an_interrupted_enrich_keeps_the_batches_stored_and_says_how_many(seed_store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphbuild.enrichment import DumpSource, Selection, enrich, parse_aspects
    from graphbuild.enrichment import run as enrich_run

    real, calls = enrich_run.write_batch, []

    def write_batch(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(*args, **kwargs)

    monkeypatch.setattr(enrich_run, "write_batch", write_batch)
    dump = ROOT / "tests" / "data" / "dbpedia" / "seed-resources.ttl"
    with pytest.raises(Interrupted) as raised:
        enrich(seed_store, source=DumpSource([dump]), selection=Selection(parse_aspects("labels")), batch_size=2)
    assert str(raised.value) == "interrupted: 2 resources fetched and stored"
    labelled = seed_store.select("SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { GRAPH ?g { ?r <http://www.w3.org/2000/01/rdf-schema#label> ?l } }")
    assert [int_value(row[0]) for row in labelled] == [2]


@pytest.mark.parametrize("command", ["validate", "report"])
def test_ctrl_c_in_a_reading_command_is_one_line_and_130(seed_store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    from typer.testing import CliRunner

    from graphbuild.cli import app

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    target = "graphbuild.validation.validate" if command == "validate" else "graphbuild.report.build_report"
    monkeypatch.setattr(target, interrupted)
    location = seed_store.location
    seed_store.close()
    result = CliRunner().invoke(app, [command, "--store", location])
    assert (result.exit_code, result.stderr) == (130, "interrupted; rerun the same command to finish\n")


def _slow(job: int) -> int:
    time.sleep(30)
    return job


def test_pool_processes_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = f"""
import sys, threading, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_lifetimes import _slow
from graphbuild.workers.processes import ordered_map
threading.Timer(1.0, lambda: print("ready", flush=True)).start()
list(ordered_map(_slow, range(4), processes=2))
"""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        wait_until(lambda: len(descendants(parent.pid)) >= 3, 30, "the pool never started")  # two workers and the tracker
        children = descendants(parent.pid)
    finally:
        parent.kill()
        parent.wait()
    wait_until(lambda: not any(_running(pid) for pid in children), GRACE, "pool processes outlived their parent")
