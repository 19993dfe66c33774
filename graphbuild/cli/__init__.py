"""The ``graphbuild`` command: a thin layer over the library.

    app      the Typer app, global options, what every command shares
    build    ingest, convert, delete, optimize, enrich
    read     query, queries, sparql, stats, export
    publish  serve, report, validate
    progress progress bars for the library's progress callbacks

Each command parses its options, calls one library function, prints, and turns the
library's errors into ``Error: …`` with exit status 1.
"""

from graphbuild.cli import build, publish, read
from graphbuild.cli.app import app

__all__ = ["app", "build", "publish", "read"]
