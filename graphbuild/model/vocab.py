"""Namespaces, prefixes and the fixed IRIs of graphbuild's graph (MODEL.md).

The project namespace lives here and nowhere else.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

NIF = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
ITSRDF = "http://www.w3.org/2005/11/its/rdf#"
SCHEMA = "http://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
VOID = "http://rdfs.org/ns/void#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
DBR = "http://dbpedia.org/resource/"
DBO = "http://dbpedia.org/ontology/"
GB = "https://w3id.org/graphbuild/ns#"

PREFIXES: dict[str, str] = {
    "nif": NIF,
    "itsrdf": ITSRDF,
    "schema": SCHEMA,
    "dcterms": DCTERMS,
    "prov": PROV,
    "void": VOID,
    "xsd": XSD,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "dbr": DBR,
    "dbo": DBO,
    "gb": GB,
}

# Spotlight's per-link scores, which no standard vocabulary has (MODEL.md): the resource's
# prior in-link count and how close the runner-up candidate came (@percentageOfSecondRank).
SUPPORT = GB + "support"
SECOND_RANK = GB + "percentageOfSecondRank"

DEFAULT_BASE = "https://w3id.org/graphbuild/doc/"
METADATA_GRAPH = NamedNode("https://w3id.org/graphbuild/graph/metadata")
# What DBpedia says about a linked resource lives in a graph of its own under this IRI
# (model.enrichment_graph), so one store.replace refreshes one resource whole; its fetch
# record (time, source, what was asked) sits in the metadata graph like a document's.
ENRICHMENT_GRAPH = NamedNode("https://w3id.org/graphbuild/graph/enrichment")
ENRICHMENT_OF = GB + "enrichmentOf"
ENRICHED_ASPECT = GB + "enrichedAspect"
ENRICHED_LANGUAGE = GB + "enrichedLanguage"
FOUND = GB + "found"
# Per-resource figures (mentions, documents, confidences) kept current by every write, so
# that ranking resources reads a few triples each instead of every mention (graphbuild.store.figures).
FIGURES_GRAPH = NamedNode("https://w3id.org/graphbuild/graph/figures")
SPOTLIGHT = NamedNode("http://model.dbpedia-spotlight.org")
TOOL = NamedNode("https://w3id.org/graphbuild/tool")


def sparql_prologue() -> str:
    """PREFIX lines for every prefix above, for queries that use them."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def expand(name: str) -> str:
    """``dbr:Pain`` -> full IRI; anything without a known prefix is returned as is."""
    prefix, sep, local = name.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return name


def compact(iri: str) -> str:
    """The shortest prefixed name for ``iri``, or ``<iri>`` when no prefix fits."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    if best:
        return f"{best}:{iri[len(PREFIXES[best]):]}"
    return f"<{iri}>"
