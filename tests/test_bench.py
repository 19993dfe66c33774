"""A smoke run of the benchmark runner (figures are never asserted: benchmarks are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_runner_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--documents", "40", "--repeat", "1", "--work", str(tmp_path), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "| | 40 docs |"
    labels = [line.split(" | ")[0].lstrip("| ") for line in lines[2:]]
    assert labels[:5] == ["quads", "(a) graphbuild ingest", "(b) limit: bulk_load of ready N-Quads", "a/b (target ≥ 0.8)", "(c) rdflib build + serialise"]
    figures = json.loads(out.read_text())["40"]
    # the runner measured the same corpus three ways: every path wrote every quad
    assert figures["quads"] == sum(1 for _ in (tmp_path / "40" / "export.nq").open())
    assert {"top-entities", "document-mentions"} <= set(figures["queries"])
