"""The store's own limit: pyoxigraph bulk-loading a ready N-Quads file (or dumping a store).

    python bench/limit.py FILE.nq STORE_DIR
    python bench/limit.py --dump STORE_DIR OUT.nq
"""

from __future__ import annotations

import sys

import pyoxigraph


def main() -> None:
    if sys.argv[1] == "--dump":
        store = pyoxigraph.Store.read_only(sys.argv[2])
        # Through a file object, as graphbuild's export writes: the path form cannot write to /dev/null.
        with open(sys.argv[3], "wb") as out:
            store.dump(out, pyoxigraph.RdfFormat.N_QUADS)
        return
    store = pyoxigraph.Store(sys.argv[2])
    store.bulk_load(path=sys.argv[1], format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()


if __name__ == "__main__":
    main()
