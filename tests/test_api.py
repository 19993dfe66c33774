"""The public library: ``graphbuild.__all__`` is complete, resolves, and imports lightly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import graphbuild
from graphbuild.cli import build, publish, read

# What each command calls: the verbs a library user needs are the ones the CLI uses.
COMMAND_VERBS = {
    "ingest": (build, "ingest_documents", "ingest"),
    "annotate": (build, "annotate_texts", "annotate"),
    "convert": (build, "convert_documents", "convert"),
    "delete": (build, "delete_documents", "delete"),
    "load": (build, "load_parts", "load"),
    "export": (read, "export_store", "export"),
    "export --split": (read, "export_parts", "export_parts"),
    "query": (read, "run", "run_query"),
    "query NAME": (read, "load_query", "load_query"),
    "queries": (read, "list_queries", "list_queries"),
    "serve": (publish, "serve_store", None),
}


def test_every_public_name_resolves() -> None:
    missing = [name for name in graphbuild.__all__ if not hasattr(graphbuild, name)]
    assert missing == []
    assert sorted(graphbuild.__all__) == graphbuild.__all__


def test_the_commands_call_the_public_verbs() -> None:
    for command, (module, used, public) in COMMAND_VERBS.items():
        if public is None:
            continue
        assert public in graphbuild.__all__, command
        assert getattr(module, used) is getattr(graphbuild, public), command


def test_lazy_verbs_are_the_packages_functions() -> None:
    import graphbuild.enrichment
    import graphbuild.report
    import graphbuild.validation

    assert graphbuild.validate is graphbuild.validation.validate
    assert graphbuild.enrich is graphbuild.enrichment.enrich
    assert graphbuild.build_report is graphbuild.report.build_report


def test_import_is_light() -> None:
    # pyshacl, plotly and jinja2 load only with validate and report; Dask and fsspec only for a cluster or a URL.
    code = "import sys, graphbuild; print(sorted(m for m in ('pyshacl', 'plotly', 'jinja2', 'distributed', 'fsspec') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_says_it_is_typed() -> None:
    assert (Path(graphbuild.__file__).parent / "py.typed").is_file()
