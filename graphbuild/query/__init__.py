"""Asking the store: canned queries and how results are written.

    canned   ``queries/NAME.rq`` files: parameters bound as terms, pages, listing
    results  tables for people; CSV, TSV, JSON, NDJSON for programs, streamed
"""
