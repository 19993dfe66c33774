"""``graphbuild validate``: every document graph against the shipped SHACL shapes.

    checks  one batch of document graphs through pyshacl, and the anchor-slice check
    run     reading the store's document graphs in batches, the report and its renderings
"""

from graphbuild.validation.run import (
    ANCHOR_SLICE,
    SHAPES,
    ReportFormat,
    ValidationReport,
    Violation,
    render_json,
    render_table,
    validate,
)

__all__ = ["ANCHOR_SLICE", "SHAPES", "ReportFormat", "ValidationReport", "Violation", "render_json", "render_table", "validate"]
