"""Median latency (ms) of every canned query on a store, with parameters for a mid-rank entity.

    python bench/query_latency.py STORE_DIR
    python bench/query_latency.py STORE_DIR --one NAME [NAME=VALUE ...]   (one query, median ms)

Per-entity queries run for the most frequent entity (`top`) and one at rank 100 (`rank100`);
a parameter named `type` gets a class instead: the one most entities are typed with (`top`)
and the tenth (`rank10`), from the store's enrichment. Each query runs in a process of its
own with a time limit, since a query cannot be interrupted from inside: one that takes
longer is reported as the limit, negated. Prints {"latencies": {figure: ms}, "parameters":
{figure: {name: value}}}.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from graphbuild.model.vocab import ENRICHMENT_OF, METADATA_GRAPH
from graphbuild.query.canned import CannedQuery, list_queries, load_query, run
from graphbuild.store.embedded import EmbeddedStore

_REPEAT = 3
_LIMIT_S = 60
_ENTITY_RANKS = (("top", 0), ("rank100", 99))
_CLASS_RANKS = (("top", 0), ("rank10", 9))

Planned = tuple[str, str, dict[str, str]]


def main() -> None:
    if sys.argv[2:3] == ["--one"]:
        with EmbeddedStore.open(Path(sys.argv[1]), read_only=True) as store:
            values = dict(arg.split("=", 1) for arg in sys.argv[4:])
            print(_median_ms(store, load_query(sys.argv[3]), values))
        return
    with EmbeddedStore.open(Path(sys.argv[1]), read_only=True) as store:
        planned = plan(store)
    latencies = {figure: _timed(sys.argv[1], name, values) for figure, name, values in planned}
    parameters = {figure: values for figure, _, values in planned if values}
    print(json.dumps({"latencies": latencies, "parameters": parameters}))


def plan(store: EmbeddedStore) -> list[Planned]:
    """(figure name, query name, parameter values) for every canned query we can bind."""
    entities = _ranked_entities(store)
    classes = _ranked_classes(store)
    document = _some_document(store)
    planned: list[Planned] = []
    for canned in list_queries():
        required = [p for p in canned.parameters if p.required]
        if any(p.kind not in ("entity", "iri", "document") for p in required):
            continue
        typed = [p.name for p in required if p.name == "type"]
        ranked = [p.name for p in required if p.kind in ("entity", "iri") and p.name != "type"]
        fixed = {p.name: document for p in required if p.kind == "document"}
        if typed and not classes:
            print(f"{canned.name}: no typed entity in the store (not enriched?): not measured", file=sys.stderr)
            continue
        if not typed and not ranked:
            planned.append((canned.name, canned.name, fixed))
            continue
        for (class_label, class_rank), (entity_label, entity_rank) in zip(_CLASS_RANKS, _ENTITY_RANKS):
            values = dict(fixed)
            values.update({name: classes[min(class_rank, len(classes) - 1)] for name in typed})
            values.update({name: entities[min(entity_rank, len(entities) - 1)] for name in ranked})
            labels = dict.fromkeys(([class_label] if typed else []) + ([entity_label] if ranked else []))
            planned.append((f"{canned.name} [{','.join(labels)}]", canned.name, values))
    return planned


def _timed(store: str, name: str, values: dict[str, str]) -> float:
    command = [sys.executable, __file__, store, "--one", name, *(f"{k}={v}" for k, v in values.items())]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_LIMIT_S, check=True)
    except subprocess.TimeoutExpired:
        return -float(_LIMIT_S * 1000)
    return float(done.stdout)


def _median_ms(store: EmbeddedStore, canned: CannedQuery, values: dict[str, str]) -> float:
    times = []
    for _ in range(_REPEAT):
        start = time.perf_counter()
        result = run(canned, values, store=store)
        for _row in result:
            pass
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def _ranked_entities(store: EmbeddedStore) -> list[str]:
    result = store.select(
        "SELECT ?e (COUNT(*) AS ?n) WHERE { ?m <http://www.w3.org/2005/11/its/rdf#taIdentRef> ?e } GROUP BY ?e ORDER BY DESC(?n) LIMIT 200"
    )
    return [row[0].value for row in result.rows]


def _ranked_classes(store: EmbeddedStore) -> list[str]:
    """Classes by how many enriched resources their enrichment types with them, most first."""
    # The type triples of a resource's own enrichment graph: documents and the store's own
    # records are typed too, but in other graphs.
    result = store.select(
        f"""SELECT ?c (COUNT(DISTINCT ?e) AS ?n) WHERE {{
          GRAPH <{METADATA_GRAPH.value}> {{ ?g {ENRICHMENT_OF} ?e }}
          GRAPH ?g {{ ?e a ?c }}
        }} GROUP BY ?c ORDER BY DESC(?n) ?c"""
    )
    return [row[0].value for row in result.rows]


def _some_document(store: EmbeddedStore) -> str:
    result = store.select("SELECT ?id WHERE { ?d a <http://schema.org/ScholarlyArticle> ; <http://purl.org/dc/terms/identifier> ?id } LIMIT 1")
    return next(result.rows)[0].value


if __name__ == "__main__":
    main()
