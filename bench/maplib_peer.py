"""The benchmark corpus's graph with maplib: OTTR templates over Polars frames of the
documents and mentions (bench/generate.py's tables/), written as N-Triples.

    python bench/maplib_peer.py TABLES_DIR OUT.nt

The same triples graphbuild writes for each document (article, context, mentions,
phrases with their links), but maplib writes one graph: no named graph per document, so
no provenance about each graph (the metadata graph), and no per-resource figures. Its
integers are xsd:long where graphbuild writes xsd:nonNegativeInteger (the values are
the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
from maplib import Model

T = "https://w3id.org/graphbuild/templates#"
TEMPLATES = """
@prefix t: <https://w3id.org/graphbuild/templates#> .
@prefix ottr: <http://ns.ottr.xyz/0.4/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix schema: <http://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> .
@prefix itsrdf: <http://www.w3.org/2005/11/its/rdf#> .
@prefix gb: <https://w3id.org/graphbuild/ns#> .

t:Document [ ottr:IRI ?doc, xsd:string ?id, ottr:IRI ?context, xsd:string ?text, xsd:long ?length ] :: {
  ottr:Triple(?doc, rdf:type, schema:ScholarlyArticle),
  ottr:Triple(?doc, dcterms:identifier, ?id),
  ottr:Triple(?context, rdf:type, nif:Context),
  ottr:Triple(?context, rdf:type, nif:String),
  ottr:Triple(?context, rdf:type, nif:RFC5147String),
  ottr:Triple(?context, nif:isString, ?text),
  ottr:Triple(?context, nif:beginIndex, 0),
  ottr:Triple(?context, nif:endIndex, ?length),
  ottr:Triple(?context, nif:sourceUrl, ?doc),
  ottr:Triple(?context, itsrdf:taAnnotatorsRef, <http://model.dbpedia-spotlight.org>),
  ottr:Triple(?context, gb:offsetsInferred, true)
} .

t:Mentions [ ottr:IRI ?doc, ottr:IRI ?uri ] :: {
  ottr:Triple(?doc, schema:mentions, ?uri)
} .

t:Phrase [ ottr:IRI ?node, ottr:IRI ?context, xsd:string ?surface, xsd:long ?begin, xsd:long ?end,
           ottr:IRI ?uri, xsd:double ?confidence ] :: {
  ottr:Triple(?node, rdf:type, nif:Phrase),
  ottr:Triple(?node, nif:referenceContext, ?context),
  ottr:Triple(?node, nif:anchorOf, ?surface),
  ottr:Triple(?node, nif:beginIndex, ?begin),
  ottr:Triple(?node, nif:endIndex, ?end),
  ottr:Triple(?node, itsrdf:taIdentRef, ?uri),
  ottr:Triple(?node, itsrdf:taConfidence, ?confidence)
} .
"""
DOC = "https://w3id.org/graphbuild/doc/"


def main() -> None:
    tables, out = Path(sys.argv[1]), Path(sys.argv[2])
    documents = pl.read_csv(tables / "documents.csv", schema_overrides={"id": pl.String, "text": pl.String, "length": pl.Int64})
    mentions = pl.read_csv(tables / "mentions.csv", schema_overrides={"doc": pl.String, "surface": pl.String, "uri": pl.String})
    doc = pl.lit(DOC) + pl.col("id")
    model = Model()
    model.add_template(TEMPLATES)
    model.map(
        T + "Document",
        documents.select(
            doc.alias("doc"), pl.col("id"), (doc + pl.lit("#char=0,") + pl.col("length").cast(pl.String)).alias("context"),
            pl.col("text"), pl.col("length"),
        ),
    )
    with_doc = mentions.with_columns((pl.lit(DOC) + pl.col("doc")).alias("doc"))
    model.map(T + "Mentions", with_doc.select("doc", "uri").unique(maintain_order=True))
    model.map(
        T + "Phrase",
        with_doc.select(
            (pl.col("doc") + pl.lit("#char=") + pl.col("begin").cast(pl.String) + pl.lit(",") + pl.col("end").cast(pl.String)).alias("node"),
            (pl.col("doc") + pl.lit("#char=0,") + pl.col("length").cast(pl.String)).alias("context"),
            pl.col("surface"), pl.col("begin"), pl.col("end"), pl.col("uri"), pl.col("confidence"),
        ),
    )
    model.write(str(out), format="ntriples")


if __name__ == "__main__":
    main()
