"""Commands that read the graph: query, queries, sparql, stats, export."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from graphbuild.cli.app import DEFAULT_STORE_TEXT, StoreOption, app, choice, errors_to_exit, open_cli_store, read_text
from graphbuild.cli.progress import ProgressBars
from graphbuild.errors import GraphbuildError
from graphbuild.model.vocab import PREFIXES
from graphbuild.output.rdf import ExportFormat, export_parts, write_triples
from graphbuild.output.rdf import export as export_store
from graphbuild.query.canned import list_queries, load_query, run
from graphbuild.query.results import ResultFormat, Written, write_boolean, write_rows
from graphbuild.store import stats as store_stats
from graphbuild.store.protocol import query_form
from graphbuild.text import plural

# The table's page when no --limit is given; the other formats write every row.
TABLE_PAGE = 100
LimitOption = Annotated[
    Optional[int],
    typer.Option(
        "--limit",
        min=0,
        help=f"Rows per page: default {TABLE_PAGE} for the table, every row for the other formats; 0 for every row.",
        show_default=False,
    ),
]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="Skip this many rows first (the next page: --offset 100).")]


@app.command()
@errors_to_exit
def query(
    name: Annotated[str, typer.Argument(help="Name of a canned query (see `graphbuild queries`).")],
    param: Annotated[
        Optional[list[str]], typer.Option("--param", "-p", help="A parameter as NAME=VALUE; repeat for more.")
    ] = None,
    store: StoreOption = DEFAULT_STORE_TEXT,
    format: Annotated[ResultFormat, typer.Option("--format", help="Output format.")] = ResultFormat.TABLE,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
) -> None:
    """Run a canned query from queries/ with its parameters bound as RDF terms.

    The table shows a page of 100 rows (--offset 100 for the next); the other formats write the whole result as it comes unless given --limit. `graphbuild queries` says in which order each query's rows come.
    """
    canned = load_query(name)
    values = _parse_params(param or [])
    page = _page_size(limit, format)
    with open_cli_store(store, read_only=True) as graph_store:
        # One row more than the page, to tell whether another page follows.
        rows = run(canned, values, store=graph_store, limit=None if page is None else page + 1, offset=offset)
        written = write_rows(rows, format, sys.stdout, limit=page)
    _next_page_hint(written, page, offset)


@app.command("queries")
@errors_to_exit
def queries() -> None:
    """List the canned queries with their summaries and parameters."""
    for canned in list_queries():
        typer.echo(f"{canned.name}\n    {canned.summary}")
        for p in canned.parameters:
            default = "required" if p.required else f"default {p.default}"
            typer.echo(f"    --param {p.name}=… ({p.kind}, {default}): {p.doc}")


@app.command()
@errors_to_exit
def sparql(
    query_text: Annotated[Optional[str], typer.Argument(metavar="QUERY", help="SPARQL query text.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Read the query from this file.")] = None,
    store: StoreOption = DEFAULT_STORE_TEXT,
    format: Annotated[
        Optional[str],
        typer.Option(
            "--format",
            help="SELECT/ASK: table, csv, tsv, json, ndjson (default table). "
            "CONSTRUCT/DESCRIBE: turtle, ntriples, jsonld (default turtle).",
        ),
    ] = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
) -> None:
    """Run ad-hoc SPARQL over the union of all graphs (no GRAPH ?g needed); the model's prefixes are predeclared.

    SELECT results page as `query`'s do (100 rows in a table); the rows before --offset are read and skipped, so a query's own LIMIT and OFFSET are the faster way to page far.
    """
    if file is not None and query_text is None:
        text = read_text(file)
    elif query_text is not None and file is None:
        text = query_text
    else:
        raise GraphbuildError("give the query as an argument or with --file, not both")
    form = query_form(text)
    with open_cli_store(store, read_only=True) as graph_store:
        if form == "SELECT":
            fmt = choice(ResultFormat, format or "table")
            page = _page_size(limit, fmt)
            rows = graph_store.select(text, prefixes=PREFIXES).page(limit=None if page is None else page + 1, offset=offset)
            written = write_rows(rows, fmt, sys.stdout, limit=page)
        elif form == "ASK":
            answer = graph_store.ask(text, prefixes=PREFIXES)
            write_boolean(answer, choice(ResultFormat, format or "table"), sys.stdout)
        else:
            triples = graph_store.construct(text, prefixes=PREFIXES)
            write_triples(triples, sys.stdout.buffer, format=choice(ExportFormat, format or "turtle"))
            sys.stdout.buffer.flush()
    if form == "SELECT":
        _next_page_hint(written, page, offset)


class StatsFormat(str, Enum):
    TABLE = "table"
    JSON = "json"


@app.command()
@errors_to_exit
def stats(
    store: StoreOption = DEFAULT_STORE_TEXT,
    format: Annotated[StatsFormat, typer.Option("--format", help="table or json.")] = StatsFormat.TABLE,
) -> None:
    """Count documents, mentions, distinct resources, quads and graphs."""
    with open_cli_store(store, read_only=True) as graph_store:
        counts = store_stats(graph_store)
    fields = {
        "documents": counts.documents,
        "mentions": counts.mentions,
        "unplaced": counts.unplaced,
        "resources": counts.resources,
        "quads": counts.quads,
        "graphs": counts.graphs,
    }
    if format is StatsFormat.JSON:
        typer.echo(json.dumps(fields))
        return
    table = Table("what", "count")
    for key, value in fields.items():
        table.add_row(key, f"{value:,}")
    Console(highlight=False).print(table)


@app.command()
@errors_to_exit
def export(
    store: StoreOption = DEFAULT_STORE_TEXT,
    format: Annotated[
        Optional[ExportFormat],
        typer.Option("--format", help="RDF format; guessed from --output's extension, else turtle."),
    ] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    document: Annotated[Optional[str], typer.Option("--document", help="Export only this document (by id).")] = None,
    split: Annotated[
        Optional[int],
        typer.Option("--split", min=1, help="N-Quads files of about N quads each in the folder --output (for bulk loaders)."),
    ] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Gzip the --split files (or write one .nq.gz file per part).")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="With --split: remove the part files of another run from --output first (else refused).")
    ] = False,
    as_stored: Annotated[
        bool,
        typer.Option(
            "--as-stored",
            help="Write documents as the store holds them (lean) instead of the full NIF form that NIF tools read.",
        ),
    ] = False,
) -> None:
    """Write the store (or one document) as Turtle, N-Triples, N-Quads, TriG or JSON-LD.

    Documents come out in the full NIF 2.1 / ITS 2.0 form (each phrase with its types,
    annotator and offsetsInferred), though the store holds them leaner (docs/model.md)."""
    fmt = format or (ExportFormat.guess(output) if output else None) or ExportFormat.TURTLE
    if split is not None or gzip:
        if output is None or document is not None or fmt is not ExportFormat.NQUADS:
            raise GraphbuildError(
                "--split and --gzip write N-Quads files for the whole store into the folder --output: "
                "use them with --format nquads --output DIR and without --document"
            )
        with open_cli_store(store, read_only=True) as graph_store, ProgressBars("export") as progress:
            manifest = export_parts(
                graph_store, output, split=split, gzip=gzip, overwrite=overwrite, as_stored=as_stored, progress=progress
            )
        typer.echo(f"wrote {plural(len(manifest.parts), 'file')} to {output}: {plural(manifest.quads, 'quad')}", err=True)
        return
    with open_cli_store(store, read_only=True) as graph_store:
        if output is None:
            export_store(graph_store, sys.stdout.buffer, format=fmt, document=document, as_stored=as_stored)
            sys.stdout.buffer.flush()
        else:
            with ProgressBars("export") as progress:
                export_store(graph_store, output, format=fmt, document=document, as_stored=as_stored, progress=progress)
            typer.echo(f"wrote {output} ({fmt.value})", err=True)


def _page_size(limit: int | None, fmt: ResultFormat) -> int | None:
    """The rows to write: --limit (0 for all), else a page for the table and all for the rest."""
    if limit is None:
        return TABLE_PAGE if fmt is ResultFormat.TABLE else None
    return limit or None


def _next_page_hint(written: Written, page: int | None, offset: int) -> None:
    if written.more and page is not None:
        typer.echo(f"more rows follow: --offset {offset + page} for the next page, --limit 0 for all of them", err=True)


def _parse_params(raw: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise GraphbuildError(f"--param {item!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values
