"""The model: what a document is, and the RDF it becomes.

    records  plain records passed between readers, the model and the store
    vocab    namespaces, prefixes and every term of graphbuild's graph
    quads    documents to quads: the one place that mints IRIs
"""
