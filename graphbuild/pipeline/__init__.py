"""The runs that build the graph, each a library verb the CLI calls.

    prepare   read, place, model: everything before the store, one outcome per document
    offsets   character offsets recovered for links that carry none
    ingest    prepared documents into a store, each one whole
    annotate  raw texts through DBpedia Spotlight, then as ingest
    convert   documents to N-Quads parts with no store, here or on a Dask cluster
    load      part files into a new embedded store with the bulk loader
    delete    documents out of a store, with their share of the figures
"""
