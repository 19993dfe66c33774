"""Commands that publish the graph: serve, report, validate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from graphbuild.cli.app import (
    DEFAULT_STORE_TEXT,
    StoreOption,
    app,
    choice,
    errors_to_exit,
    import_extra,
    open_cli_store,
)
from graphbuild.cli.progress import ProgressBars
from graphbuild.store.server import DEFAULT_BIND
from graphbuild.store.server import serve as serve_store
from graphbuild.text import plural

DEFAULT_REPORT = Path("graphbuild-report")


@app.command()
@errors_to_exit
def serve(
    store: StoreOption = DEFAULT_STORE_TEXT,
    bind: Annotated[
        str, typer.Option("--bind", help="Address and port to listen on; loopback unless you say otherwise.")
    ] = DEFAULT_BIND,
    writable: Annotated[
        bool,
        typer.Option("--writable", help="Take writes: SPARQL update (/update) and Graph Store PUT, POST, DELETE."),
    ] = False,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="Serve a snapshot without holding the store: others may write to it meanwhile, "
            "but the server answers from the store as it was when it started.",
        ),
    ] = False,
    host: Annotated[
        Optional[list[str]],
        typer.Option("--host", help="Another host name the server answers to (besides localhost, IP addresses and --bind's); repeat for more."),
    ] = None,
) -> None:
    """Serve the store with the Oxigraph server: SPARQL endpoint, Graph Store Protocol and query UI.

    Read-only unless --writable. Requests that name another host, come from another web
    site, or would make the server fetch a URL (SERVICE, LOAD) are refused.
    """
    status = serve_store(
        store,
        bind=bind,
        writable=writable,
        snapshot=read_only,
        hosts=host or (),
        ready=lambda served: typer.echo(served.banner(), err=True),
    )
    if status != 0:
        raise typer.Exit(status)


@app.command()
@errors_to_exit
def report(
    store: StoreOption = DEFAULT_STORE_TEXT,
    output: Annotated[
        Path, typer.Option("--output", help="Folder to write the site to (replaced whole if it holds an earlier report).")
    ] = DEFAULT_REPORT,
    top: Annotated[
        int,
        typer.Option("--top", min=1, max=400, help="Resources in the top-resources chart and the co-mention network."),
    ] = 50,
    min_confidence: Annotated[
        float,
        typer.Option("--min-confidence", min=0.0, max=1.0, help="Leave out links below this confidence (links with none stay)."),
    ] = 0.0,
    document_pages: Annotated[
        Optional[bool],
        typer.Option(
            "--document-pages/--no-document-pages",
            help="A page (and a Turtle file) per document, mentions highlighted. Default: only for a store of at "
            "most 10,000 documents, so that a million documents do not make two million files; the paged "
            "document list is always written.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a static site (opens from disk, no server): charts, highlighted documents, resources, the network."""
    reporting = import_extra("graphbuild.report", "report")
    with open_cli_store(store, read_only=True) as graph_store, ProgressBars("report") as progress:
        summary = reporting.build_report(
            graph_store, output, top=top, min_confidence=min_confidence, progress=progress, document_pages=document_pages
        )
    without = "" if summary.document_pages else "; no page per document: --document-pages writes them"
    typer.echo(
        f"wrote {output / 'index.html'}: {plural(summary.documents, 'document')}, "
        f"{plural(summary.resources, 'resource')}, {plural(summary.mentions, 'mention')} ({summary.pages:,} pages{without})"
    )


@app.command()
@errors_to_exit
def validate(
    store: StoreOption = DEFAULT_STORE_TEXT,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    jobs: Annotated[
        Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per CPU).")
    ] = None,
) -> None:
    """Check every document graph against the SHACL shapes and each anchor against its text; exit 1 on violations."""
    from graphbuild import validation

    report_format = choice(validation.ReportFormat, format)
    with open_cli_store(store, read_only=True) as graph_store, ProgressBars("validate") as progress:
        result = validation.validate(graph_store, workers=jobs, progress=progress)
    if report_format is validation.ReportFormat.JSON:
        typer.echo(validation.render_json(result))
    else:
        typer.echo("\n".join(validation.render_table(result)))
    if not result.conforms:
        raise typer.Exit(1)
