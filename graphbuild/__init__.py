"""graphbuild: documents with entity links into an RDF knowledge graph.

The library's verbs take a store (``open_store``) and plain records; the ``graphbuild``
command is a thin layer over them::

    from graphbuild import ingest, open_store, load_query, run_query

    with open_store("graphbuild-store") as store:
        report = ingest(["seeds/"], store=store)
        rows = run_query(load_query("top-entities"), {}, store=store)

``validate``, ``build_report`` and ``enrich`` load their own dependencies on first use.
"""

from __future__ import annotations

# The one place the version is written: pyproject.toml reads it from here.
__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from graphbuild.errors import (
    AnnotateError,
    EnrichError,
    GraphbuildError,
    InputError,
    Interrupted,
    ParameterError,
    QueryError,
    ReportError,
    StoreError,
)
from graphbuild.model.records import Annotation, Document, Link, RawText, Repair, RepairKind, Skipped
from graphbuild.output.rdf import ExportFormat, export, export_parts
from graphbuild.pipeline.annotate import AnnotateReport, annotate
from graphbuild.pipeline.convert import ConvertReport, convert
from graphbuild.pipeline.delete import delete
from graphbuild.pipeline.ingest import IngestReport, ingest
from graphbuild.pipeline.load import LoadReport, load
from graphbuild.progress import Progress
from graphbuild.query.canned import CannedQuery, list_queries, load_query
from graphbuild.query.canned import run as run_query
from graphbuild.readers import InputFormat, RawFormat, read_documents, read_raw_texts
from graphbuild.spotlight import SpotlightSettings
from graphbuild.store import EmbeddedStore, Endpoints, RemoteStore, Rows, Stats, Store, open_store

if TYPE_CHECKING:
    from graphbuild.enrichment import DumpSource, Endpoint, EnrichReport, Selection, enrich
    from graphbuild.report import ReportSummary, build_report
    from graphbuild.validation import ValidationReport, Violation, validate

__all__ = [
    "AnnotateError",
    "AnnotateReport",
    "Annotation",
    "CannedQuery",
    "ConvertReport",
    "Document",
    "DumpSource",
    "EmbeddedStore",
    "Endpoint",
    "Endpoints",
    "EnrichError",
    "EnrichReport",
    "ExportFormat",
    "GraphbuildError",
    "IngestReport",
    "InputError",
    "InputFormat",
    "Interrupted",
    "Link",
    "LoadReport",
    "ParameterError",
    "Progress",
    "QueryError",
    "RawFormat",
    "RawText",
    "RemoteStore",
    "Repair",
    "RepairKind",
    "ReportError",
    "ReportSummary",
    "Rows",
    "Selection",
    "Skipped",
    "SpotlightSettings",
    "Stats",
    "Store",
    "StoreError",
    "ValidationReport",
    "Violation",
    "__version__",
    "annotate",
    "build_report",
    "convert",
    "delete",
    "enrich",
    "export",
    "export_parts",
    "ingest",
    "list_queries",
    "load",
    "load_query",
    "open_store",
    "read_documents",
    "read_raw_texts",
    "run_query",
    "validate",
]

# Names whose modules import heavier dependencies (plotly, SPARQL clients):
# loaded on first use, so that ``import graphbuild`` stays quick.
_LAZY = {
    "DumpSource": "graphbuild.enrichment",
    "Endpoint": "graphbuild.enrichment",
    "EnrichReport": "graphbuild.enrichment",
    "Selection": "graphbuild.enrichment",
    "enrich": "graphbuild.enrichment",
    "ReportSummary": "graphbuild.report",
    "build_report": "graphbuild.report",
    "ValidationReport": "graphbuild.validation",
    "Violation": "graphbuild.validation",
    "validate": "graphbuild.validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graphbuild' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)
