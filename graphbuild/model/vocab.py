"""Namespaces, prefixes, and every term of graphbuild's graph (docs/model.md).

The one vocabulary module: each term is a constant here (a pyoxigraph ``NamedNode``;
``.value`` is its IRI) and nowhere else. The project namespace lives here too.
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

# The terms of the model.
RDF_TYPE = NamedNode(RDF + "type")
RDFS_LABEL = NamedNode(RDFS + "label")
OWL_SAME_AS = NamedNode(OWL + "sameAs")
OWL_THING = NamedNode(OWL + "Thing")
NIF_CONTEXT = NamedNode(NIF + "Context")
NIF_PHRASE = NamedNode(NIF + "Phrase")
NIF_STRING = NamedNode(NIF + "String")
NIF_RFC5147_STRING = NamedNode(NIF + "RFC5147String")
NIF_ANNOTATION = NamedNode(NIF + "Annotation")
NIF_IS_STRING = NamedNode(NIF + "isString")
NIF_BEGIN_INDEX = NamedNode(NIF + "beginIndex")
NIF_END_INDEX = NamedNode(NIF + "endIndex")
NIF_ANCHOR_OF = NamedNode(NIF + "anchorOf")
NIF_REFERENCE_CONTEXT = NamedNode(NIF + "referenceContext")
NIF_SOURCE_URL = NamedNode(NIF + "sourceUrl")
NIF_TOPIC = NamedNode(NIF + "topic")
ITS_TA_IDENT_REF = NamedNode(ITSRDF + "taIdentRef")
ITS_TA_CONFIDENCE = NamedNode(ITSRDF + "taConfidence")
ITS_TA_CLASS_REF = NamedNode(ITSRDF + "taClassRef")
ITS_TA_ANNOTATORS_REF = NamedNode(ITSRDF + "taAnnotatorsRef")
SCHEMA_SCHOLARLY_ARTICLE = NamedNode(SCHEMA + "ScholarlyArticle")
SCHEMA_MENTIONS = NamedNode(SCHEMA + "mentions")
SCHEMA_NAME = NamedNode(SCHEMA + "name")
DCTERMS_IDENTIFIER = NamedNode(DCTERMS + "identifier")
DCTERMS_SUBJECT = NamedNode(DCTERMS + "subject")
PROV_ENTITY = NamedNode(PROV + "Entity")
PROV_ACTIVITY = NamedNode(PROV + "Activity")
PROV_SOFTWARE_AGENT = NamedNode(PROV + "SoftwareAgent")
PROV_GENERATED_AT_TIME = NamedNode(PROV + "generatedAtTime")
PROV_WAS_GENERATED_BY = NamedNode(PROV + "wasGeneratedBy")
PROV_WAS_DERIVED_FROM = NamedNode(PROV + "wasDerivedFrom")
PROV_STARTED_AT_TIME = NamedNode(PROV + "startedAtTime")
PROV_WAS_ASSOCIATED_WITH = NamedNode(PROV + "wasAssociatedWith")
DBO_ABSTRACT = NamedNode(DBO + "abstract")
DBO_WIKI_PAGE_REDIRECTS = NamedNode(DBO + "wikiPageRedirects")
DBO_WIKI_PAGE_DISAMBIGUATES = NamedNode(DBO + "wikiPageDisambiguates")
XSD_STRING = NamedNode(XSD + "string")
XSD_BOOLEAN = NamedNode(XSD + "boolean")
XSD_INTEGER = NamedNode(XSD + "integer")
XSD_NON_NEGATIVE_INTEGER = NamedNode(XSD + "nonNegativeInteger")
XSD_DOUBLE = NamedNode(XSD + "double")
XSD_DATE_TIME = NamedNode(XSD + "dateTime")

# graphbuild's own terms, for what no standard vocabulary says.
# Spotlight's per-link scores: the resource's prior in-link count and how close the
# runner-up candidate came (@percentageOfSecondRank).
SUPPORT = NamedNode(GB + "support")
SECOND_RANK = NamedNode(GB + "percentageOfSecondRank")
# A mention placed by offset recovery, and one whose place was a guess among several.
OFFSETS_INFERRED = NamedNode(GB + "offsetsInferred")
AMBIGUOUS_PLACEMENT = NamedNode(GB + "ambiguousPlacement")
# The surface form of a link with no place in the text (on its nif:Annotation).
SURFACE_FORM = NamedNode(GB + "surfaceForm")
# Provenance of a document graph and of a run, in the metadata graph.
CONTENT_HASH = NamedNode(GB + "contentHash")
TOOL_VERSION = NamedNode(GB + "toolVersion")
MIN_CONFIDENCE = NamedNode(GB + "minConfidence")
# How `graphbuild annotate` made a document's links (graphbuild.pipeline.annotate): the
# /annotate URL asked, the parameters sent, the seconds its answers took, and a digest of
# the text and those settings, looked up before asking again.
ANNOTATION_ENDPOINT = NamedNode(GB + "annotationEndpoint")
ANNOTATION_CONFIDENCE = NamedNode(GB + "annotationConfidence")
ANNOTATION_SUPPORT = NamedNode(GB + "annotationSupport")
ANNOTATION_LANGUAGE = NamedNode(GB + "annotationLanguage")
ANNOTATION_SECONDS = NamedNode(GB + "annotationSeconds")
ANNOTATION_KEY = NamedNode(GB + "annotationKey")
# Per-resource figures (graphbuild.store.figures).
MENTION_COUNT = NamedNode(GB + "mentionCount")
DOCUMENT_COUNT = NamedNode(GB + "documentCount")
CONFIDENCE_COUNT = NamedNode(GB + "confidenceCount")
CONFIDENCE_SUM = NamedNode(GB + "confidenceSum")
MAX_CONFIDENCE = NamedNode(GB + "maxConfidence")
UP_TO_DATE = NamedNode(GB + "upToDate")
# Per-(resource, surface form) figures: a node per pair (model.quads.form_figure_iri) with
# the resource, the form, and the pair's mention and document counts.
FORM_OF = NamedNode(GB + "formOf")
FORM = NamedNode(GB + "form")
FORM_MENTION_COUNT = NamedNode(GB + "formMentionCount")
FORM_DOCUMENT_COUNT = NamedNode(GB + "formDocumentCount")

DEFAULT_BASE = "https://w3id.org/graphbuild/doc/"
METADATA_GRAPH = NamedNode("https://w3id.org/graphbuild/graph/metadata")
# What DBpedia says about a linked resource lives in a graph of its own under this IRI
# (model.quads.enrichment_graph), so one store.replace refreshes one resource whole; its fetch
# record (time, source, what was asked) sits in the metadata graph like a document's.
ENRICHMENT_GRAPH = NamedNode("https://w3id.org/graphbuild/graph/enrichment")
ENRICHMENT_OF = NamedNode(GB + "enrichmentOf")
ENRICHED_ASPECT = NamedNode(GB + "enrichedAspect")
ENRICHED_LANGUAGE = NamedNode(GB + "enrichedLanguage")
FOUND = NamedNode(GB + "found")
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
