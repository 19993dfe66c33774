"""``graphbuild report``: a static site over the store, readable from disk with no server.

An index with counts and charts, a page per document with its mentions highlighted, a page
per resource and the co-mention network; see ``build_report``.
"""

from __future__ import annotations

from graphbuild.report.build import DEFAULT_TOP, ReportSummary, build_report

__all__ = ["DEFAULT_TOP", "ReportSummary", "build_report"]
