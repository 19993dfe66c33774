"""``graphbuild validate``: every document graph against the shipped SHACL shapes.

    shapes  shapes/nif.ttl compiled into rules, refusing SHACL the checker does not implement
    checks  one document graph against those rules, and the anchor-slice check
    run     reading the store's document graphs (in worker processes on disk), the report
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
