"""Commands that build the graph: ingest, convert, delete, optimize, enrich."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from graphbuild.cli.app import (
    DEFAULT_STORE_TEXT,
    QuietOption,
    StoreOption,
    app,
    errors_to_exit,
    open_cli_store,
    print_problems,
)
from graphbuild.cli.progress import ProgressBars
from graphbuild.errors import GraphbuildError, StoreError
from graphbuild.model.vocab import DEFAULT_BASE
from graphbuild.pipeline.convert import convert as convert_documents
from graphbuild.pipeline.delete import delete as delete_documents
from graphbuild.pipeline.ingest import ingest as ingest_documents
from graphbuild.readers import InputFormat
from graphbuild.store.remote import NOT_OPTIMIZED, is_url
from graphbuild.text import plural

FormatOption = Annotated[
    Optional[InputFormat], typer.Option("--format", help="Input format; guessed from the extension when omitted.")
]
BaseOption = Annotated[str, typer.Option("--base", help="Base IRI under which document IRIs are minted.")]
# New documents from which ingest suggests `graphbuild optimize`: a store fresh from a
# 100k-document load answered per-entity queries up to 3x slower than once compacted.
OPTIMIZE_TIP_FROM = 10_000


@app.command()
@errors_to_exit
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (walked recursively) or - for standard input.")],
    store: StoreOption = DEFAULT_STORE_TEXT,
    format: FormatOption = None,
    base: BaseOption = DEFAULT_BASE,
    quiet: QuietOption = False,
    min_confidence: Annotated[
        Optional[float],
        typer.Option(
            "--min-confidence", min=0.0, max=1.0, help="Keep only links at or above this confidence (links with none stay)."
        ),
    ] = None,
) -> None:
    """Load documents into the store: one named graph each, replaced when changed."""
    with open_cli_store(store) as graph_store, ProgressBars("ingest", quiet=quiet) as progress:
        report = ingest_documents(
            paths, store=graph_store, format=format, base=base, min_confidence=min_confidence, progress=progress
        )
    print_problems(report, quiet)
    typer.echo(report.summary())
    if report.loaded >= OPTIMIZE_TIP_FROM and not quiet and not is_url(store):
        typer.echo(
            f"tip: after a load this large, `graphbuild optimize --store {store}` compacts the store "
            "(per-entity queries up to 3x faster on 100k documents)",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@errors_to_exit
def convert(
    paths: Annotated[list[str], typer.Argument(help="Files or folders (walked recursively), as for ingest.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the N-Quads files.")],
    format: FormatOption = None,
    split: Annotated[Optional[int], typer.Option("--split", min=1, help="Start a new file after about N quads.")] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Gzip the files.")] = False,
    base: BaseOption = DEFAULT_BASE,
    quiet: QuietOption = False,
) -> None:
    """Write documents straight to N-Quads files, with no store (for other stores' bulk loaders)."""
    with ProgressBars("convert", quiet=quiet) as progress:
        report = convert_documents(paths, output=output, format=format, base=base, split=split, gzip=gzip, progress=progress)
    print_problems(report, quiet)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@errors_to_exit
def delete(
    ids: Annotated[list[str], typer.Argument(help="Document ids (as in dcterms:identifier, e.g. the file stem).")],
    store: StoreOption = DEFAULT_STORE_TEXT,
) -> None:
    """Remove documents: their graphs and their metadata, in one transaction."""
    with open_cli_store(store) as graph_store:
        deleted, missing = delete_documents(ids, store=graph_store)
    for doc_id in missing:
        typer.echo(f"{doc_id}: no such document in the store", err=True)
    typer.echo(f"{plural(len(deleted), 'document')} deleted")
    if missing:
        raise typer.Exit(1)


@app.command()
@errors_to_exit
def optimize(store: StoreOption = DEFAULT_STORE_TEXT) -> None:
    """Compact an embedded store after large loads: smaller on disk, faster per-entity queries."""
    if is_url(store):  # said before reaching the server, which could only say the same
        raise StoreError(NOT_OPTIMIZED)
    with open_cli_store(store) as graph_store:
        graph_store.optimize()
    typer.echo(f"optimized the store at {store}")


_ASPECTS = "labels,types,abstracts,categories,redirects,sameas"


@app.command()
@errors_to_exit
def enrich(
    store: StoreOption = DEFAULT_STORE_TEXT,
    endpoint: Annotated[
        Optional[str], typer.Option("--endpoint", help="SPARQL endpoint to ask (default https://dbpedia.org/sparql).")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Languages of labels and abstracts, comma-separated.")] = "en",
    what: Annotated[str, typer.Option("--what", help="What to fetch, comma-separated.")] = _ASPECTS,
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch again what is already enriched.")] = False,
    dumps: Annotated[
        Optional[list[Path]],
        typer.Option("--from", help="Read DBpedia dump files (.ttl/.nt, optionally .bz2/.gz) instead of an endpoint; repeat for more."),
    ] = None,
) -> None:
    """Fetch what DBpedia knows about every linked resource into its own graphs: labels, types, abstracts, categories, redirects, Wikidata links."""
    import graphbuild.enrichment as enrichment

    selection = enrichment.Selection(enrichment.parse_aspects(what), enrichment.parse_languages(lang))
    if dumps and endpoint:
        raise GraphbuildError("give --endpoint or --from, not both")
    source = enrichment.DumpSource(dumps) if dumps else enrichment.Endpoint(endpoint or enrichment.DEFAULT_ENDPOINT)
    if not is_url(store) and not Path(store).exists():
        raise GraphbuildError(f"no store at {store}: load documents first with `graphbuild ingest PATH --store {store}`")
    with open_cli_store(store) as graph_store, ProgressBars("enrich") as progress:
        report = enrichment.enrich(graph_store, source=source, selection=selection, refresh=refresh, progress=progress)
    typer.echo(report.summary(source.describe()))
    for failure in report.failures:
        typer.echo(
            f"Error: {failure}; {plural(report.failed, 'resource')} not fetched "
            "(they keep what they had; what earlier batches fetched is stored: run again for the rest)",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)
