"""Work on a Dask cluster (``dask.distributed``): the same calls ``ordered_map`` makes in
local processes, sent to a running scheduler's workers, or to a ``LocalCluster`` started
for the run.

Dask is optional (``pip install 'graphbuild[cluster]'``) and imported only here, only when
a scheduler is asked for. A worker that dies takes its tasks with it; the scheduler gives
them to another worker, so every call must be safe to run twice (graphbuild's tasks write
their files whole under temporary names, and the same file twice has the same bytes).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from graphbuild.errors import GraphbuildError

__all__ = ["LOCAL", "Cluster", "connect"]

J = TypeVar("J")
R = TypeVar("R")

# The scheduler address that means: start a LocalCluster here, for this run only.
LOCAL = "local"
# How long to wait for a scheduler to answer before saying it cannot be reached.
_CONNECT_SECONDS = 10


class Cluster:
    """A connected Dask client; ``map`` runs calls on its workers."""

    def __init__(self, client: Any, address: str) -> None:
        self.client = client
        self.address = address

    def map(self, call: Callable[[J], R], jobs: Iterable[J], *, keys: Iterable[str]) -> Iterator[R]:
        """``call(job)`` for every job on the workers, yielded as they finish (in any
        order). ``keys`` name the tasks (unique per job and run): a task rerun after a
        worker died keeps its key. An error in a call is raised here; the calls not yet
        finished are cancelled."""
        from distributed import as_completed

        futures = self.client.map(call, list(jobs), key=list(keys), pure=False)
        try:
            for future in as_completed(futures):
                try:
                    result = future.result()
                except GraphbuildError:
                    raise
                except Exception as exc:  # KilledWorker, or a worker that cannot import graphbuild
                    raise GraphbuildError(f"a task failed on the Dask cluster at {self.address}: {type(exc).__name__}: {exc}") from exc
                yield result
        finally:
            self.client.cancel(futures)


@contextmanager
def connect(address: str, *, workers: int) -> Iterator[Cluster]:
    """A client of the scheduler at ``address`` (``tcp://HOST:PORT``), or of a
    ``LocalCluster`` of ``workers`` single-threaded worker processes for ``"local"``.
    Raises GraphbuildError naming the address when no scheduler answers there."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise GraphbuildError(
            f"running on a Dask scheduler ({address}) needs dask.distributed: pip install 'graphbuild[cluster]'"
        ) from None
    if address == LOCAL:
        # Everything bound to the loopback interface, the scheduler's HTTP server (which
        # Dask starts even with no dashboard) on a free port: nothing listens beyond this
        # machine, and two runs at once do not clash.
        # Its logs stay quiet: what goes wrong in a task comes back as the task's error, and
        # the workers' chatter while the cluster stops is no news.
        cluster = LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL,
        )
        try:
            with Client(cluster) as client:
                yield Cluster(client, f"a local Dask cluster of {max(1, workers)} workers")
        finally:
            cluster.close()
        return
    _reachable(address)
    try:
        client = Client(address, timeout=_CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise GraphbuildError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    with client:
        yield Cluster(client, address)


def _reachable(address: str) -> None:
    """Fail at once where nothing listens (Dask's client would retry until its timeout)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or parts.hostname is None or parts.port is None:
        return  # other transports (ucx, inproc…): Dask's client says what is wrong
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=_CONNECT_SECONDS).close()
    except OSError as exc:
        raise GraphbuildError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}") from exc
