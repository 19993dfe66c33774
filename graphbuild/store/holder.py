"""Who holds an embedded store: a small record in the store's folder, for the message
another process gets when it finds the store locked.

RocksDB's lock says only that some process holds the store. Whoever opens it for writing
(an ingest, a delete, ``graphbuild serve`` for its server) writes ``holder.json`` beside
RocksDB's files with its pid, its command line and, for a server, where it answers; it
removes the record when it lets go. A record whose process is gone (killed) is stale and
is ignored, then overwritten by the next holder.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from graphbuild.workers.processes import alive

__all__ = ["HOLDER_FILE", "Holder", "command_line", "forget", "held_by", "record"]

HOLDER_FILE = "holder.json"


@dataclass(frozen=True, slots=True)
class Holder:
    """A process that has a store open for writing."""

    pid: int
    command: str
    since: str
    # For a server: its URL, and whether it takes writes.
    url: str | None = None
    writable: bool = False

    def describe(self) -> str:
        """``graphbuild ingest seeds (pid 4242, since 10:02:03)``."""
        return f"`{self.command}` (pid {self.pid}, since {self.since[11:19]})"


def command_line() -> str:
    """This process's command line as a user typed it (``graphbuild ingest seeds``)."""
    argv = list(sys.argv) or ["python"]
    first = Path(argv[0])
    # ``python -m graphbuild`` runs graphbuild/__main__.py: it is still graphbuild.
    name = "graphbuild" if first.name == "__main__.py" or first.stem == "graphbuild" else first.name
    return " ".join([name, *argv[1:]])


def record(folder: Path, *, url: str | None = None, writable: bool = False, pid: int | None = None) -> None:
    """Note this process (or ``pid``) as the holder of the store in ``folder``."""
    holder = Holder(pid or os.getpid(), command_line(), datetime.now(timezone.utc).isoformat(), url, writable)
    path = folder / HOLDER_FILE
    temporary = path.with_name(f".{HOLDER_FILE}.{os.getpid()}")
    try:
        temporary.write_text(json.dumps(asdict(holder)), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # only a message depends on it


def forget(folder: Path, *, pid: int | None = None) -> None:
    """Remove the record if it names this process (or ``pid``)."""
    found = _read(folder)
    if found is not None and found.pid == (pid or os.getpid()):
        try:
            (folder / HOLDER_FILE).unlink()
        except OSError:
            pass


def held_by(folder: Path) -> Holder | None:
    """The live process the record names, or None (no record, or its process is gone)."""
    found = _read(folder)
    if found is None or found.pid == os.getpid() or not alive(found.pid):
        return None
    return found


def _read(folder: Path) -> Holder | None:
    try:
        data = json.loads((folder / HOLDER_FILE).read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["command"]), str(data["since"]), data.get("url"), bool(data.get("writable")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
