"""The ``graphbuild`` command: a thin layer over the library."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from graphbuild import __version__
from graphbuild.export import rdf as export_mod
from graphbuild.pipeline import convert as convert_mod, ingest as ingest_mod
from graphbuild.query import canned as queries_mod
from graphbuild.store import server as serve_mod
from graphbuild.errors import GraphbuildError, InputError, StoreError
from graphbuild.readers import InputFormat, find_sources
from graphbuild.model.records import Document, Skipped
from graphbuild.query.results import ResultFormat, write_boolean, write_rows
from graphbuild.store.embedded import DEFAULT_STORE, STORE_ENV, EmbeddedStore
from graphbuild.store.protocol import query_form
from graphbuild.store.remote import is_url
from graphbuild.store import Store, open_store
from graphbuild.model.vocab import DEFAULT_BASE, PREFIXES

app = typer.Typer(
    help="Turn documents with entity links into an RDF knowledge graph, query it and publish it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        envvar=STORE_ENV,
        help=f"Folder of the on-disk Oxigraph store, or the URL of a SPARQL server (also ${STORE_ENV}).",
        show_default=True,
    ),
]
F = TypeVar("F", bound=Callable[..., object])


def _errors_to_exit(func: F) -> F:
    """Turn the library's errors into ``Error: …`` on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except GraphbuildError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"graphbuild {__version__}")
        raise typer.Exit()


# Set by the main callback: where a --store URL answers, and as whom.
_endpoints: dict[str, str | None] = {}
# New documents from which ingest suggests `graphbuild optimize`: a store fresh from a
# 100k-document load answered per-entity queries up to 3x slower than once compacted.
OPTIMIZE_TIP_FROM = 10_000


@app.callback()
def main(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
    query_url: Annotated[
        Optional[str], typer.Option("--query-url", envvar="GRAPHBUILD_QUERY_URL", help="SPARQL query endpoint of a --store URL.")
    ] = None,
    update_url: Annotated[
        Optional[str], typer.Option("--update-url", envvar="GRAPHBUILD_UPDATE_URL", help="SPARQL update endpoint of a --store URL.")
    ] = None,
    graph_store_url: Annotated[
        Optional[str],
        typer.Option("--graph-store-url", envvar="GRAPHBUILD_GRAPH_STORE_URL", help="Graph Store Protocol endpoint of a --store URL."),
    ] = None,
    user: Annotated[Optional[str], typer.Option("--user", envvar="GRAPHBUILD_USER", help="Basic-auth user for a --store URL.")] = None,
    password: Annotated[
        Optional[str], typer.Option("--password", envvar="GRAPHBUILD_PASSWORD", help="Basic-auth password (better: $GRAPHBUILD_PASSWORD).")
    ] = None,
) -> None:
    """Turn documents with entity links into an RDF knowledge graph, query it and publish it.

    --store takes a folder (the embedded Oxigraph store) or a SPARQL server's URL: an
    Oxigraph server's root (http://host:7878) or Virtuoso's http://host:8890/sparql; the
    options before the command name other endpoint layouts and credentials.
    """
    _endpoints.update(query=query_url, update=update_url, graph_store=graph_store_url, user=user, password=password)


def _open_store(location: str, *, read_only: bool = False) -> Store:
    return open_store(location, read_only=read_only, endpoints=_endpoints)


@app.command()
@_errors_to_exit
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (walked recursively) or - for standard input.")],
    store: StoreOption = str(DEFAULT_STORE),
    format: Annotated[
        Optional[InputFormat], typer.Option("--format", help="Input format; guessed from the extension when omitted.")
    ] = None,
    base: Annotated[str, typer.Option("--base", help="Base IRI under which document IRIs are minted.")] = DEFAULT_BASE,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no notes.")] = False,
    min_confidence: Annotated[
        Optional[float],
        typer.Option(
            "--min-confidence", min=0.0, max=1.0, help="Keep only links at or above this confidence (links with none stay)."
        ),
    ] = None,
) -> None:
    """Load documents into the store: one named graph each, replaced when changed."""
    sources = find_sources(paths, format=format)
    with _open_store(store) as graph_store, _progress(len(sources), quiet) as advance:
        report = ingest_mod.ingest(
            sources, store=graph_store, format=format, base=base, min_confidence=min_confidence, progress=advance
        )
    _print_problems(report, quiet)
    extras = [
        f"{_plural(count, what)}"
        for count, what in ((report.duplicates, "duplicate"), (len(report.repairs) - report.duplicates, "repair"))
        if count
    ]
    if min_confidence is not None:
        extras.append(f"{_plural(report.dropped, 'link')} below {min_confidence} left out")
    typer.echo(
        f"{_plural(report.loaded, 'document')} loaded, {report.replaced} replaced, "
        f"{report.unchanged} skipped unchanged, {report.failed} failed, {report.empty} empty; "
        f"{_plural(report.mentions, 'mention')}, {report.unplaced} unplaced" + "".join(f"; {e}" for e in extras)
    )
    if report.loaded >= OPTIMIZE_TIP_FROM and not quiet and not is_url(store):
        typer.echo(
            f"tip: after a load this large, `graphbuild optimize --store {store}` compacts the store "
            "(per-entity queries up to 3x faster on 100k documents)",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@_errors_to_exit
def query(
    name: Annotated[str, typer.Argument(help="Name of a canned query (see `graphbuild queries`).")],
    param: Annotated[
        Optional[list[str]], typer.Option("--param", "-p", help="A parameter as NAME=VALUE; repeat for more.")
    ] = None,
    store: StoreOption = str(DEFAULT_STORE),
    format: Annotated[ResultFormat, typer.Option("--format", help="Output format.")] = ResultFormat.TABLE,
    limit: Annotated[Optional[int], typer.Option("--limit", min=0, help="Print at most this many rows.")] = None,
) -> None:
    """Run a canned query from queries/ with its parameters bound as RDF terms."""
    canned = queries_mod.load_query(name)
    values = _parse_params(param or [])
    with _open_store(store, read_only=True) as graph_store:
        rows = queries_mod.run(canned, values, store=graph_store)
        write_rows(rows, format, sys.stdout, limit=limit)


@app.command("queries")
@_errors_to_exit
def list_queries() -> None:
    """List the canned queries with their summaries and parameters."""
    for canned in queries_mod.list_queries():
        typer.echo(f"{canned.name}\n    {canned.summary}")
        for p in canned.parameters:
            default = "required" if p.required else f"default {p.default}"
            typer.echo(f"    --param {p.name}=… ({p.kind}, {default}): {p.doc}")


@app.command()
@_errors_to_exit
def sparql(
    query_text: Annotated[Optional[str], typer.Argument(metavar="QUERY", help="SPARQL query text.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Read the query from this file.")] = None,
    store: StoreOption = str(DEFAULT_STORE),
    format: Annotated[
        Optional[str],
        typer.Option(
            "--format",
            help="SELECT/ASK: table, csv, tsv, json, ndjson (default table). "
            "CONSTRUCT/DESCRIBE: turtle, ntriples, jsonld (default turtle).",
        ),
    ] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=0, help="Print at most this many rows.")] = None,
) -> None:
    """Run ad-hoc SPARQL over the union of all graphs (no GRAPH ?g needed); MODEL.md prefixes are predeclared."""
    if (query_text is None) == (file is None):
        raise GraphbuildError("give the query as an argument or with --file, not both")
    text = query_text if query_text is not None else _read_text(file)
    with _open_store(store, read_only=True) as graph_store:
        form = query_form(text)
        if form == "SELECT":
            write_rows(graph_store.select(text, prefixes=PREFIXES), _choice(ResultFormat, format or "table"), sys.stdout, limit=limit)
        elif form == "ASK":
            write_boolean(graph_store.ask(text, prefixes=PREFIXES), _choice(ResultFormat, format or "table"), sys.stdout)
        else:
            triples = graph_store.construct(text, prefixes=PREFIXES)
            export_mod.write_triples(triples, sys.stdout.buffer, format=_choice(export_mod.ExportFormat, format or "turtle"))
            sys.stdout.buffer.flush()


@app.command()
@_errors_to_exit
def export(
    store: StoreOption = str(DEFAULT_STORE),
    format: Annotated[
        Optional[export_mod.ExportFormat],
        typer.Option("--format", help="RDF format; guessed from --output's extension, else turtle."),
    ] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    document: Annotated[Optional[str], typer.Option("--document", help="Export only this document (by id).")] = None,
    split: Annotated[
        Optional[int],
        typer.Option("--split", min=1, help="N-Quads files of about N quads each in the folder --output (for bulk loaders)."),
    ] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Gzip the --split files (or write one .nq.gz file per part).")] = False,
) -> None:
    """Write the store (or one document) as Turtle, N-Triples, N-Quads, TriG or JSON-LD."""
    fmt = format or (export_mod.ExportFormat.guess(output) if output else None) or export_mod.ExportFormat.TURTLE
    if split is not None or gzip:
        _export_parts(store, fmt, output, document)
        with _open_store(store, read_only=True) as graph_store:
            paths = export_mod.export_parts(graph_store, output, split=split, gzip=gzip)  # type: ignore[arg-type]
        typer.echo(f"wrote {_plural(len(paths), 'file')} to {output}", err=True)
        return
    with _open_store(store, read_only=True) as graph_store:
        if output is None:
            export_mod.export(graph_store, sys.stdout.buffer, format=fmt, document=document)
            sys.stdout.buffer.flush()
        else:
            export_mod.export(graph_store, output, format=fmt, document=document)
            typer.echo(f"wrote {output} ({fmt.value})", err=True)


def _print_problems(report: ingest_mod.IngestReport, quiet: bool) -> None:
    """Errors always; notes and repairs unless --quiet. All on stderr, as ``path:line: …``."""
    for error in report.errors:
        typer.echo(str(error), err=True)
    if not quiet:
        for note in report.notes:
            typer.echo(f"{note.source}: note: {note.reason}; skipped", err=True)
        for repair in report.repairs:
            typer.echo(str(repair), err=True)


def _export_parts(store: Path, fmt: export_mod.ExportFormat, output: Path | None, document: str | None) -> None:
    if output is None or document is not None or fmt is not export_mod.ExportFormat.NQUADS:
        raise GraphbuildError("--split and --gzip write N-Quads files for the whole store into the folder --output: "
                              "use them with --format nquads --output DIR and without --document")


@app.command()
@_errors_to_exit
def convert(
    paths: Annotated[list[str], typer.Argument(help="Files or folders (walked recursively), as for ingest.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the N-Quads files.")],
    format: Annotated[
        Optional[InputFormat], typer.Option("--format", help="Input format; guessed from the extension when omitted.")
    ] = None,
    split: Annotated[Optional[int], typer.Option("--split", min=1, help="Start a new file after about N quads.")] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Gzip the files.")] = False,
    base: Annotated[str, typer.Option("--base", help="Base IRI under which document IRIs are minted.")] = DEFAULT_BASE,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no notes.")] = False,
) -> None:
    """Write documents straight to N-Quads files, with no store (for other stores' bulk loaders)."""
    sources = find_sources(paths, format=format)
    with _progress(len(sources), quiet) as advance:
        report, files = convert_mod.convert(
            paths, output=output, format=format, base=base, split=split, gzip=gzip, progress=advance
        )
    _print_problems(report, quiet)
    typer.echo(
        f"{_plural(report.loaded, 'document')} written to {_plural(len(files), 'file')} in {output}, "
        f"{report.failed} failed, {report.empty} empty; {_plural(report.mentions, 'mention')}, {report.unplaced} unplaced"
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@_errors_to_exit
def serve(
    store: StoreOption = str(DEFAULT_STORE),
    bind: Annotated[
        str, typer.Option("--bind", help="Address and port to listen on; loopback unless you say otherwise.")
    ] = serve_mod.DEFAULT_BIND,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Serve without write access (other processes may read the store too).")
    ] = False,
) -> None:
    """Serve the store with the Oxigraph server: SPARQL endpoint, Graph Store Protocol and query UI."""
    typer.echo(f"serving {store} at http://{bind}/ (SPARQL: /query, /update; Graph Store: /store); Ctrl-C stops", err=True)
    status = serve_mod.serve(store, bind=bind, read_only=read_only)
    if status != 0:
        raise typer.Exit(status)


@app.command()
@_errors_to_exit
def stats(
    store: StoreOption = str(DEFAULT_STORE),
    format: Annotated[ResultFormat, typer.Option("--format", help="table or json.")] = ResultFormat.TABLE,
) -> None:
    """Count documents, mentions, distinct resources, quads and graphs."""
    with _open_store(store, read_only=True) as graph_store:
        counts = graph_store.stats()
    fields = {
        "documents": counts.documents,
        "mentions": counts.mentions,
        "unplaced": counts.unplaced,
        "resources": counts.resources,
        "quads": counts.quads,
        "graphs": counts.graphs,
    }
    if format is ResultFormat.JSON:
        import json

        typer.echo(json.dumps(fields))
        return
    table = Table("what", "count")
    for key, value in fields.items():
        table.add_row(key, f"{value:,}")
    Console(highlight=False).print(table)


@app.command()
@_errors_to_exit
def delete(
    ids: Annotated[list[str], typer.Argument(help="Document ids (as in dcterms:identifier, e.g. the file stem).")],
    store: StoreOption = str(DEFAULT_STORE),
) -> None:
    """Remove documents: their graphs and their metadata, in one transaction."""
    with _open_store(store) as graph_store:
        deleted, missing = ingest_mod.delete(ids, store=graph_store)
    for doc_id in missing:
        typer.echo(f"{doc_id}: no such document in the store", err=True)
    typer.echo(f"{_plural(len(deleted), 'document')} deleted")
    if missing:
        raise typer.Exit(1)


@app.command()
@_errors_to_exit
def optimize(store: StoreOption = str(DEFAULT_STORE)) -> None:
    """Compact an embedded store after large loads: smaller on disk, faster queries.

    At 100k documents: 5.3 GB to 2.8 GB in about 2 minutes, documents-mentioning for an
    entity 889 ms to 125 ms.
    """
    if is_url(store):
        raise StoreError("optimize works on an embedded store; a SPARQL server manages its own storage")
    with _open_store(store) as graph_store:
        assert isinstance(graph_store, EmbeddedStore)
        graph_store.optimize()
    typer.echo(f"optimized the store at {store}")


def _choice(enum: type, value: str) -> object:
    try:
        return enum(value)
    except ValueError:
        names = ", ".join(member.value for member in enum)
        raise GraphbuildError(f"--format {value!r} does not fit this result; choose one of {names}") from None


def _parse_params(raw: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise GraphbuildError(f"--param {item!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values


def _read_text(path: Path | None) -> str:
    assert path is not None
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GraphbuildError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class _Bar:
    """A rich progress bar on stderr, started only when ``enabled``; ``with`` gives its
    advance callback, or None when there is no bar to advance."""

    enabled: bool
    bar: Progress

    def __enter__(self) -> Callable[..., None] | None:
        if not self.enabled:
            return None
        self.bar.start()
        return self._advance  # type: ignore[attr-defined]

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()


class _progress(_Bar):
    """A rich progress bar on stderr, shown only on a terminal and when not quiet."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty() and total > 1
        self.bar = Progress(
            TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True
        )
        self.task = self.bar.add_task("ingest", total=total)
        self._last_source: str | None = None

    def _advance(self, item: Document | InputError | Skipped) -> None:
        source = item.source if not isinstance(item, InputError) else item.path
        if source != self._last_source:
            self._last_source = source
            self.bar.advance(self.task)


DEFAULT_REPORT = Path("graphbuild-report")


@app.command("report")
@_errors_to_exit
def report_command(
    store: StoreOption = str(DEFAULT_STORE),
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
) -> None:
    """Write a static site (opens from disk, no server): charts, highlighted documents, resources, the network."""
    from graphbuild.report import build_report

    with _open_store(store, read_only=True) as graph_store, _ReportProgress() as progress:
        summary = build_report(graph_store, output, top=top, min_confidence=min_confidence, progress=progress)
    typer.echo(
        f"wrote {output / 'index.html'}: {_plural(summary.documents, 'document')}, "
        f"{_plural(summary.resources, 'resource')}, {_plural(summary.mentions, 'mention')} ({summary.pages:,} pages)"
    )


class _ReportProgress(_Bar):
    """One rich progress bar per stage of the report, on stderr when it is a terminal."""

    def __init__(self) -> None:
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=True)
        self.tasks: dict[str, object] = {}
        self.enabled = sys.stderr.isatty()

    def _advance(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        if done == total or done % 100 == 0:
            self.bar.update(self.tasks[stage], completed=done)  # type: ignore[arg-type]


@app.command("validate")
@_errors_to_exit
def validate_command(
    store: StoreOption = str(DEFAULT_STORE),
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    jobs: Annotated[
        Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per CPU).")
    ] = None,
) -> None:
    """Check every document graph against the SHACL shapes and each anchor against its text; exit 1 on violations."""
    # Imported here: pyshacl takes a third of a second to load, and only this command needs it.
    from graphbuild.validate.run import ReportFormat, render_json, render_table, validate

    report_format = _choice(ReportFormat, format)
    with _open_store(store, read_only=True) as graph_store:
        report = validate(graph_store, workers=jobs)
    if report_format is ReportFormat.JSON:
        typer.echo(render_json(report))
    else:
        typer.echo("\n".join(render_table(report)))
    if not report.conforms:
        raise typer.Exit(1)


_ASPECTS = "labels,types,abstracts,categories,redirects,sameas"


@app.command("enrich")
@_errors_to_exit
def enrich_command(
    store: StoreOption = str(DEFAULT_STORE),
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
    from graphbuild import enrich as enrich_mod

    selection = enrich_mod.Selection(enrich_mod.parse_aspects(what), enrich_mod.parse_languages(lang))
    if dumps and endpoint:
        raise GraphbuildError("give --endpoint or --from, not both")
    source = enrich_mod.DumpSource(dumps) if dumps else enrich_mod.Endpoint(endpoint or enrich_mod.DEFAULT_ENDPOINT)
    if "://" not in store and not Path(store).exists():
        raise GraphbuildError(f"no store at {store}: load documents first with `graphbuild ingest PATH --store {store}`")
    with _open_store(store) as graph_store, _EnrichProgress() as progress:
        report = enrich_mod.enrich(graph_store, source=source, selection=selection, refresh=refresh, progress=progress)
    followed = f"{_plural(report.targets, 'redirect target')} followed; " if report.targets else ""
    typer.echo(
        f"{_plural(report.enriched, 'resource')} enriched, {report.cached:,} already cached, "
        f"{report.not_found:,} not found, {report.failed:,} failed ({followed}{_plural(report.requests, 'request')} "
        f"to {source.describe()})"
    )
    for failure in report.failures:
        typer.echo(
            f"Error: {failure}; {_plural(report.failed, 'resource')} not fetched "
            "(they keep what they had; what earlier batches fetched is stored: run again for the rest)",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)


class _EnrichProgress(_Bar):
    """A rich progress bar per round of batches, on stderr when it is a terminal."""

    def __init__(self) -> None:
        self.bar = Progress(TextColumn("enrich"), BarColumn(), MofNCompleteColumn(), console=err, transient=True)
        self.task: object | None = None
        self.enabled = sys.stderr.isatty()

    def _advance(self, done: int, total: int) -> None:
        # Each round (linked resources, then redirect targets) counts from 0 to its own total.
        if self.task is None:
            self.task = self.bar.add_task("enrich", total=total)
        self.bar.update(self.task, total=total, completed=done)  # type: ignore[arg-type]


if __name__ == "__main__":
    app()
