"""graphbuild's one way of working in other processes: spawned, results in order, bounded.

Two shapes of work share the mechanism. ``ordered_map`` runs one call per job (a batch of
graphs to validate, a page of the report) in a pool and yields the results in the jobs'
order, a few jobs ahead. ``in_order`` streams many small items (prepared documents) from
runs of sources, through files rather than pipes:

Process k of n takes runs k, k+n, k+2n, …; this process reads the processes in turn, run
by run, so what it yields is in the order a single process would give. The processes
start first and get their runs once this one has listed them, so that their start-up
(importing graphbuild) overlaps the listing. Results travel in messages of a few hundred
items through files in a private temporary folder (a pipe costs the reader three copies
and a Python loop per 64 KiB; a file is read in one call), announced on one bounded
queue per process, which keeps memory flat.

Nothing outlives this process, however it ends. Each other process watches it: on Linux
the kernel sends it a signal the moment this one dies (``PR_SET_PDEATHSIG``), and
everywhere a thread polls for a new parent; either way it removes the temporary folder and
ends within a second. Ctrl-C is this process's to handle: the others ignore SIGINT, so an
interrupt never turns into their tracebacks. The temporary folder's name carries this
process's id, so that a run finds and removes what a dead one left (``sweep_folders``).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from queue import Empty
from typing import Any, TypeVar

from graphbuild.errors import GraphbuildError
from graphbuild.workers.interrupts import deferred
from graphbuild.workers.transfer import dumps, loads

S = TypeVar("S")
T = TypeVar("T")
J = TypeVar("J")
R = TypeVar("R")
Work = Callable[[list[S]], Iterable[T]]

# Below this size a message travels on the queue itself rather than through a file.
_INLINE_BYTES = 1 << 16
# Temporary folders are named FOLDER_PREFIX + the owner's pid + "-" + a random part.
FOLDER_PREFIX = "graphbuild-"
# How often another process checks that this one is still there, in seconds.
_WATCH_INTERVAL = 0.5
# The signal the kernel sends another process when this one dies (Linux): not SIGTERM,
# which stays what ``terminate`` sends, nor SIGKILL, which would leave the folder behind.
_DEATH_SIGNAL = getattr(signal, "SIGUSR2", None)
_PR_SET_PDEATHSIG = 1


def spawn_context() -> multiprocessing.context.SpawnContext:
    """Spawned, never forked: a forked child would share the parent's open store (and its
    threads' locks), and it would import nothing it does not need."""
    return multiprocessing.get_context("spawn")


def ordered_map(
    call: Callable[[J], R],
    jobs: Iterable[J],
    *,
    processes: int,
    ahead: int = 2,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[R]:
    """``call(job)`` for every job, in ``processes`` other processes, yielded in the order
    of ``jobs``; at most ``ahead`` jobs per process are submitted before their results are
    taken, so memory stays flat. ``call`` and ``initializer`` (run once in each process)
    must be picklable (module-level functions). An error in a call is raised here; jobs
    not yet begun are then dropped.
    """
    pending: deque[Future[R]] = deque()
    # An executor, not a Pool: a process that cannot start breaks it with an error instead
    # of being restarted for ever.
    pool = ProcessPoolExecutor(
        max(1, processes),
        mp_context=spawn_context(),
        initializer=_start_pooled,
        initargs=(os.getpid(), initializer, initargs),
    )
    try:
        for job in jobs:
            # The first submit starts the processes and the pool's thread.
            with _sigint_ignored() if not pending else nullcontext(), deferred():
                pending.append(pool.submit(call, job))
            while len(pending) >= max(1, processes) * ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        with deferred():
            pool.shutdown(cancel_futures=True)


def in_order(
    work: Work[S, T],
    runs: Callable[[], Sequence[list[S]]],
    *,
    processes: int,
    chunk: int,
    queued: int,
    name: str,
    hint: str = "rerun",
) -> Iterator[T]:
    """``work(run)`` for every run that ``runs()`` lists, in ``processes`` other
    processes, yielded in the order of the runs.

    ``work`` must be picklable and live in an importable module (a module-level function
    or a ``functools.partial`` of one). ``chunk`` items make one message, at most
    ``queued`` messages per process are waiting. A failure in a process is raised here
    as a GraphbuildError that names ``name`` (what the processes do) and ``hint``.
    """
    processes = max(1, processes)
    context = spawn_context()
    sweep_folders()
    folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
    try:
        tasks = [context.SimpleQueue() for _ in range(processes)]
        queues = [context.Queue(maxsize=queued) for _ in range(processes)]
        workers = [
            context.Process(target=_produce, args=(work, task, folder, queue, chunk, os.getpid()), daemon=True)
            for task, queue in zip(tasks, queues)
        ]
        try:
            with _main_not_rerun(work), _sigint_ignored():
                for worker in workers:
                    worker.start()
            listed = runs()
            for n, task in enumerate(tasks):
                # A file, and only its name on the pipe: a large list could fill the pipe
                # and block this process for good if the other one died on its way up.
                task.put(_payload(list(listed[n::processes]), folder, inline=0))
            # The processes have the runs: what they list (and ``runs`` itself, which may
            # hold the sources) need not stay in memory while they work.
            count = len(listed)
            del listed, runs
            for index in range(count):
                queue, worker = queues[index % processes], workers[index % processes]
                while True:
                    last, items = _next_message(queue, worker, name=name, hint=hint)
                    yield from items
                    if last:
                        break
        finally:
            for worker in workers:
                if worker.pid is not None:
                    worker.terminate()
            for worker in workers:
                if worker.pid is not None:
                    worker.join()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_folders(parent: str | None = None) -> list[str]:
    """Remove the temporary folders of runs whose process is gone (killed before it could
    clean up); returns what it removed. Folders of live processes are left alone."""
    removed = []
    root = Path(parent or tempfile.gettempdir())
    for folder in root.glob(f"{FOLDER_PREFIX}*"):
        owner = folder.name[len(FOLDER_PREFIX) :].split("-", 1)[0]
        if folder.is_dir() and owner.isdigit() and not alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def die_with_parent(parent: int, *, folder: str | None = None) -> None:
    """In another process: end as soon as ``parent`` is gone, removing ``folder`` first.

    The kernel's death signal (Linux) answers at once; a polling thread answers anywhere,
    within ``_WATCH_INTERVAL``. SIGINT is ignored: the parent decides what Ctrl-C stops.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def orphaned() -> None:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        os._exit(1)

    if _DEATH_SIGNAL is not None and sys.platform.startswith("linux"):
        # The kernel sends it when the *thread* that started this process ends: only a
        # parent that is really gone counts.
        signal.signal(_DEATH_SIGNAL, lambda *_: orphaned() if os.getppid() != parent else None)
        parent_death_signal(_DEATH_SIGNAL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_INTERVAL)
        orphaned()

    if os.getppid() != parent:  # gone before the watch began
        orphaned()
    threading.Thread(target=watch, name="graphbuild-watch-parent", daemon=True).start()


def parent_death_signal(signum: int) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent dies (Linux
    only; returns whether it could). Also usable as a ``preexec_fn``."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _start_pooled(parent: int, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def runs_of_files(sources: Sequence[Path | str], processes: int, *, files: int, size: int) -> list[list[Path | str]]:
    """``sources`` cut into consecutive runs of at most ``files`` files or about ``size``
    bytes, enough to keep ``processes`` busy; a single run for a single process."""
    if processes <= 1:
        return [list(sources)]
    runs: list[list[Path | str]] = [[]]
    total = 0
    for source in sources:
        if len(runs[-1]) >= files or total >= size:
            runs.append([])
            total = 0
        runs[-1].append(source)
        try:
            total += os.stat(source).st_size
        except OSError:
            pass  # the reader reports it, in its place
    return runs


def _next_message(
    queue: multiprocessing.Queue, worker: multiprocessing.process.BaseProcess, *, name: str, hint: str
) -> tuple[bool, list[Any]]:
    # A worker killed from outside (or one that could not start) never answers: poll.
    while True:
        try:
            message = queue.get(timeout=1.0)
            break
        except Empty:
            if not worker.is_alive():
                raise GraphbuildError(f"the process {name} stopped (exit code {worker.exitcode}); {hint}") from None
    if isinstance(message, str):
        raise GraphbuildError(f"{name} failed:\n{message}")
    last, payload = message
    return last, _unpacked(payload)


def _produce(work: Work[S, T], tasks: Any, folder: str, queue: multiprocessing.Queue, chunk: int, parent: int) -> None:
    """In a worker: the runs it gets from ``tasks``, each run's items in messages of
    ``chunk``; a message is (last of its run?, the items packed or the file that holds
    them), or a traceback."""
    die_with_parent(parent, folder=folder)
    items: list[T] = []
    try:
        for run in _unpacked(tasks.get()):
            for item in work(run):
                items.append(item)
                if len(items) >= chunk:
                    queue.put((False, _payload(items, folder)))
                    items = []
            queue.put((True, _payload(items, folder)))
            items = []
    except BaseException:  # the parent must hear of it, or it would wait forever
        failure = traceback.format_exc()
        try:
            if items:  # what came before the failure still counts
                queue.put((False, _payload(items, folder)))
        finally:
            queue.put(failure)


def _payload(items: list[Any], folder: str, *, inline: int = _INLINE_BYTES) -> bytes | str:
    """``items`` packed, or the name of a file in ``folder`` that holds them if large."""
    data = dumps(items)
    if len(data) < inline:
        return data
    handle, path = tempfile.mkstemp(dir=folder, suffix=".pickle")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    return path


def _unpacked(payload: bytes | str) -> list[Any]:
    if isinstance(payload, str):
        data = Path(payload).read_bytes()
        os.unlink(payload)
        payload = data
    items: list[Any] = loads(payload)
    return items


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Start processes with SIGINT ignored from their first instruction (a disposition a
    child inherits), so that a Ctrl-C while they import cannot print their tracebacks."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _main_not_rerun(work: Callable[..., Any]) -> Iterator[None]:
    """Start processes without running the parent's main script again in them.

    A spawned process imports the parent's ``__main__`` first, which for the command line
    is all of graphbuild.cli with typer and rich: ~0.4 s of CPU per process, for nothing
    when the work lives in a module of its own.
    """
    main = sys.modules.get("__main__")
    target = work.func if isinstance(work, partial) else work
    if main is None or getattr(target, "__module__", "__main__") == "__main__":
        yield
        return
    saved: dict[str, Any] = {key: main.__dict__[key] for key in ("__file__", "__spec__") if key in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)
