"""How fast annotate goes against a Spotlight that takes a given time per answer.

    python bench/annotate_speed.py [--documents 1000] [--latency 0 --latency 0.05] [--concurrency 1 --concurrency 4]

Spotlight cannot run here, so the tests' stand-in (tests/data/spotlight/spotlight_standin.py) serves on
127.0.0.1 from another process, answering every request ``--latency`` seconds late with
Berlin's recorded answer (565 characters, 16 resources): each of the N documents of a JSON
Lines file has that text under its own id. For each latency and concurrency,
``graphbuild.pipeline.annotate.annotate`` runs in this process into a fresh on-disk store
(documents per second of wall time, and CPU milliseconds per document of this process, its
threads included: graphbuild's own cost, whatever else the machine runs), then once more
over the same store, where every document is skipped without a request (the key lookup
alone). Figures are the median of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "spotlight"))

from spotlight_standin import recorded  # noqa: E402

from graphbuild.pipeline.annotate import annotate  # noqa: E402
from graphbuild.spotlight import SpotlightSettings  # noqa: E402
from graphbuild.store.embedded import EmbeddedStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--latency", type=float, action="append", help="seconds per answer (repeatable); default 0 and 0.05")
    parser.add_argument("--concurrency", type=int, action="append", help="requests at once (repeatable); default 1 and 4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="graphbuild-annotate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    berlin = recorded("berlin")[0]
    texts = work / "texts.jsonl"
    with texts.open("w", encoding="utf-8") as out:
        for n in range(args.documents):
            out.write(json.dumps({"id": f"doc-{n}", "text": berlin["@text"]}, ensure_ascii=False) + "\n")
    print(f"{args.documents} documents of {len(berlin['@text'])} characters, {len(berlin['Resources'])} mentions each")
    print(f"{'latency s':>10} {'concurrency':>12} {'docs/s':>8} {'CPU ms/doc':>11} {'rerun docs/s':>13}")
    for latency in args.latency or [0.0, 0.05]:
        port = _free_port()
        server = _serve(port, latency)
        try:
            for concurrency in args.concurrency or [1, 4]:
                settings = SpotlightSettings(f"http://127.0.0.1:{port}/rest", confidence=0.0)
                walls, cpus, reruns = [], [], []
                for attempt in range(args.repeat):
                    folder = work / f"store-{latency}-{concurrency}-{attempt}"
                    shutil.rmtree(folder, ignore_errors=True)
                    with EmbeddedStore.open(folder) as store:
                        started, cpu = time.perf_counter(), _cpu()
                        report = annotate([texts], spotlight=settings, store=store, concurrency=concurrency)
                        walls.append(time.perf_counter() - started)
                        cpus.append(_cpu() - cpu)
                        assert report.loaded == args.documents and report.mentions == args.documents * 16, report.summary()
                        started = time.perf_counter()
                        again = annotate([texts], spotlight=settings, store=store, concurrency=concurrency)
                        reruns.append(time.perf_counter() - started)
                        assert again.unchanged == args.documents and again.requests == 0, again.summary()
                    shutil.rmtree(folder, ignore_errors=True)
                wall, cpu, rerun = (statistics.median(values) for values in (walls, cpus, reruns))
                print(
                    f"{latency:>10g} {concurrency:>12} {args.documents / wall:>8,.0f} {cpu / args.documents * 1000:>11.2f} "
                    f"{args.documents / rerun:>13,.0f}",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait()
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _serve(port: int, latency: float) -> subprocess.Popen[bytes]:
    """The stand-in in a process of its own, answering ``latency`` seconds late; ready when this returns."""
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]);"
        "from spotlight_standin import StandInSpotlight, recorded;"
        "StandInSpotlight(recorded('berlin'), port=int(sys.argv[2]), slow={'': float(sys.argv[3])});"
        "print('ready', flush=True); sys.stdin.read()"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code, str(ROOT / "tests" / "data" / "spotlight"), str(port), str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert server.stdout is not None and server.stdout.readline() == b"ready\n"
    return server


if __name__ == "__main__":
    main()
