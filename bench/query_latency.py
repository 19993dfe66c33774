"""Latency of every canned query on a store: its first page, and its whole result streamed.

    python bench/query_latency.py STORE_DIR [--queries DIR] [--page 100] [--no-whole] [--whole-limit 600] [--before DIR]
    python bench/query_latency.py STORE_DIR --one NAME [NAME=VALUE ...] [--queries DIR] [--page N] [--whole]

Per-entity queries run for the most frequent entity (`top`) and one at rank 100 (`rank100`);
a parameter named `type` gets a class instead: the one most entities are typed with (`top`)
and the tenth (`rank10`), from the store's enrichment.

For each: the median of three runs of its first page (`--page` rows, as `graphbuild query`
shows in a table), and one run of its whole result written as CSV to /dev/null (as
`graphbuild query --format csv` does), with its rows, rows/s and the process's peak RSS.
`--page 0` times whole results only, as the queries of `--queries DIR` (another version's
queries/ folder, say) that do not page. `--before DIR` times, just before each page, the
whole result of the query of the same name in DIR (an earlier version's queries/, whose
queries gave only whole results), so that both face the same load on a shared machine.
Each measurement runs in a process of its own with a time limit, since a query cannot be
interrupted from inside: one that takes longer is reported as the limit, negated. Prints
{"latencies": {figure: ms}, "cpu": {figure: ms}, "before": {figure: ms}, "before cpu":
{figure: ms}, "whole": {figure: {ms, rows, rows/s, peak RSS MiB}}, "parameters": {figure:
{name: value}}}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from graphbuild.model.vocab import ENRICHMENT_OF, METADATA_GRAPH
from graphbuild.query.canned import CannedQuery, list_queries, load_query, run
from graphbuild.query.results import ResultFormat, write_rows
from graphbuild.store.embedded import EmbeddedStore

_REPEAT = 3
_PAGE_LIMIT_S = 60
_WHOLE_LIMIT_S = 600
_ENTITY_RANKS = (("top", 0), ("rank100", 99))
_CLASS_RANKS = (("top", 0), ("rank10", 9))

Planned = tuple[str, str, dict[str, str]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path)
    parser.add_argument("--queries", type=Path, help="a queries/ folder other than this version's")
    parser.add_argument("--page", type=int, default=100, help="rows of the first page (0: whole results only)")
    parser.add_argument("--no-whole", action="store_true", help="first pages only")
    parser.add_argument("--before", type=Path, help="also time the whole results of the queries in this folder")
    parser.add_argument("--one", nargs="+", metavar=("NAME", "NAME=VALUE"), help="measure one query, in this process")
    parser.add_argument("--whole", action="store_true", help="with --one: its whole result rather than its first page")
    parser.add_argument("--whole-limit", type=float, default=_WHOLE_LIMIT_S, help="seconds a whole result may take")
    args = parser.parse_args()
    if args.one:
        name, *pairs = args.one
        values = dict(pair.split("=", 1) for pair in pairs)
        with EmbeddedStore.open(args.store, read_only=True) as store:
            canned = load_query(name, args.queries)
            figures = _whole(store, canned, values) if args.whole else _page_ms(store, canned, values, args.page or None)
        print(json.dumps(figures))
        return
    with EmbeddedStore.open(args.store, read_only=True) as store:
        planned = plan(store, args.queries)
    figures: dict[str, dict] = {"latencies": {}, "cpu": {}, "before": {}, "before cpu": {}, "whole": {}}
    before = {canned.name for canned in list_queries(args.before)} if args.before else set()
    for figure, name, values in planned:
        if name in before:
            earlier = _measured(args.store, name, values, queries=args.before, page=0)
            figures["before"][figure], figures["before cpu"][figure] = earlier.get("ms", earlier.get("stopped")), earlier.get("cpu ms")
        # With --page 0, the "page" is the whole result, read (not written), median of three.
        page = _measured(args.store, name, values, queries=args.queries, page=args.page)
        figures["latencies"][figure], figures["cpu"][figure] = page.get("ms", page.get("stopped")), page.get("cpu ms")
        if not args.no_whole:
            figures["whole"][figure] = _measured(
                args.store, name, values, queries=args.queries, page=args.page, whole=True, whole_limit=args.whole_limit
            )
    figures["parameters"] = {figure: values for figure, _, values in planned if values}
    print(json.dumps(figures))


def plan(store: EmbeddedStore, folder: Path | None = None) -> list[Planned]:
    """(figure name, query name, parameter values) for every canned query we can bind."""
    entities = _ranked_entities(store)
    classes = _ranked_classes(store)
    document = _some_document(store)
    planned: list[Planned] = []
    for canned in list_queries(folder):
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


def _measured(
    store: Path, name: str, values: dict[str, str], *, queries: Path | None, page: int, whole: bool = False,
    whole_limit: float = _WHOLE_LIMIT_S,
) -> dict:
    command = [sys.executable, __file__, str(store), "--page", str(page), "--one", name]
    command += [f"{k}={v}" for k, v in values.items()]
    if queries is not None:
        command += ["--queries", str(queries)]
    if whole:
        command.append("--whole")
    limit = whole_limit if whole else _PAGE_LIMIT_S
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=True)
    except subprocess.TimeoutExpired:
        return {"stopped": -float(limit * 1000)}
    return dict(json.loads(done.stdout))


def _page_ms(store: EmbeddedStore, canned: CannedQuery, values: dict[str, str], page: int | None) -> dict:
    """Median wall and CPU ms of reading the first page (the whole result if ``page`` is None)."""
    wall, cpu = [], []
    for _ in range(_REPEAT):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _row in run(canned, values, store=store, limit=page):
            pass
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"ms": round(statistics.median(wall), 1), "cpu ms": round(statistics.median(cpu), 1)}


def _whole(store: EmbeddedStore, canned: CannedQuery, values: dict[str, str]) -> dict:
    """The whole result written as CSV to /dev/null: rows, seconds, rows/s, peak RSS."""
    with open(os.devnull, "w", encoding="utf-8") as sink:
        start = time.perf_counter()
        written = write_rows(run(canned, values, store=store), ResultFormat.CSV, sink)
        seconds = time.perf_counter() - start
    return {
        "ms": round(seconds * 1000, 1),
        "rows": written.rows,
        "rows/s": round(written.rows / seconds) if seconds else 0,
        "peak RSS MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


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
