"""The ``graphbuild`` Typer app, its global options, and what every command shares: the
``--store`` option, opening the store, and turning library errors into ``Error: …``."""

from __future__ import annotations

import functools
import importlib
import signal
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Annotated, Optional, ParamSpec, TypeVar

import typer
from rich.console import Console

from graphbuild import __version__
from graphbuild.errors import DocumentTooLarge, GraphbuildError, Interrupted, UnknownFormat
from graphbuild.pipeline.prepare import RunReport
from graphbuild.store import Store, open_store
from graphbuild.store.embedded import DEFAULT_STORE, STORE_ENV
from graphbuild.workers.interrupts import signals_as_interrupts

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
DEFAULT_STORE_TEXT = str(DEFAULT_STORE)
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no notes.")]
P = ParamSpec("P")
R = TypeVar("R")
E = TypeVar("E", bound=Enum)


FINISH_HINT = "rerun the same command to finish"
# The library names the parameter a bad value came in; the command line names the option.
OPTION_OF_SETTING = {
    "aspects": "--what",
    "dumps": "--from",
    "endpoint": "--endpoint",
    "format": "--format",
    "languages": "--lang",
    "min_confidence": "--min-confidence",
    "output": "--output",
    "top": "--top",
}


def error_line(exc: GraphbuildError) -> str:
    """The library's error as the command line says it: a setting named by its option."""
    if exc.setting is None:
        return str(exc)
    if exc.setting.startswith("parameter "):
        option = f"--param {exc.setting.removeprefix('parameter ')}"
    else:
        option = OPTION_OF_SETTING.get(exc.setting, exc.setting)
    return f"{option}: {exc.detail}"


def errors_to_exit(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's errors into ``Error: …`` on stderr and exit status 1, and an
    interrupt (Ctrl-C, SIGTERM, SIGHUP) into ``interrupted: …`` and 128 + the signal."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        received: list[int] = []
        try:
            with signals_as_interrupts(received):
                return func(*args, **kwargs)
        except Interrupted as exc:
            typer.echo(f"interrupted: {exc.done}; {FINISH_HINT}", err=True)
            raise typer.Exit(128 + (received[0] if received else signal.SIGINT)) from None
        except KeyboardInterrupt:
            typer.echo(f"interrupted; {FINISH_HINT}", err=True)
            raise typer.Exit(128 + (received[0] if received else signal.SIGINT)) from None
        except GraphbuildError as exc:
            typer.echo(f"Error: {error_line(exc)}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"graphbuild {__version__}")
        raise typer.Exit()


# Set by the main callback: where a --store URL answers, and as whom.
_endpoints: dict[str, str | None] = {}


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


def open_cli_store(location: str, *, read_only: bool = False) -> Store:
    """The store a ``--store`` value names, with the endpoint options given before the command."""
    return open_store(location, read_only=read_only, endpoints=_endpoints)


def choice(enum: type[E], value: str, option: str = "--format") -> E:
    """``value`` as a member of ``enum``, or an error naming ``option`` and the choices."""
    try:
        return enum(value)
    except ValueError:
        names = ", ".join(str(member.value) for member in enum)
        raise GraphbuildError(f"{option} {value!r} does not fit this result; choose one of {names}") from None


def import_extra(module: str, extra: str) -> ModuleType:
    """``module``, or an error that names the extra to install for it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise GraphbuildError(
            f"this command needs {exc.name}, which graphbuild's {extra!r} extra installs: pip install 'graphbuild[{extra}]'"
        ) from None


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GraphbuildError(f"cannot read {path}: {exc.strerror or exc}") from exc


def print_problems(report: RunReport, quiet: bool) -> None:
    """Errors always; notes and repairs unless --quiet. All on stderr, as ``path:line: …``."""
    for error in report.errors:
        typer.echo(str(error), err=True)
    if any(isinstance(error, DocumentTooLarge) for error in report.errors):
        typer.echo("hint: --max-document-size SIZE raises the limit on one document's size (default 128M)", err=True)
    if any(isinstance(error, UnknownFormat) for error in report.errors):
        typer.echo("hint: --format FORMAT reads files whose name does not tell their format", err=True)
    if not quiet:
        for note in report.notes:
            typer.echo(f"{note.source}: note: {note.reason}; skipped", err=True)
        for repair in report.repairs:
            typer.echo(str(repair), err=True)
