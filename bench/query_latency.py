"""Median latency (ms) of every canned query on a store, with parameters for a mid-rank entity.

    python bench/query_latency.py STORE_DIR
    python bench/query_latency.py STORE_DIR --one NAME [NAME=VALUE ...]   (one query, median ms)

Per-entity queries run for the most frequent entity (`top`) and one at rank 100 (`rank100`).
Each query runs in a process of its own with a time limit, since a query cannot be
interrupted from inside: one that takes longer is reported as the limit, negated.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from graphbuild.queries import list_queries, load_query, run
from graphbuild.store import GraphStore, Solutions

_REPEAT = 3
_LIMIT_S = 60


def main() -> None:
    if sys.argv[2:3] == ["--one"]:
        with GraphStore.open(Path(sys.argv[1]), read_only=True) as store:
            values = dict(arg.split("=", 1) for arg in sys.argv[4:])
            print(_median_ms(store, load_query(sys.argv[3]), values))
        return
    with GraphStore.open(Path(sys.argv[1]), read_only=True) as store:
        entities = _ranked_entities(store)
        some_document = _some_document(store)
    figures: dict[str, float] = {}
    for canned in list_queries():
        required = [p for p in canned.parameters if p.required]
        kinds = {p.kind for p in required}
        if kinds and kinds <= {"entity", "iri"}:
            for label, entity in (("top", entities[0]), ("rank100", entities[min(99, len(entities) - 1)])):
                figures[f"{canned.name} [{label}]"] = _timed(sys.argv[1], canned.name, {p.name: entity for p in required})
        elif kinds == {"document"}:
            figures[canned.name] = _timed(sys.argv[1], canned.name, {p.name: some_document for p in required})
        elif not kinds:
            figures[canned.name] = _timed(sys.argv[1], canned.name, {})
    print(json.dumps(figures))


def _timed(store: str, name: str, values: dict[str, str]) -> float:
    command = [sys.executable, __file__, store, "--one", name, *(f"{k}={v}" for k, v in values.items())]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_LIMIT_S, check=True)
    except subprocess.TimeoutExpired:
        return -float(_LIMIT_S * 1000)
    return float(done.stdout)


def _median_ms(store: GraphStore, canned, values: dict[str, str]) -> float:
    times = []
    for _ in range(_REPEAT):
        start = time.perf_counter()
        result = run(canned, values, store=store)
        if isinstance(result, Solutions):
            for _row in result.rows:
                pass
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def _ranked_entities(store: GraphStore) -> list[str]:
    result = store.query(
        "SELECT ?e (COUNT(*) AS ?n) WHERE { ?m <http://www.w3.org/2005/11/its/rdf#taIdentRef> ?e } GROUP BY ?e ORDER BY DESC(?n) LIMIT 200"
    )
    assert isinstance(result, Solutions)
    return [row[0].value for row in result.rows]


def _some_document(store: GraphStore) -> str:
    result = store.query("SELECT ?id WHERE { ?d a <http://schema.org/ScholarlyArticle> ; <http://purl.org/dc/terms/identifier> ?id } LIMIT 1")
    assert isinstance(result, Solutions)
    return next(result.rows)[0].value


if __name__ == "__main__":
    main()
