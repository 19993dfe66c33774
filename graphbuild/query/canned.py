"""Canned SPARQL queries: ``queries/NAME.rq`` files with a small header.

    #+ summary: Documents that mention an entity, with surface forms and confidences
    #+ param: entity (entity) the resource, as dbr:Pain or a full IRI
    #+ param: threshold (double, default 0.5) mentions below this confidence

A parameter named ``x`` is bound to the query variable ``?x`` as an RDF term (SPARQL
substitution); values never become query text. Oxigraph substitutes only projected
variables, so a query SELECTs its parameters; ``run`` leaves those columns out. Kinds: ``entity``/``iri`` (an IRI; prefixed names such as
``dbr:Pain`` are expanded), ``document`` (a document id), ``string``, ``integer``,
``double``, ``boolean``.

Pages: ``run(..., limit=100, offset=200)`` gives rows 200-299. The page goes where the
query has a line ``#+ page`` (a subquery that picks the page's rows before the per-row
lookups and aggregates that follow it: the rest of the query then works on one page, not
on the whole result), else at the end of the query. Either way it is ``LIMIT``/``OFFSET``
in the query text: SPARQL cannot bind them as terms, so they are checked to be Python
ints and written as digits, which can never become other syntax. A query without an
``ORDER BY`` of its own comes in the store's order, the same for the same store: each
query's summary says which order it gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode

from graphbuild.errors import ParameterError, QueryError
from graphbuild.model.vocab import FIGURES_GRAPH, XSD, XSD_BOOLEAN, expand
from graphbuild.store.figures import require_current
from graphbuild.store.protocol import Rows, Store, query_form

_HEADER = re.compile(r"^#\+\s*(?P<key>\w+)\s*:\s*(?P<value>.*?)\s*$")
_PARAM = re.compile(r"^(?P<name>\w+)\s*\((?P<kind>\w+)(?:\s*,\s*default\s+(?P<default>[^)]*?))?\)\s*(?P<doc>.*)$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_PAGE = re.compile(r"(?m)^[ \t]*#\+[ \t]*page[ \t]*$")
KINDS = ("entity", "iri", "document", "string", "integer", "double", "boolean")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    kind: str
    default: str | None
    doc: str

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True, slots=True)
class CannedQuery:
    name: str
    summary: str
    parameters: tuple[Parameter, ...]
    text: str
    path: Path

    @property
    def reads_figures(self) -> bool:
        return FIGURES_GRAPH.value in self.text

    @property
    def pages_inside(self) -> bool:
        """Whether a subquery takes the page (a ``#+ page`` line) rather than the query's end."""
        return _PAGE.search(self.text) is not None


def queries_dir() -> Path:
    """The ``queries/`` folder: beside the package in a checkout, inside it when installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent / "queries", here.parent / "queries"):
        if candidate.is_dir():
            return candidate
    raise QueryError(f"no queries folder found next to {here}")


def list_queries(folder: Path | None = None) -> list[CannedQuery]:
    """Every canned query, sorted by name."""
    folder = folder or queries_dir()
    return [parse_query_file(path) for path in sorted(folder.glob("*.rq"))]


def load_query(name: str, folder: Path | None = None) -> CannedQuery:
    folder = folder or queries_dir()
    path = folder / f"{name}.rq"
    if not _NAME.match(name) or not path.is_file():
        known = ", ".join(q.name for q in list_queries(folder))
        raise QueryError(f"no canned query named {name!r}; known: {known}")
    return parse_query_file(path)


def parse_query_file(path: Path) -> CannedQuery:
    """Read a query file and its ``#+`` header."""
    text = path.read_text(encoding="utf-8")
    summary = ""
    params: list[Parameter] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header is None:
            continue
        if header["key"] == "summary":
            summary = header["value"]
        elif header["key"] == "param":
            params.append(_parse_param(header["value"], path, number))
    if not summary:
        raise QueryError(f"{path}:1: a canned query needs a '#+ summary:' header line")
    if query_form(text) != "SELECT":
        raise QueryError(f"{path}: a canned query is a SELECT query, not {query_form(text)}")
    pages = [text.count("\n", 0, match.start()) + 1 for match in _PAGE.finditer(text)]
    if len(pages) > 1:
        raise QueryError(f"{path}:{pages[1]}: a canned query has at most one '#+ page' line")
    return CannedQuery(path.stem, summary, tuple(params), text, path)


def bind(query: CannedQuery, values: dict[str, str]) -> dict[str, NamedNode | Literal]:
    """Turn parameter values (strings) into RDF terms, with defaults; refuse unknown or bad ones."""
    declared = {p.name: p for p in query.parameters}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        names = ", ".join(declared) or "none"
        raise ParameterError(f"{query.name} has no parameter {unknown[0]!r} (parameters: {names})")
    bound: dict[str, NamedNode | Literal] = {}
    for param in query.parameters:
        raw = values.get(param.name, param.default)
        if raw is None:
            raise ParameterError(f"{query.name} needs a value ({param.kind}: {param.doc})", setting=f"parameter {param.name}")
        bound[param.name] = to_term(param, raw)
    return bound


def to_term(param: Parameter, raw: str) -> NamedNode | Literal:
    """One parameter value as an RDF term of the parameter's kind."""
    kind = param.kind
    if kind in ("entity", "iri"):
        return _iri(param.name, raw)
    if kind in ("document", "string"):
        return Literal(raw)
    if kind == "integer":
        return _number(param.name, raw, int, "an integer", "integer")
    if kind == "double":
        return _number(param.name, raw, float, "a number", "double")
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ParameterError(f"expected true or false, got {raw!r}", setting=f"parameter {param.name}")
    return Literal(value, datatype=XSD_BOOLEAN)


def run(query: CannedQuery, values: dict[str, str], *, store: Store, limit: int | None = None, offset: int = 0) -> Rows:
    """Run a canned query with its parameters bound; parameter columns are left out.

    ``limit`` rows from ``offset`` on (all of them when ``limit`` is None), streamed. A
    query that reads the per-resource figures gets them up to date (or a StoreError).
    """
    bindings = bind(query, values)
    if query.reads_figures:
        require_current(store)
    return store.select(paged_text(query, limit=limit, offset=offset), bindings=bindings).without(bindings)


def paged_text(query: CannedQuery, *, limit: int | None, offset: int = 0) -> str:
    """The query's text for one page: ``LIMIT``/``OFFSET`` at its ``#+ page`` line, or at its end."""
    for name, number in (("limit", limit), ("offset", offset)):
        if number is not None and (type(number) is not int or number < 0):
            raise QueryError(f"a page's {name} is a whole number of rows, 0 or more; got {number!r}")
    modifiers = " ".join(part for part in (f"LIMIT {limit}" if limit is not None else "", f"OFFSET {offset}" if offset else "") if part)
    if query.pages_inside:
        return _PAGE.sub(modifiers, query.text, count=1)
    return f"{query.text.rstrip()}\n{modifiers}\n" if modifiers else query.text


def _iri(name: str, raw: str) -> NamedNode:
    iri = expand(raw.strip())
    if _SCHEME.match(iri):
        try:
            return NamedNode(iri)
        except ValueError:
            pass
    raise ParameterError(f"{raw!r} is not a valid IRI (give a full IRI or a prefixed name such as dbr:Pain)", setting=f"parameter {name}")


def _number(name: str, raw: str, cast: type, what: str, datatype: str) -> Literal:
    try:
        value = cast(raw.strip())
    except ValueError:
        raise ParameterError(f"expected {what}, got {raw!r}", setting=f"parameter {name}") from None
    return Literal(repr(value) if cast is float else str(value), datatype=NamedNode(XSD + datatype))


def _parse_param(value: str, path: Path, number: int) -> Parameter:
    match = _PARAM.match(value)
    if match is None or match["kind"] not in KINDS:
        raise QueryError(f"{path}:{number}: expected '#+ param: NAME (KIND[, default VALUE]) description', KIND one of {', '.join(KINDS)}")
    return Parameter(match["name"], match["kind"], match["default"], match["doc"])
