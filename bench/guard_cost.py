"""What the guard in front of ``oxigraph serve`` costs: latency of a small query and time
to stream a large result, straight from Oxigraph and through the guard.

    python bench/guard_cost.py STORE_DIR [--repeat 200]

Starts ``oxigraph serve-read-only`` on STORE_DIR (a graphbuild store) on a free port, and
``graphbuild.store.guard.Guard`` in this process in front of it on another; then, for
each, the median of ``--repeat`` small queries (one ASK) over fresh connections, and the
median of 5 reads of every quad as TSV (a SELECT). Prints JSON: milliseconds and bytes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from graphbuild.store.guard import Guard, Policy
from graphbuild.store.server import hidden_address, server_command

_LARGE = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


def _post(url: str, query: str, accept: str) -> int:
    data = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(url + "/query", data=data, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=120) as response:
        return len(response.read())


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store", type=Path)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    upstream = hidden_address()
    command = server_command(args.store, bind=f"{upstream[0]}:{upstream[1]}", read_only=True)
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    guard = Guard(("127.0.0.1", 0), upstream, Policy(writable=False, host="127.0.0.1", port=0))
    guard.policy.port = guard.server_address[1]
    guard.serve_in_background()
    direct, guarded = f"http://{upstream[0]}:{upstream[1]}", f"http://127.0.0.1:{guard.server_address[1]}"
    try:
        for _ in range(100):
            try:
                _post(direct, "ASK {}", "application/sparql-results+json")
                break
            except OSError:
                time.sleep(0.1)
        size = _post(direct, _LARGE, "text/tab-separated-values")
        assert _post(guarded, _LARGE, "text/tab-separated-values") == size
        figures: dict[str, float] = {"large_result_bytes": size}
        for name, url in (("direct", direct), ("guarded", guarded)):
            figures[f"{name}_ask_ms"] = _median_ms(lambda url=url: _post(url, "ASK { ?s ?p ?o }", "application/sparql-results+json"), args.repeat)
            figures[f"{name}_large_ms"] = _median_ms(lambda url=url: _post(url, _LARGE, "text/tab-separated-values"), 5)
        print(json.dumps(figures))
    finally:
        guard.shutdown()
        guard.server_close()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
