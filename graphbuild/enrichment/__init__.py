"""DBpedia enrichment: what DBpedia knows about every linked resource, kept beside the documents.

    query   the batch SELECT and how its rows become triples
    fetch   a SPARQL endpoint through SPARQLWrapper: retries, backoff, deadlines, partial answers
    dumps   local dump files (``--from``) answering the same queries
    cache   what is already enriched, and the quads a fetched batch writes
    run     rounds and batches, the report
"""

from graphbuild.enrichment.dumps import DumpSource
from graphbuild.enrichment.fetch import DEFAULT_ENDPOINT, Endpoint, FetchError, RetryPolicy
from graphbuild.enrichment.query import Aspect, Selection, parse_aspects, parse_languages
from graphbuild.enrichment.run import BATCH_SIZE, EnrichReport, enrich

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_ENDPOINT",
    "Aspect",
    "DumpSource",
    "Endpoint",
    "EnrichReport",
    "FetchError",
    "RetryPolicy",
    "Selection",
    "enrich",
    "parse_aspects",
    "parse_languages",
]
