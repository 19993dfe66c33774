from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from graphbuild.pipeline.ingest import ingest
from graphbuild.store.embedded import EmbeddedStore

# A run started in the background by a shell (`pytest &`, nohup) inherits SIGINT ignored,
# and so would every command the tests start and then stop as Ctrl-C does: caught here, it
# is back to its default in those commands.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

if TYPE_CHECKING:
    from servers import VirtuosoServer

pytest_plugins = ["servers"]  # real SPARQL servers and fault servers (tests/servers.py)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The stand-in Spotlight lives among the test data, where the docs' examples find it too.
sys.path.insert(0, str(DATA / "spotlight"))
SEEDS = ROOT / "seeds"
SEED = SEEDS / "000_70018b3530a68054.txt"
SEED_NIF = DATA / "seed-nif" / "6a999a4d423d02b92a41b4226eb2.conf045.nif.ttl"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """A fresh on-disk Oxigraph store in a temporary folder."""
    with EmbeddedStore.open(tmp_path / "store") as graph_store:
        yield graph_store


@pytest.fixture
def seed_store(store: EmbeddedStore) -> EmbeddedStore:
    """The store with the seed document ingested."""
    report = ingest([SEED], store=store)
    assert (report.loaded, report.failed) == (1, 0)
    return store


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """The folder of a closed store with the seed document ingested (for commands that open it)."""
    location = tmp_path / "store"
    with EmbeddedStore.open(location) as graph_store:
        assert ingest([SEED], store=graph_store).loaded == 1
    return location


@pytest.fixture(scope="session")
def writable_virtuoso(virtuoso_server: VirtuosoServer) -> VirtuosoServer:
    """The session's Virtuoso with anonymous SPARQL update and Graph Store writes allowed,
    as a local server for graphbuild may be set up."""
    virtuoso_server.isql("GRANT SPARQL_UPDATE TO \"SPARQL\";\nDB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);\n")
    return virtuoso_server
