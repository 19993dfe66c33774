"""Exceptions raised by graphbuild.

    GraphbuildError
     ├── InputError        a source cannot be read: carries path and line
     │    ├── DocumentTooLarge  past the run's limit on one document's size
     │    └── UnknownFormat     a file whose name does not tell its format
     ├── StoreError        the store cannot be opened, read or written
     ├── QueryError        a canned query is unknown, or a parameter is wrong
     │    └── ParameterError
     ├── ReportError       the report site cannot be written where asked
     ├── EnrichError       a SPARQL endpoint or dump cannot give what enrichment asks
     ├── AnnotateError     annotation cannot go on: a bad setting, a URL that is no linker
     └── Interrupted       a long run stopped by Ctrl-C (or a signal), its work left whole

An error about one argument of a library function names it in ``setting`` (the parameter's
name: ``languages``, ``endpoint``, ``parameter entity``…) and says what is wrong in
``detail``; its message is ``"<setting>: <detail>"``. A front end names the setting its own
way: the command line prints the option (``--lang: …``) instead.
"""

from __future__ import annotations


class GraphbuildError(Exception):
    """Base of every error graphbuild raises on purpose."""

    def __init__(self, detail: str, *, setting: str | None = None) -> None:
        self.detail = detail
        self.setting = setting
        super().__init__(f"{setting}: {detail}" if setting else detail)

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross from worker processes; keep the setting apart from the detail.
        return (_rebuild, (type(self), self.detail, self.setting))


def _rebuild(cls: type[GraphbuildError], detail: str, setting: str | None) -> GraphbuildError:
    error = cls.__new__(cls)
    GraphbuildError.__init__(error, detail, setting=setting)
    return error


class InputError(GraphbuildError):
    """A document (or a whole source) that cannot be read.

    Readers *yield* these for bad documents so that the others still load.
    """

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross from the preparing process; the default pickling loses the fields.
        return (type(self), (self.path, self.line, self.message))


class DocumentTooLarge(InputError):
    """A document (or a file read whole) larger, decompressed, than a run allows."""


class UnknownFormat(InputError):
    """A file whose extension names no input format (and no format was given)."""


class StoreError(GraphbuildError):
    """The store cannot be opened, read or written."""


class QueryError(GraphbuildError):
    """A query that cannot run: unknown name, bad syntax."""


class ParameterError(QueryError):
    """A canned query parameter that is missing or not of its declared kind."""


class ReportError(GraphbuildError):
    """The report site cannot be written: a bad output folder, a bad option."""


class EnrichError(GraphbuildError):
    """Enrichment cannot go on: a bad option, an endpoint that keeps failing, a bad dump."""


class AnnotateError(GraphbuildError):
    """Annotation cannot go on: a bad setting, or a URL with no entity linker behind it."""


class Interrupted(GraphbuildError):
    """A long run stopped by an interrupt (KeyboardInterrupt: Ctrl-C, or a signal a caller
    turned into one) after leaving what it wrote whole; ``done`` says what it had
    finished (``"775 documents written"``), so that the caller can say how to go on."""

    def __init__(self, done: str) -> None:
        self.done = done
        super().__init__(f"interrupted: {done}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.done,))
