"""The naive peer: the same graph built with rdflib from the summary files, then serialised.

    python bench/rdflib_peer.py SUMMARY_DIR OUT.nq

It reuses graphbuild's reader and offset recovery (so that both build the same graph) and
builds the NIF quads with rdflib terms in a Dataset, as a plain rdflib program would.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from urllib.parse import quote

from rdflib import Dataset, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from graphbuild.model.records import Document
from graphbuild.model.vocab import DEFAULT_BASE
from graphbuild.pipeline.offsets import place_links
from graphbuild.readers import read_documents

NIF = Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
ITS = Namespace("http://www.w3.org/2005/11/its/rdf#")
SCHEMA = Namespace("http://schema.org/")
DCT = Namespace("http://purl.org/dc/terms/")
GB = Namespace("https://w3id.org/graphbuild/ns#")


def main() -> None:
    dataset = Dataset()
    for item in read_documents([sys.argv[1]]):
        if isinstance(item, Document):
            add(dataset, replace(item, links=place_links(item.text, item.links)))
    dataset.serialize(destination=sys.argv[2], format="nquads")


def add(dataset: Dataset, doc: Document) -> None:
    iri = URIRef(DEFAULT_BASE + quote(doc.id, safe="-._~"))
    graph = dataset.graph(iri)
    context = URIRef(f"{iri}#char=0,{len(doc.text)}")
    graph.add((iri, RDF.type, SCHEMA.ScholarlyArticle))
    graph.add((iri, DCT.identifier, Literal(doc.id)))
    for link in doc.links:
        graph.add((iri, SCHEMA.mentions, URIRef(link.resource)))
    for cls in (NIF.Context, NIF.String, NIF.RFC5147String):
        graph.add((context, RDF.type, cls))
    graph.add((context, NIF.isString, Literal(doc.text)))
    graph.add((context, NIF.beginIndex, Literal(0, datatype=XSD.nonNegativeInteger)))
    graph.add((context, NIF.endIndex, Literal(len(doc.text), datatype=XSD.nonNegativeInteger)))
    graph.add((context, NIF.sourceUrl, iri))
    # The store's lean form (docs/model.md): the annotator and the flag (every phrase of a
    # summary is placed by offset recovery) once on the context, phrases typed nif:Phrase only.
    graph.add((context, ITS.taAnnotatorsRef, URIRef(doc.annotator or "")))
    graph.add((context, GB.offsetsInferred, Literal(True)))
    for link in doc.links:
        phrase = URIRef(f"{iri}#char={link.begin},{link.end}")
        graph.add((phrase, RDF.type, NIF.Phrase))
        graph.add((phrase, NIF.referenceContext, context))
        graph.add((phrase, NIF.anchorOf, Literal(link.surface)))
        graph.add((phrase, NIF.beginIndex, Literal(link.begin, datatype=XSD.nonNegativeInteger)))
        graph.add((phrase, NIF.endIndex, Literal(link.end, datatype=XSD.nonNegativeInteger)))
        graph.add((phrase, ITS.taIdentRef, URIRef(link.resource)))
        graph.add((phrase, ITS.taConfidence, Literal(link.confidence, datatype=XSD.double)))


if __name__ == "__main__":
    main()
