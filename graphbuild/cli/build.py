"""Commands that build the graph: ingest, annotate, convert, delete, optimize, enrich."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
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
from graphbuild.pipeline.annotate import annotate as annotate_texts
from graphbuild.pipeline.convert import convert as convert_documents
from graphbuild.pipeline.delete import delete as delete_documents
from graphbuild.pipeline.ingest import ingest as ingest_documents
from graphbuild.pipeline.load import load as load_parts
from graphbuild.readers import InputFormat, RawFormat, find_sources
from graphbuild.spotlight.client import DEFAULT_MAX_CHARS, DEFAULT_POLICY, REMOTE_RATE, SpotlightSettings
from graphbuild.store import optimize as optimize_store
from graphbuild.store.embedded import STORE_ENV, EmbeddedStore
from graphbuild.store.remote import NOT_OPTIMIZED, is_url
from graphbuild.text import parse_size, plural

FormatOption = Annotated[
    Optional[InputFormat], typer.Option("--format", help="Input format; guessed from the extension when omitted.")
]
BaseOption = Annotated[str, typer.Option("--base", help="Base IRI under which document IRIs are minted.")]
MaxSizeOption = Annotated[
    str,
    typer.Option(
        "--max-document-size",
        metavar="SIZE",
        help="Largest document read, decompressed (128M, 1G…): a bigger one is an error and the run goes on. "
        "JSON Lines counts each line; other formats are read whole, so each file.",
    ),
]
DEFAULT_MAX_SIZE_TEXT = "128M"
MinConfidenceOption = Annotated[
    Optional[float],
    typer.Option("--min-confidence", min=0.0, max=1.0, help="Keep only links at or above this confidence (links with none stay)."),
]
# New documents from which ingest and load suggest `graphbuild optimize`: a store fresh
# from a 100k-document load answered per-entity queries up to 3x slower than once compacted.
OPTIMIZE_TIP_FROM = 10_000


def _suggest_optimize(store: str | Path) -> None:
    # The figures of docs/performance.md (100k: an ingest's store; 1M: a load's).
    typer.echo(
        f"tip: after a load this large, `graphbuild optimize --store {store}` compacts the store "
        "(per-entity queries up to 3x faster; 100k documents: 4.6 -> 2.6 GiB in 100 s, "
        "1M documents: 27 -> 20 GiB in 16 min, on 2 cores)",
        err=True,
    )


@app.command()
@errors_to_exit
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (walked recursively) or - for standard input.")],
    store: StoreOption = DEFAULT_STORE_TEXT,
    format: FormatOption = None,
    base: BaseOption = DEFAULT_BASE,
    quiet: QuietOption = False,
    min_confidence: MinConfidenceOption = None,
    max_document_size: MaxSizeOption = DEFAULT_MAX_SIZE_TEXT,
) -> None:
    """Load documents into the store: one named graph each, replaced when changed."""
    max_size = _size(max_document_size)
    # Before the store, so that a mistyped path creates nothing; the list is not kept: held
    # here it would stay in memory through the run (a million sources: ~400 MiB), and
    # listing again inside costs less than that (15 s at a million).
    find_sources(paths, format=format)
    with open_cli_store(store) as graph_store, ProgressBars("ingest", quiet=quiet) as progress:
        report = ingest_documents(
            paths,
            store=graph_store,
            format=format,
            base=base,
            min_confidence=min_confidence,
            max_size=max_size,
            progress=progress,
        )
    print_problems(report, quiet)
    typer.echo(report.summary())
    if report.loaded >= OPTIMIZE_TIP_FROM and not quiet and not is_url(store):
        _suggest_optimize(store)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@errors_to_exit
def annotate(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Raw texts: .txt files (one document each, named by the file), JSON Lines or CSV/TSV with id and text "
            "columns; folders (walked recursively) or - for standard input."
        ),
    ],
    spotlight: Annotated[
        str,
        typer.Option(
            "--spotlight",
            help="Spotlight's base URL, before /annotate: http://localhost:2222/rest for its Docker image, "
            "https://api.dbpedia-spotlight.org/en for the public service.",
        ),
    ],
    confidence: Annotated[float, typer.Option("--confidence", min=0.0, max=1.0, help="Spotlight's confidence threshold.")] = 0.5,
    support: Annotated[int, typer.Option("--support", min=0, help="Spotlight's support threshold (in-links of a resource).")] = 0,
    lang: Annotated[str, typer.Option("--lang", help="Language of the texts and of the Spotlight model.")] = "en",
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Requests at once.")] = 4,
    store: StoreOption = DEFAULT_STORE_TEXT,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Write Spotlight JSON Lines to this file (.json for ingest to read) instead of the store."),
    ] = None,
    format: Annotated[
        Optional[RawFormat],
        typer.Option("--format", help="Format of the texts; guessed from the extension (standard input: text)."),
    ] = None,
    base: BaseOption = DEFAULT_BASE,
    rate: Annotated[
        Optional[float],
        typer.Option(
            "--rate",
            min=0.0,
            help=f"Requests per second at most; default none for a server on this machine, {REMOTE_RATE:g} for any other; 0: no limit.",
        ),
    ] = None,
    max_chars: Annotated[
        int, typer.Option("--max-chars", min=200, help="Longer texts are sent in parts cut at sentence ends.")
    ] = DEFAULT_MAX_CHARS,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Seconds for one request, from connect to last byte.")
    ] = DEFAULT_POLICY.timeout,
    quiet: QuietOption = False,
) -> None:
    """Annotate raw texts with DBpedia Spotlight and load them as ingest does (or write Spotlight JSON)."""
    settings = SpotlightSettings(
        spotlight,
        confidence=confidence,
        support=support,
        language=lang,
        rate=rate,
        max_chars=max_chars,
        policy=replace(DEFAULT_POLICY, timeout=timeout),
    )
    run = partial(annotate_texts, paths, spotlight=settings, format=format, base=base, concurrency=concurrency)
    with ProgressBars("annotate", quiet=quiet) as progress:
        if output is not None:
            report = run(output=output, progress=progress)
        else:
            with open_cli_store(store) as graph_store:
                report = run(store=graph_store, progress=progress)
    print_problems(report, quiet)
    typer.echo(report.summary())
    if report.stopped:
        typer.echo(f"Error: {report.stopped}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@errors_to_exit
def convert(
    paths: Annotated[list[str], typer.Argument(help="Files or folders (walked recursively), local or fsspec URLs (s3://…).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Folder for the part files: a path or an fsspec URL (s3://…).")],
    format: FormatOption = None,
    jobs: Annotated[
        Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes here, or of --scheduler local (default: the machine's cores).")
    ] = None,
    scheduler: Annotated[
        Optional[str],
        typer.Option("--scheduler", help="Run on the Dask scheduler at tcp://HOST:PORT, or 'local' for a LocalCluster of --jobs workers."),
    ] = None,
    split: Annotated[Optional[int], typer.Option("--split", min=1, help="Cut each part into files of about N quads.")] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Gzip the files.")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Remove the part files of another run from --output first (else refused).")
    ] = False,
    base: BaseOption = DEFAULT_BASE,
    min_confidence: MinConfidenceOption = None,
    quiet: QuietOption = False,
    max_document_size: MaxSizeOption = DEFAULT_MAX_SIZE_TEXT,
) -> None:
    """Write documents straight to N-Quads part files, with no store, for bulk loaders:
    one part per partition of the sorted inputs, the per-resource figures as a part of
    their own, and a manifest (_SUCCESS.json) last. A rerun into the same folder redoes
    only the missing parts."""
    max_size = _size(max_document_size)
    with ProgressBars("convert", quiet=quiet) as progress:
        report = convert_documents(
            paths, output=output, format=format, base=base, min_confidence=min_confidence, split=split, gzip=gzip,
            max_size=max_size, jobs=jobs, scheduler=scheduler, overwrite=overwrite, progress=progress,
        )
    print_problems(report, quiet)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError:
        raise GraphbuildError(f"--max-document-size {text!r}: expected a size such as 128M, 1G or 500000") from None


@app.command()
@errors_to_exit
def load(
    parts: Annotated[
        list[str], typer.Argument(help="Folders written by convert or export --split (checked against their manifest), or part files.")
    ],
    store: Annotated[
        Path, typer.Option("--store", envvar=STORE_ENV, help=f"Folder of a new on-disk Oxigraph store (also ${STORE_ENV}).")
    ] = Path(DEFAULT_STORE_TEXT),
    no_checksums: Annotated[
        bool, typer.Option("--no-checksums", help="Check the parts' sizes against the manifest, but not their SHA-256.")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Bulk-load N-Quads part files into a new embedded store, at the speed of Oxigraph's bulk loader."""
    if is_url(str(store)):
        raise StoreError("load fills an embedded store (a folder); a SPARQL server has its own bulk loader (see docs/scaling.md)")
    with EmbeddedStore.open(store) as graph_store, ProgressBars("load", quiet=quiet) as progress:
        report = load_parts(parts, store=graph_store, checksums=not no_checksums, progress=progress)
    typer.echo(report.summary())
    if (report.documents or 0) >= OPTIMIZE_TIP_FROM and not quiet:
        _suggest_optimize(store)


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
    with open_cli_store(store) as graph_store, ProgressBars("optimize") as progress:
        done = optimize_store(graph_store, progress=progress)
    typer.echo(done.summary())


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
        raise GraphbuildError(f"no store at {store}: ingest documents into it first")
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
