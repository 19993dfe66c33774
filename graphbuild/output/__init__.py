"""Files written for other tools: RDF exports and N-Quads parts for bulk loaders.

    rdf       the store, or one document, in Turtle, N-Triples, N-Quads, TriG, JSON-LD
    parts     N-Quads part files, split and optionally gzipped, each written whole
    manifest  ``_SUCCESS.json``, written last: the folder of parts is complete
"""
